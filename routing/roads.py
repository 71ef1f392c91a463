"""The drivable road network: loading, snapping points to edges, exact shortest paths.

Conventions (osmnx): the graph is a ``networkx.MultiDiGraph`` in WGS84
(EPSG:4326, node attributes ``x`` = longitude, ``y`` = latitude), every edge has
``length`` (metres), ``speed_kph`` (km/h) and ``travel_time`` (seconds). One-way
streets are a single directed edge; two-way streets are two edges with the same
geometry in opposite directions.

A point (an RMU's access point, a crew's GPS position) is snapped once to the
nearest drivable *edge*, not node: the vehicle reaches the point after the
fraction of the edge's travel time up to the point, and leaves it towards the
edge's head (and, on a two-way street, also towards its tail). Matrices and
paths handle these partial edges exactly.

Nothing here touches the network except :func:`roads_from_place` and
:func:`roads_from_bbox`, which call osmnx (Overpass) on purpose.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from routing.errors import RoadNetworkError, RoutingInputError, UnknownLocationError

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MAX_SNAP_M",
    "DEFAULT_SPEEDS_KPH",
    "LoadReport",
    "Location",
    "RoadNetwork",
    "RoadPath",
    "SnappedPoint",
    "load_roads",
    "roads_from_bbox",
    "roads_from_place",
]

#: Free-flow speeds (km/h) by OSM ``highway`` class, used where an edge has no
#: ``maxspeed``. Urban European defaults; pass ``hwy_speeds`` to override.
DEFAULT_SPEEDS_KPH: dict[str, float] = {
    "motorway": 90.0,
    "motorway_link": 45.0,
    "trunk": 70.0,
    "trunk_link": 40.0,
    "primary": 50.0,
    "primary_link": 40.0,
    "secondary": 45.0,
    "secondary_link": 35.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "road": 30.0,
    "living_street": 10.0,
    "service": 15.0,
    "busway": 30.0,
    "escape": 20.0,
    "track": 15.0,
}
#: Speed (km/h) for highway classes missing from the table and without maxspeed.
FALLBACK_SPEED_KPH = 30.0
#: Points farther than this from every drivable edge are "off the road network".
DEFAULT_MAX_SNAP_M = 250.0
#: Smallest travel time given to an edge (s): csgraph needs strictly positive weights.
_MIN_EDGE_TIME_S = 1e-3
_EARTH_RADIUS_M = 6_371_008.8
#: A snapped point this close (metres) to an edge end is at that node.
_AT_NODE_M = 0.01
#: Largest distance block one dijkstra call may return (bytes); sources go in chunks.
_MATRIX_BLOCK_BYTES = 256 * 2**20
#: Matrix set-ups (link arrays, augmented CSRs, gathers) kept per road network, keyed by
#: the snapped positions of the origins and destinations (least recently used dropped).
_MATRIX_CACHE_SIZE = 8


@dataclass(frozen=True)
class _Link:
    """A point's connection to a graph node: along edge ``edge`` from fraction f0 to f1."""

    node: int
    seconds: float
    metres: float
    edge: int = -1
    f0: float = 0.0
    f1: float = 0.0


@dataclass
class _MatrixPlan:
    """Everything :meth:`RoadNetwork.matrix` derives from one (origins, destinations) set.

    Built once per distinct pair of snapped point sets and kept in the network's
    bounded LRU (``RoadNetwork._matrix_cache``); read-only once built, except for
    ``aug``, the augmented CSR per source chunk, filled on first use.
    """

    n_o: int  # origins / destinations as given (before removing repeats)
    n_d: int
    inv_o: np.ndarray | None  # index into the distinct points; None when all distinct
    inv_d: np.ndarray | None
    reverse: bool  # search the reversed graph from the destinations
    src_nodes: np.ndarray  # link arrays of the searched-from side (S x K)
    src_s: np.ndarray
    src_m: np.ndarray
    dst_nodes: np.ndarray  # link arrays of the other side (T x K)
    dst_s: np.ndarray
    dst_m: np.ndarray
    # the gather, with destinations sorted by their number of links (most first):
    # link k exists for the first len(level_nodes[k]) sorted destinations
    level_nodes: list[np.ndarray]
    level_s: list[np.ndarray]
    unsort: np.ndarray | None  # sorted position of each destination; None if unchanged
    same_i: np.ndarray  # direct trips along one directed edge (origin, dest, s, m)
    same_j: np.ndarray
    same_s: np.ndarray
    same_m: np.ndarray
    # one-block search without lengths: a source with a single link starts at that
    # node (its seconds added afterwards); the others get a virtual source row
    fast_aug: csr_matrix
    fast_indices: np.ndarray  # dijkstra sources: base nodes, then the virtual rows
    fast_row: np.ndarray | None  # row of each source point in the result; None if identity
    fast_offset: np.ndarray  # seconds to add to that row (S x 1)
    aug: dict[tuple[int, int], csr_matrix] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadReport:
    """What :func:`load_roads` kept and dropped."""

    source: str
    nodes_in: int
    edges_in: int
    nodes_kept: int
    edges_kept: int
    components_dropped: int
    access_points_snapped: int = 0
    access_points_off_network: tuple[str, ...] = ()

    @property
    def nodes_dropped(self) -> int:
        return self.nodes_in - self.nodes_kept

    @property
    def edges_dropped(self) -> int:
        return self.edges_in - self.edges_kept

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "nodes_in": self.nodes_in,
            "edges_in": self.edges_in,
            "nodes_kept": self.nodes_kept,
            "edges_kept": self.edges_kept,
            "nodes_dropped": self.nodes_dropped,
            "edges_dropped": self.edges_dropped,
            "components_dropped": self.components_dropped,
            "access_points_snapped": self.access_points_snapped,
            "access_points_off_network": list(self.access_points_off_network),
        }


@dataclass(frozen=True)
class SnappedPoint:
    """A point snapped to the nearest drivable edge.

    ``lon``/``lat`` is the input point and ``road_lon``/``road_lat`` its
    projection on the road (WGS84 degrees); ``snap_distance_m`` the distance
    between them (metres). ``edges`` lists ``(edge index, fraction)`` for every
    directed edge running along the snapped street segment (one for a one-way
    street, two for a two-way one), the fraction measured from the edge's tail.
    """

    lon: float
    lat: float
    road_lon: float
    road_lat: float
    snap_distance_m: float
    segment: int
    offset_m: float
    edges: tuple[tuple[int, float], ...]
    id: str | None = None
    name: str | None = None

    _key: tuple[int, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", (self.segment, round(self.offset_m, 3)))

    @property
    def key(self) -> tuple[int, float]:
        """Identity of the position on the road, to the millimetre (ids at one spot share it)."""
        return self._key

    @property
    def geo_uri(self) -> str:
        """RFC 5870 ``geo:lat,lon`` URI of the point (the input point, not the road)."""
        return f"geo:{self.lat:.6f},{self.lon:.6f}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "lon": self.lon,
            "lat": self.lat,
            "road_lon": self.road_lon,
            "road_lat": self.road_lat,
            "snap_distance_m": round(self.snap_distance_m, 2),
        }


#: Where a crew goes: an access-point id, ``(lon, lat)`` in WGS84, or a snapped point.
Location = str | tuple[float, float] | SnappedPoint


@dataclass(frozen=True)
class RoadPath:
    """A driven path between two snapped points.

    ``coords`` are ``(lon, lat)`` pairs in WGS84, from the origin's road point to
    the destination's; ``travel_time_s`` in seconds, ``length_m`` in metres.
    """

    travel_time_s: float
    length_m: float
    coords: tuple[tuple[float, float], ...]
    nodes: tuple[int, ...] = field(default=(), repr=False)

    def linestring(self) -> shapely.LineString | None:
        """The path as a shapely LineString (WGS84), or None for a zero-length path."""
        pts = _dedupe_coords(self.coords)
        return shapely.LineString(pts) if len(pts) >= 2 else None


class RoadNetwork:
    """A drivable road graph with snapping, exact matrices and paths.

    Build it with :func:`load_roads`. The graph is the largest strongly
    connected component of the input (every node reaches every other), so every
    snapped point can reach every other snapped point. The graph is treated as
    immutable: the sparse matrices used by every query are built once.
    """

    def __init__(
        self,
        graph: nx.MultiDiGraph,
        *,
        report: LoadReport,
        max_snap_m: float = DEFAULT_MAX_SNAP_M,
    ) -> None:
        self.graph = graph
        self.report = report
        self.max_snap_m = float(max_snap_m)
        self.crs = "EPSG:4326"
        self.access: dict[str, SnappedPoint] = {}

        nodes = list(graph.nodes)
        self.node_ids = np.asarray(nodes)
        index = {n: i for i, n in enumerate(nodes)}
        self._node_index = index
        self.node_lon = np.array([float(graph.nodes[n]["x"]) for n in nodes])
        self.node_lat = np.array([float(graph.nodes[n]["y"]) for n in nodes])
        self._lon0 = float(self.node_lon.mean())
        self._lat0 = float(self.node_lat.mean())
        self._kx = _EARTH_RADIUS_M * math.cos(math.radians(self._lat0)) * math.pi / 180.0
        self._ky = _EARTH_RADIUS_M * math.pi / 180.0

        us, vs, times, lengths, keys, geoms = [], [], [], [], [], []
        for u, v, k, data in graph.edges(keys=True, data=True):
            us.append(index[u])
            vs.append(index[v])
            times.append(max(float(data["travel_time"]), _MIN_EDGE_TIME_S))
            lengths.append(float(data["length"]))
            keys.append((u, v, k))
            geom = data.get("geometry")
            if geom is not None and len(geom.coords) >= 2:
                coords = np.asarray(geom.coords, dtype=float)[:, :2]
            else:
                coords = np.array(
                    [
                        [self.node_lon[index[u]], self.node_lat[index[u]]],
                        [self.node_lon[index[v]], self.node_lat[index[v]]],
                    ]
                )
            geoms.append(coords)
        self.edge_u = np.asarray(us, dtype=np.int64)
        self.edge_v = np.asarray(vs, dtype=np.int64)
        self.edge_time_s = np.asarray(times, dtype=float)
        self.edge_length_m = np.asarray(lengths, dtype=float)
        self.edge_keys = keys
        self._edge_lonlat = geoms
        self._edge_xy = [self._to_xy(c) for c in geoms]
        self._edge_cum = [_cumlen(xy) for xy in self._edge_xy]
        self._build_segments()
        self._build_csr()
        self._matrix_cache: OrderedDict[tuple[Any, ...], _MatrixPlan] = OrderedDict()
        self._matrix_lock = threading.Lock()

    # ------------------------------------------------------------------ setup
    def _to_xy(self, lonlat: np.ndarray) -> np.ndarray:
        """WGS84 degrees -> local equirectangular metres (exact inverse in _to_lonlat)."""
        out = np.empty_like(lonlat, dtype=float)
        out[:, 0] = (lonlat[:, 0] - self._lon0) * self._kx
        out[:, 1] = (lonlat[:, 1] - self._lat0) * self._ky
        return out

    def _to_lonlat(self, xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy, dtype=float)
        out[:, 0] = xy[:, 0] / self._kx + self._lon0
        out[:, 1] = xy[:, 1] / self._ky + self._lat0
        return out

    def _build_segments(self) -> None:
        """Group directed edges sharing one street geometry into segments for snapping."""
        seg_of: dict[tuple, int] = {}
        seg_edges: list[list[tuple[int, bool]]] = []
        seg_xy: list[np.ndarray] = []
        for e, lonlat in enumerate(self._edge_lonlat):
            fwd = tuple(map(tuple, np.round(lonlat, 7)))
            rev = fwd[::-1]
            forward = fwd <= rev
            canon = fwd if forward else rev
            s = seg_of.get(canon)
            if s is None:
                s = len(seg_edges)
                seg_of[canon] = s
                seg_edges.append([])
                xy = self._edge_xy[e]
                seg_xy.append(xy if forward else xy[::-1].copy())
            seg_edges[s].append((e, forward))
        self._seg_edges = seg_edges
        self._seg_lines = np.array([shapely.LineString(xy) for xy in seg_xy], dtype=object)
        self._seg_len = shapely.length(self._seg_lines)
        self._tree = shapely.STRtree(self._seg_lines)

    def _build_csr(self) -> None:
        """Node-to-node CSR of the fastest parallel edge (built once per graph)."""
        n = len(self.node_ids)
        order = np.lexsort((self.edge_time_s, self.edge_v, self.edge_u))
        u, v = self.edge_u[order], self.edge_v[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        best = order[first]  # sorted by (u, v): CSR order
        self._csr_edge = best
        self._csr_u = self.edge_u[best]
        self._csr_v = self.edge_v[best]
        counts = np.bincount(self._csr_u, minlength=n)
        indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self._csr_indptr = indptr
        self._csr_indices = self._csr_v.astype(np.int32)
        self._csr_time = self.edge_time_s[best]
        self._csr_length = self.edge_length_m[best]
        self._csr_keys = self._csr_u * n + self._csr_v  # sorted
        self.csr = csr_matrix((self._csr_time, self._csr_indices, indptr), shape=(n, n))
        # reversed graph: transpose, also in canonical CSR form
        t = self.csr.T.tocsr()
        t.sort_indices()
        self.csr_reversed = t

    # ------------------------------------------------------------- properties
    @property
    def num_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def num_edges(self) -> int:
        return len(self.edge_u)

    def __repr__(self) -> str:
        return (
            f"RoadNetwork({self.num_nodes} nodes, {self.num_edges} edges, "
            f"{len(self.access)} access points, source={self.report.source!r})"
        )

    # --------------------------------------------------------------- snapping
    def snap_many(
        self,
        lonlats: Sequence[tuple[float, float]] | np.ndarray,
        *,
        ids: Sequence[str | None] | None = None,
        names: Sequence[str | None] | None = None,
    ) -> list[SnappedPoint]:
        """Snap WGS84 ``(lon, lat)`` points to their nearest drivable edges.

        Raises :class:`RoutingInputError` for coordinates that are not finite
        or out of range. Points far from every road are still snapped; compare
        ``snap_distance_m`` with :attr:`max_snap_m` (see :meth:`on_network`).
        """
        arr = np.asarray(lonlats, dtype=float).reshape(-1, 2) if len(lonlats) else np.empty((0, 2))
        bad = ~np.isfinite(arr).all(axis=1) | (np.abs(arr[:, 0]) > 180) | (np.abs(arr[:, 1]) > 90)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            label = ids[i] if ids is not None else i
            raise RoutingInputError(
                f"invalid coordinates for {label!r}: {tuple(arr[i])} "
                "(expected (lon, lat) in WGS84 degrees)",
                details={"index": i, "lonlat": [float(x) for x in arr[i]]},
            )
        if len(arr) == 0:
            return []
        xy = self._to_xy(arr)
        pts = shapely.points(xy)
        found = self._tree.query_nearest(pts, all_matches=False)
        seg = np.empty(len(arr), dtype=np.int64)
        seg[found[0]] = found[1]
        lines = self._seg_lines[seg]
        offset = shapely.line_locate_point(lines, pts)
        road = shapely.get_coordinates(shapely.line_interpolate_point(lines, offset))
        dist = shapely.distance(pts, lines)
        road_ll = self._to_lonlat(road)
        out: list[SnappedPoint] = []
        for i in range(len(arr)):
            s = int(seg[i])
            seg_len = float(self._seg_len[s])
            frac = float(offset[i]) / seg_len if seg_len > 0 else 0.0
            frac = min(max(frac, 0.0), 1.0)
            edges = tuple((e, frac if fwd else 1.0 - frac) for e, fwd in self._seg_edges[s])
            out.append(
                SnappedPoint(
                    lon=float(arr[i, 0]),
                    lat=float(arr[i, 1]),
                    road_lon=float(road_ll[i, 0]),
                    road_lat=float(road_ll[i, 1]),
                    snap_distance_m=float(dist[i]),
                    segment=s,
                    offset_m=frac * seg_len,
                    edges=edges,
                    id=None if ids is None else ids[i],
                    name=None if names is None else names[i],
                )
            )
        return out

    def snap(self, lon: float, lat: float, *, id: str | None = None) -> SnappedPoint:
        """Snap one WGS84 point to its nearest drivable edge."""
        return self.snap_many([(lon, lat)], ids=[id])[0]

    def on_network(self, point: SnappedPoint) -> bool:
        """Whether the point lies within :attr:`max_snap_m` metres of a drivable edge."""
        return point.snap_distance_m <= self.max_snap_m

    def add_access_points(
        self,
        points: Mapping[str, tuple[float, float]],
        *,
        names: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Snap equipment / depot access points ``{id: (lon, lat)}`` and keep them.

        Returns the ids farther than :attr:`max_snap_m` from every drivable
        edge (kept, but tasks there are dropped as off the road network).
        """
        ids = [str(k) for k in points]
        snapped = self.snap_many(
            [(float(points[k][0]), float(points[k][1])) for k in points],
            ids=ids,
            names=[(names or {}).get(k) for k in points],
        )
        far = []
        for p in snapped:
            assert p.id is not None
            self.access[p.id] = p
            if not self.on_network(p):
                far.append(p.id)
        return far

    def locate(self, location: Any) -> SnappedPoint:
        """Resolve an access-point id, a ``(lon, lat)`` pair or a SnappedPoint.

        Raises :class:`UnknownLocationError` for an unknown id and
        :class:`RoutingInputError` for anything else that is not a location.
        """
        if isinstance(location, SnappedPoint):
            return location
        if isinstance(location, str):
            try:
                return self.access[location]
            except KeyError:
                raise UnknownLocationError(
                    f"unknown location id {location!r}: no access point on the road network",
                    details={"id": location},
                ) from None
        if (
            isinstance(location, Sequence | np.ndarray)
            and len(location) == 2
            and all(isinstance(x, int | float | np.number) for x in location)
        ):
            return self.snap(float(location[0]), float(location[1]))
        raise RoutingInputError(
            f"not a location: {location!r} (expected an access-point id or (lon, lat))"
        )

    # ----------------------------------------------------------- the maths
    def point_links(self, p: SnappedPoint, *, outgoing: bool) -> list[_Link]:
        """How a point connects to the graph's nodes.

        Outgoing: drive from the point to the head of each edge it lies on.
        Incoming: drive from the tail of each edge to the point. A point within
        1 cm of an edge end *is* that node, so it also links to it at no cost
        (otherwise a point at the tail of a one-way street could not leave by
        the other streets of that junction).
        """
        links = []
        for e, f in p.edges:
            length = self.edge_length_m[e]
            part = (1.0 - f) if outgoing else f
            node = int(self.edge_v[e] if outgoing else self.edge_u[e])
            span = (f, 1.0) if outgoing else (0.0, f)
            links.append(_Link(node, part * self.edge_time_s[e], part * length, e, *span))
            rest = f if outgoing else 1.0 - f
            if rest * length <= _AT_NODE_M:
                links.append(_Link(int(self.edge_u[e] if outgoing else self.edge_v[e]), 0.0, 0.0))
        return links

    def _links(
        self,
        points: Sequence[SnappedPoint],
        *,
        outgoing: bool,
        flat: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`point_links` as arrays, vectorised: ``nodes`` (P x K int),
        ``seconds`` (P x K, inf padding), ``metres`` (P x K)."""
        row, e, f = self._flat_edges(points) if flat is None else flat
        part = (1.0 - f) if outgoing else f
        rest = f if outgoing else 1.0 - f
        head, tail = self.edge_v[e], self.edge_u[e]
        length = self.edge_length_m[e]
        node = head if outgoing else tail
        secs = part * self.edge_time_s[e]
        metres = part * length
        at_node = rest * length <= _AT_NODE_M  # the point is that node: free link
        row = np.concatenate((row, row[at_node]))
        node = np.concatenate((node, (tail if outgoing else head)[at_node]))
        secs = np.concatenate((secs, np.zeros(int(at_node.sum()))))
        metres = np.concatenate((metres, np.zeros(int(at_node.sum()))))
        order = np.argsort(row, kind="stable")
        row, node, secs, metres = row[order], node[order], secs[order], metres[order]
        per_row = np.bincount(row, minlength=len(points))
        k = max(int(per_row.max(initial=0)), 1)
        col = np.arange(len(row)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        out_nodes = np.zeros((len(points), k), dtype=np.int64)
        out_secs = np.full((len(points), k), np.inf)
        out_metres = np.full((len(points), k), np.inf)
        out_nodes[row, col] = node
        out_secs[row, col] = secs
        out_metres[row, col] = metres
        return out_nodes, out_secs, out_metres

    def _augmented(self, nodes: np.ndarray, costs: np.ndarray, *, reverse: bool) -> csr_matrix:
        """The base CSR (or its transpose) plus one virtual source row per point.

        Virtual sources have only outgoing edges, so no other search ever enters
        them: the shortest-path rows of the base nodes are unchanged.
        """
        base = self.csr_reversed if reverse else self.csr
        n = base.shape[0]
        s = len(nodes)
        rows = np.repeat(np.arange(s), nodes.shape[1])
        cols, vals = nodes.ravel(), costs.ravel()
        ok = np.isfinite(vals)
        rows, cols, vals = rows[ok], cols[ok], vals[ok]
        # one entry per (row, node), the cheapest, sorted by row then node
        order = np.lexsort((vals, cols, rows))
        rows, cols, vals = rows[order], cols[order], vals[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols, vals = rows[first], cols[first], np.maximum(vals[first], 1e-9)
        counts = np.bincount(rows, minlength=s)
        indptr = np.concatenate((base.indptr, base.indptr[-1] + np.cumsum(counts)))
        indices = np.concatenate((base.indices, cols.astype(base.indices.dtype)))
        data = np.concatenate((base.data, vals))
        return csr_matrix((data, indices, indptr), shape=(n + s, n + s))

    @staticmethod
    def _flat_edges(points: Sequence[SnappedPoint]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point index, edge, fraction) for every edge a point lies on."""
        counts = np.fromiter((len(p.edges) for p in points), dtype=np.int64, count=len(points))
        flat = [ef for p in points for ef in p.edges]
        edge = np.fromiter((x[0] for x in flat), dtype=np.int64, count=len(flat))
        frac = np.fromiter((x[1] for x in flat), dtype=float, count=len(flat))
        return np.repeat(np.arange(len(points)), counts), edge, frac

    def _same_edge(
        self,
        origins: tuple[np.ndarray, np.ndarray, np.ndarray],
        dests: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Direct trips along one directed edge: arrays (origin i, dest j, seconds, metres).

        Takes the :meth:`_flat_edges` arrays of the origins and destinations.
        """
        oi, oe, of = origins
        di, de, df = dests
        order = np.argsort(de, kind="stable")
        di, de, df = di[order], de[order], df[order]
        lo = np.searchsorted(de, oe, side="left")
        cnt = np.searchsorted(de, oe, side="right") - lo
        rep = np.repeat(np.arange(len(oe)), cnt)
        pos = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt) + np.repeat(lo, cnt)
        part = df[pos] - of[rep]
        ok = part >= 0
        rep, pos, part = rep[ok], pos[ok], part[ok]
        e = oe[rep]
        return oi[rep], di[pos], part * self.edge_time_s[e], part * self.edge_length_m[e]

    def matrix(
        self,
        origins: Sequence[Any],
        destinations: Sequence[Any] | None = None,
        *,
        with_length: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Exact fastest travel times (seconds) from every origin to every destination.

        Origins/destinations are access-point ids, ``(lon, lat)`` WGS84 pairs or
        :class:`SnappedPoint`. One-way streets and the partial edges of snapped
        points are respected. Uses ``scipy.sparse.csgraph.dijkstra`` from
        whichever side has fewer distinct points (the reversed graph when
        destinations are fewer). With ``with_length=True`` also returns the
        length (metres) of each fastest path.

        The set-up derived from the point sets (distinct points, link arrays,
        augmented CSR, gather indices) is cached per network in a small LRU keyed
        by the points' snapped positions, so repeated calls with the same points
        (dispatch re-plans, the API) only run the search and the gathers. Without
        lengths, a source with a single link (a point on a one-way street) is
        searched from that link's node, its partial-edge seconds added after;
        the others from one virtual source row each.
        """
        o_pts = [self.locate(x) for x in origins]
        same = destinations is None or destinations is origins
        d_pts = o_pts if same or destinations is None else [self.locate(x) for x in destinations]
        if not o_pts or not d_pts:
            shape = (len(o_pts), len(d_pts))
            return (np.zeros(shape), np.zeros(shape)) if with_length else np.zeros(shape)
        plan = self._matrix_plan(o_pts, d_pts, same=same)
        reverse = plan.reverse
        src_nodes, src_s, src_m = plan.src_nodes, plan.src_s, plan.src_m
        dst_nodes, dst_s, dst_m = plan.dst_nodes, plan.dst_s, plan.dst_m
        n = self.num_nodes
        # one dijkstra call for all sources unless the distance block would pass
        # _MATRIX_BLOCK_BYTES (big graphs): then chunks, each with its own augmented graph
        s_all = len(src_nodes)
        per_source = 8 * (n + s_all) * (3 if with_length else 1)
        chunk = max(1, min(s_all, int(_MATRIX_BLOCK_BYTES // per_source)))
        tts, lls = [], []
        if not with_length and len(plan.fast_indices) * 8 * plan.fast_aug.shape[0] <= (
            _MATRIX_BLOCK_BYTES
        ):
            chunk = s_all + 1  # the loop below does not run
            dist = dijkstra(plan.fast_aug, directed=True, indices=plan.fast_indices)
            tts.append(self._gather(plan, dist))
            if plan.fast_row is not None:
                tts[0] = np.take(tts[0], plan.fast_row, axis=0)
            tts[0] += plan.fast_offset
        for lo in range(0, len(src_nodes) if chunk <= s_all else 0, chunk):
            hi = min(lo + chunk, len(src_nodes))
            aug = plan.aug.get((lo, hi))
            if aug is None:
                aug = self._augmented(src_nodes[lo:hi], src_s[lo:hi], reverse=reverse)
                plan.aug[(lo, hi)] = aug
            indices = np.arange(n, n + hi - lo)
            if not with_length:
                dist = dijkstra(aug, directed=True, indices=indices)
                tts.append(self._gather(plan, dist))
                continue
            dist, pred = dijkstra(aug, directed=True, indices=indices, return_predecessors=True)
            plen = self._tree_lengths(
                pred, src_nodes[lo:hi], src_s[lo:hi], src_m[lo:hi], reverse=reverse
            )
            total = dist[:, dst_nodes] + dst_s[None, :, :]
            k = total.argmin(axis=2)
            tts.append(np.take_along_axis(total, k[:, :, None], axis=2)[:, :, 0])
            lens = plen[:, dst_nodes] + dst_m[None, :, :]
            lls.append(np.take_along_axis(lens, k[:, :, None], axis=2)[:, :, 0])
        tt = tts[0] if len(tts) == 1 else np.vstack(tts)
        ll = None if not lls else (lls[0] if len(lls) == 1 else np.vstack(lls))
        if reverse:
            tt = tt.T
            ll = None if ll is None else ll.T
        si, sj, ss, sm = plan.same_i, plan.same_j, plan.same_s, plan.same_m
        if ll is None:
            np.minimum.at(tt, (si, sj), ss)
        else:
            for i, j, secs, metres in zip(si, sj, ss, sm, strict=True):
                if secs < tt[i, j] or (secs == tt[i, j] and metres < ll[i, j]):
                    tt[i, j] = secs
                    ll[i, j] = metres
        if plan.inv_o is not None or plan.inv_d is not None:  # repeated points: expand
            inv_o = np.arange(plan.n_o) if plan.inv_o is None else plan.inv_o
            inv_d = np.arange(plan.n_d) if plan.inv_d is None else plan.inv_d
            tt = tt[np.ix_(inv_o, inv_d)]
            ll = None if ll is None else ll[np.ix_(inv_o, inv_d)]
        if with_length:
            assert ll is not None
            return tt, ll
        return tt

    @staticmethod
    def _gather(plan: _MatrixPlan, dist: np.ndarray) -> np.ndarray:
        """Seconds from each searched row to each destination, over its incoming links."""
        # link 0 of every destination, then the min with later links (contiguous
        # prefixes: destinations are sorted by their number of links)
        tt = np.take(dist, plan.level_nodes[0], axis=1)
        tt += plan.level_s[0]
        for cols, secs in zip(plan.level_nodes[1:], plan.level_s[1:], strict=True):
            alt = np.take(dist, cols, axis=1)
            alt += secs
            head = tt[:, : len(cols)]
            np.minimum(head, alt, out=head)
        if plan.unsort is not None:
            tt = np.take(tt, plan.unsort, axis=1)
        return tt

    def _matrix_plan(
        self, o_pts: list[SnappedPoint], d_pts: list[SnappedPoint], *, same: bool
    ) -> _MatrixPlan:
        """The cached set-up of a matrix call (built on a miss, LRU of ``_MATRIX_CACHE_SIZE``).

        The key is the snapped positions (:attr:`SnappedPoint.key`, the millimetre
        identity :meth:`matrix` already merges points by), so any other point set is a
        miss. The graph is immutable, so a plan stays valid for this network.
        """
        o_key = tuple([p.key for p in o_pts])
        d_key = None if same else tuple([p.key for p in d_pts])
        if d_key == o_key:  # the same places given twice: one set-up
            same, d_key = True, None
        key = (o_key, d_key)
        with self._matrix_lock:
            plan = self._matrix_cache.get(key)
            if plan is not None:
                self._matrix_cache.move_to_end(key)
                return plan
        plan = self._build_matrix_plan(o_pts, d_pts, same=same)
        with self._matrix_lock:
            self._matrix_cache[key] = plan
            self._matrix_cache.move_to_end(key)
            while len(self._matrix_cache) > _MATRIX_CACHE_SIZE:
                self._matrix_cache.popitem(last=False)
        return plan

    def _build_matrix_plan(
        self, o_pts: list[SnappedPoint], d_pts: list[SnappedPoint], *, same: bool
    ) -> _MatrixPlan:
        uo, inv_o = _unique_points(o_pts)
        ud, inv_d = (uo, inv_o) if same else _unique_points(d_pts)
        flat_o = self._flat_edges(uo)
        flat_d = flat_o if same else self._flat_edges(ud)
        reverse = len(ud) < len(uo)
        if not reverse:
            src_nodes, src_s, src_m = self._links(uo, outgoing=True, flat=flat_o)
            dst_nodes, dst_s, dst_m = self._links(ud, outgoing=False, flat=flat_d)
        else:
            src_nodes, src_s, src_m = self._links(ud, outgoing=False, flat=flat_d)
            dst_nodes, dst_s, dst_m = self._links(uo, outgoing=True, flat=flat_o)
        # destinations by number of links, most first (_links fills links left to right)
        per_dst = np.isfinite(dst_s).sum(axis=1)
        order = np.argsort(-per_dst, kind="stable")
        unsort = np.empty_like(order)
        unsort[order] = np.arange(len(order))
        level_nodes, level_s = [], []
        for k in range(dst_nodes.shape[1]):
            c = int((per_dst > k).sum())
            if c:
                level_nodes.append(np.ascontiguousarray(dst_nodes[order[:c], k]))
                level_s.append(np.ascontiguousarray(dst_s[order[:c], k]))
        # sources with a single link: dijkstra from that node (shared when equal)
        n = self.num_nodes
        n_links = np.isfinite(src_s).sum(axis=1)
        single = n_links == 1
        heads, head_row = np.unique(src_nodes[single, 0], return_inverse=True)
        multi = np.flatnonzero(~single)
        fast_row = np.empty(len(src_nodes), dtype=np.intp)
        fast_row[single] = head_row
        fast_row[multi] = len(heads) + np.arange(len(multi))
        fast_offset = np.where(single, src_s[:, 0], 0.0)[:, None]
        fast_aug = self._augmented(src_nodes[multi], src_s[multi], reverse=reverse)
        fast_indices = np.concatenate((heads, n + np.arange(len(multi)))).astype(np.intp)
        si, sj, ss, sm = self._same_edge(flat_o, flat_d)
        for a in (src_nodes, src_s, src_m, dst_nodes, dst_s, dst_m):
            a.flags.writeable = False
        return _MatrixPlan(
            n_o=len(o_pts),
            n_d=len(d_pts),
            inv_o=None if len(uo) == len(o_pts) else inv_o,
            inv_d=None if len(ud) == len(d_pts) else inv_d,
            reverse=reverse,
            src_nodes=src_nodes,
            src_s=src_s,
            src_m=src_m,
            dst_nodes=dst_nodes,
            dst_s=dst_s,
            dst_m=dst_m,
            level_nodes=level_nodes,
            level_s=level_s,
            unsort=None if (order == np.arange(len(order))).all() else unsort,
            fast_aug=fast_aug,
            fast_indices=fast_indices,
            fast_row=None if (fast_row == np.arange(len(fast_row))).all() else fast_row,
            fast_offset=fast_offset,
            same_i=si,
            same_j=sj,
            same_s=ss,
            same_m=sm,
        )

    def _tree_lengths(
        self,
        pred: np.ndarray,
        src_nodes: np.ndarray,
        src_s: np.ndarray,
        src_m: np.ndarray,
        *,
        reverse: bool,
    ) -> np.ndarray:
        """Metres from each virtual source to every node along the shortest-path tree.

        Pointer doubling over the predecessor arrays: O(S x N x log depth).
        """
        s, m = pred.shape
        n = self.num_nodes
        # metres of the tree edge (pred[x] -> x) for every x
        p = pred.copy()
        rows = np.arange(s)[:, None]
        cols = np.broadcast_to(np.arange(m)[None, :], (s, m))
        root = p < 0
        p[root] = cols[root]
        edge_len = np.zeros((s, m))
        from_virtual = (p >= n) & ~root
        base = ~root & ~from_virtual
        # base edges: look up (u, v) in the (possibly reversed) base CSR
        pu, pv = p[base], cols[base]
        if reverse:
            pu, pv = pv, pu
        keys = pu.astype(np.int64) * n + pv
        pos = np.searchsorted(self._csr_keys, keys)
        edge_len[base] = self._csr_length[pos]
        # virtual first hop: min-time link of that source to node x
        if from_virtual.any():
            vi = p[from_virtual] - n  # row of this chunk's link arrays
            vx = cols[from_virtual]
            best_s = np.full(len(vi), np.inf)
            best_m = np.zeros(len(vi))
            for k in range(src_nodes.shape[1]):
                better = (src_nodes[vi, k] == vx) & (src_s[vi, k] < best_s)
                best_s = np.where(better, src_s[vi, k], best_s)
                best_m = np.where(better, src_m[vi, k], best_m)
            edge_len[from_virtual] = best_m
        # pointer doubling
        for _ in range(64):
            nxt = p[rows, p]
            if np.array_equal(nxt, p):
                break
            edge_len = edge_len + edge_len[rows, p]
            p = nxt
        return edge_len

    # ------------------------------------------------------------------ paths
    def paths(self, pairs: Sequence[tuple[Any, Any]]) -> list[RoadPath]:
        """Fastest paths (with geometry) for ``(origin, destination)`` pairs."""
        if not pairs:
            return []
        o_pts = [self.locate(a) for a, _ in pairs]
        d_pts = [self.locate(b) for _, b in pairs]
        uo, inv_o = _unique_points(o_pts)
        src_nodes, src_s, _ = self._links(uo, outgoing=True)
        aug = self._augmented(src_nodes, src_s, reverse=False)
        n = self.num_nodes
        dist, pred = dijkstra(
            aug, directed=True, indices=np.arange(n, n + len(uo)), return_predecessors=True
        )
        out = []
        for row, (a, b) in zip(inv_o, zip(o_pts, d_pts, strict=True), strict=True):
            out.append(self._one_path(a, b, dist[row], pred[row], n + int(row)))
        return out

    def path(self, origin: Any, destination: Any) -> RoadPath:
        """Fastest path between two locations, with travel time (s), length (m), geometry."""
        return self.paths([(origin, destination)])[0]

    def _one_path(
        self, a: SnappedPoint, b: SnappedPoint, dist: np.ndarray, pred: np.ndarray, src: int
    ) -> RoadPath:
        # candidate 1: through the graph, entering b by its cheapest incoming link
        best_s, last = np.inf, None
        for link in self.point_links(b, outgoing=False):
            s = dist[link.node] + link.seconds
            if s < best_s:
                best_s, last = s, link
        # candidate 2: along one edge
        direct = None
        for e, fo in a.edges:
            for e2, fd in b.edges:
                if e == e2 and fd >= fo:
                    s = (fd - fo) * self.edge_time_s[e]
                    if s <= best_s and (direct is None or s < direct[0]):
                        direct = (s, e, fo, fd)
        if direct is not None:
            s, e, fo, fd = direct
            return RoadPath(
                travel_time_s=float(s),
                length_m=float((fd - fo) * self.edge_length_m[e]),
                coords=self._sub_coords(e, fo, fd),
            )
        if last is None or not np.isfinite(best_s):  # pragma: no cover - one SCC: always a path
            raise RoadNetworkError("no path between two points of one strongly connected graph")
        nodes = [last.node]  # walk back to the virtual source
        while True:
            p = int(pred[nodes[-1]])
            if p < 0:  # pragma: no cover - defensive
                raise RoadNetworkError("broken predecessor chain")
            if p == src:
                break
            nodes.append(p)
        nodes.reverse()
        first = min(
            (x for x in self.point_links(a, outgoing=True) if x.node == nodes[0]),
            key=lambda x: x.seconds,
        )
        coords = list(self._link_coords(first))
        length = first.metres
        for u, v in zip(nodes[:-1], nodes[1:], strict=True):
            pos = int(np.searchsorted(self._csr_keys, u * self.num_nodes + v))
            e = int(self._csr_edge[pos])
            coords.extend(map(tuple, self._edge_lonlat[e].tolist()))
            length += self.edge_length_m[e]
        coords.extend(self._link_coords(last))
        length += last.metres
        if len(coords) == 0:
            coords = [(self.node_lon[nodes[0]], self.node_lat[nodes[0]])]
        return RoadPath(
            travel_time_s=float(best_s),
            length_m=float(length),
            coords=tuple(_dedupe_coords(coords)),
            nodes=tuple(int(x) for x in nodes),
        )

    def _link_coords(self, link: _Link) -> tuple[tuple[float, float], ...]:
        if link.edge < 0:
            return ()
        return self._sub_coords(link.edge, link.f0, link.f1)

    def _sub_coords(self, e: int, f0: float, f1: float) -> tuple[tuple[float, float], ...]:
        """WGS84 coordinates of edge ``e`` between fractions ``f0 <= f1`` of its length."""
        xy, cum = self._edge_xy[e], self._edge_cum[e]
        total = cum[-1]
        if total <= 0:
            pts = xy[:1]
        else:
            d0, d1 = f0 * total, f1 * total
            inner = xy[(cum > d0) & (cum < d1)]
            pts = np.vstack([_interp(xy, cum, d0), inner, _interp(xy, cum, d1)])
        return tuple(map(tuple, self._to_lonlat(pts).tolist()))


# ---------------------------------------------------------------- helpers
def _cumlen(xy: np.ndarray) -> np.ndarray:
    d = np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1]))
    return np.concatenate(([0.0], np.cumsum(d)))


def _interp(xy: np.ndarray, cum: np.ndarray, d: float) -> np.ndarray:
    x = np.interp(d, cum, xy[:, 0])
    y = np.interp(d, cum, xy[:, 1])
    return np.array([[x, y]])


def _dedupe_coords(coords: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for c in coords:
        c = (float(c[0]), float(c[1]))
        if not out or abs(out[-1][0] - c[0]) > 1e-9 or abs(out[-1][1] - c[1]) > 1e-9:
            out.append(c)
    return out


def _unique_points(points: Sequence[SnappedPoint]) -> tuple[list[SnappedPoint], np.ndarray]:
    seen: dict[tuple[int, float], int] = {}
    uniq: list[SnappedPoint] = []
    inv = np.empty(len(points), dtype=np.int64)
    for i, p in enumerate(points):
        j = seen.get(p.key)
        if j is None:
            j = seen[p.key] = len(uniq)
            uniq.append(p)
        inv[i] = j
    return uniq, inv


# ----------------------------------------------------------------- loading
def _read_graph(source: str | Path) -> nx.MultiDiGraph:
    path = Path(source)
    if not path.exists():
        raise RoadNetworkError(f"road network file not found: {path}", details={"path": str(path)})
    name = path.name.lower()
    try:
        if name.endswith(".graphml"):
            import osmnx as ox

            return ox.load_graphml(path)
        if name.endswith(".pbf"):
            import pyrosm

            with warnings.catch_warnings():
                # pyrosm 0.25 is noisy about pandas/shapely deprecations; not ours to fix.
                warnings.simplefilter("ignore", FutureWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                osm = pyrosm.OSM(str(path))
                got = osm.get_network(network_type="driving", nodes=True)
                if got is None or got[1] is None or len(got[1]) == 0:
                    raise RoadNetworkError(f"no drivable roads in {path}")
                nodes, edges = got
                return osm.to_graph(nodes, edges, graph_type="networkx")
        if name.endswith((".osm", ".xml", ".osm.xml")):
            import osmnx as ox

            return ox.graph_from_xml(path, retain_all=True)
    except RoadNetworkError:
        raise
    except Exception as exc:  # third-party readers raise anything; say which file
        raise RoadNetworkError(
            f"cannot read road network {path}: {type(exc).__name__}: {exc}",
            details={"path": str(path)},
        ) from exc
    raise RoadNetworkError(
        f"unsupported road network format: {path.name} (expected .graphml, .osm.pbf or .osm)",
        details={"path": str(path)},
    )


def _prepare(graph: nx.MultiDiGraph, *, hwy_speeds: Mapping[str, float] | None) -> nx.MultiDiGraph:
    """Ensure WGS84, ``length``, ``speed_kph`` and ``travel_time`` on every edge."""

    if not isinstance(graph, nx.MultiDiGraph):
        raise RoadNetworkError(f"expected a networkx MultiDiGraph, got {type(graph).__name__}")
    if graph.number_of_edges() == 0:
        raise RoadNetworkError("the road network has no edges")
    crs = str(graph.graph.get("crs", "EPSG:4326"))
    if crs.lower() not in ("epsg:4326", "wgs84"):
        import osmnx as ox

        graph = ox.project_graph(graph, to_latlong=True)
    for n, d in graph.nodes(data=True):
        if "x" not in d or "y" not in d:
            raise RoadNetworkError(f"node {n!r} has no x/y coordinates")
        d["x"], d["y"] = float(d["x"]), float(d["y"])
    graph.graph["crs"] = "EPSG:4326"
    missing_len = [(u, v) for u, v, d in graph.edges(data=True) if "length" not in d]
    if missing_len:
        raise RoadNetworkError(
            f"{len(missing_len)} edges have no 'length' (metres), e.g. {missing_len[0]}"
        )
    for _, _, d in graph.edges(data=True):
        d["length"] = float(d["length"])
    have_tt = all("travel_time" in d for _, _, d in graph.edges(data=True))
    if hwy_speeds is not None or not have_tt:
        speeds = dict(DEFAULT_SPEEDS_KPH)
        speeds.update(hwy_speeds or {})
        have_speed = all("speed_kph" in d for _, _, d in graph.edges(data=True))
        for _, _, d in graph.edges(data=True):
            if hwy_speeds is not None or not have_speed:
                d["speed_kph"] = edge_speed_kph(d, speeds)
            d["speed_kph"] = float(d["speed_kph"])
            if not d["speed_kph"] > 0:
                d["speed_kph"] = FALLBACK_SPEED_KPH
            d["travel_time"] = d["length"] / (d["speed_kph"] / 3.6)
    for _, _, d in graph.edges(data=True):
        d["travel_time"] = float(d["travel_time"])
    return graph


def _parse_maxspeed(value: Any) -> float | None:
    """km/h from an OSM ``maxspeed`` value ("50", "30 mph", "50;70", lists); None if unusable."""
    if isinstance(value, list | tuple):
        got = [v for v in (_parse_maxspeed(x) for x in value) if v is not None]
        return float(np.mean(got)) if got else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if value > 0 and math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    got = []
    for part in re.split(r"[;|]", value):
        m = re.match(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(mph|km/h|kmh|kph)?\s*$", part)
        if m:
            v = float(m.group(1).replace(",", "."))
            got.append(v * 1.609344 if m.group(2) == "mph" else v)
    return float(np.mean(got)) if got else None


def edge_speed_kph(data: Mapping[str, Any], speeds: Mapping[str, float]) -> float:
    """Free-flow speed (km/h) of an edge: its ``maxspeed``, else by ``highway`` class."""
    v = _parse_maxspeed(data.get("maxspeed"))
    if v is not None:
        return v
    hwy = data.get("highway")
    if isinstance(hwy, list | tuple):
        hwy = hwy[0] if hwy else None
    return float(speeds.get(str(hwy), FALLBACK_SPEED_KPH))


def _largest_scc(graph: nx.MultiDiGraph) -> tuple[nx.MultiDiGraph, int]:
    comps = list(nx.strongly_connected_components(graph))
    largest = max(comps, key=len)
    if len(comps) == 1:
        return graph, 0
    return graph.subgraph(largest).copy(), len(comps) - 1


def load_roads(
    source: str | Path | nx.MultiDiGraph,
    *,
    access_points: Mapping[str, tuple[float, float]] | None = None,
    names: Mapping[str, str] | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    hwy_speeds: Mapping[str, float] | None = None,
) -> RoadNetwork:
    """Load a drivable road network and snap the grid's access points once.

    Parameters
    ----------
    source
        A GraphML file in osmnx conventions, an OSM extract (``.osm.pbf`` read
        with pyrosm's driving network; ``.osm`` XML with osmnx), or a graph.
    access_points
        ``{equipment_id: (lon, lat)}`` in WGS84 (RMUs, distribution rooms,
        depots). Each is snapped to its nearest drivable edge.
    names
        ``{equipment_id: name}``, used for stop and waypoint names.
    max_snap_m
        Points farther than this (metres) from every drivable edge count as off
        the road network; tasks there are dropped with a reason.
    hwy_speeds
        Speeds (km/h) by highway class for edges without ``maxspeed``; default
        :data:`DEFAULT_SPEEDS_KPH`. If given, speeds are recomputed even when
        the file already has ``travel_time``.

    Only the largest strongly connected component is kept (``report`` says
    what was dropped), so every point can reach every other point.
    """
    if max_snap_m is None or not max_snap_m > 0:
        raise RoutingInputError(f"max_snap_m must be > 0 metres, got {max_snap_m!r}")
    if isinstance(source, nx.MultiDiGraph):
        graph, label = source.copy(), "graph"
    else:
        graph, label = _read_graph(source), str(source)
    nodes_in, edges_in = graph.number_of_nodes(), graph.number_of_edges()
    graph = _prepare(graph, hwy_speeds=hwy_speeds)
    graph, dropped = _largest_scc(graph)
    if graph.number_of_edges() == 0:
        raise RoadNetworkError("no strongly connected drivable roads")
    report = LoadReport(
        source=label,
        nodes_in=nodes_in,
        edges_in=edges_in,
        nodes_kept=graph.number_of_nodes(),
        edges_kept=graph.number_of_edges(),
        components_dropped=dropped,
    )
    net = RoadNetwork(graph, report=report, max_snap_m=max_snap_m)
    if access_points:
        far = net.add_access_points(access_points, names=names)
        net.report = LoadReport(
            **{
                **{k: getattr(report, k) for k in report.__dataclass_fields__},
                "access_points_snapped": len(access_points) - len(far),
                "access_points_off_network": tuple(far),
            }
        )
    log.info(
        "loaded roads from %s: %d nodes, %d edges kept (%d nodes in %d components dropped)",
        label,
        report.nodes_kept,
        report.edges_kept,
        report.nodes_dropped,
        dropped,
    )
    return net


def roads_from_place(query: str, **kwargs: Any) -> RoadNetwork:
    """Download the drivable roads of a place with osmnx (needs the network)."""
    import osmnx as ox

    graph = ox.graph_from_place(query, network_type="drive")
    return load_roads(graph, **kwargs)


def roads_from_bbox(bbox: tuple[float, float, float, float], **kwargs: Any) -> RoadNetwork:
    """Download drivable roads in ``(left, bottom, right, top)`` WGS84 (needs the network)."""
    import osmnx as ox

    graph = ox.graph_from_bbox(bbox, network_type="drive")
    return load_roads(graph, **kwargs)
