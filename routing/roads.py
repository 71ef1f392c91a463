"""The drivable road network: :func:`load_roads` and :class:`RoadNetwork`.

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

The work is done in the modules this one puts together:

* :mod:`routing.loading` reads and prepares the graph, :mod:`routing.speeds`
  gives the edges their speeds and travel times (osmnx);
* :mod:`routing.geometry` holds the edges' polylines in a local metric frame,
  :mod:`routing.snapping` snaps points to them;
* :mod:`routing.links` joins snapped points to the graph,
  :mod:`routing.matrix` computes travel-time matrices and
  :mod:`routing.paths` paths with geometry.

Nothing here touches the network: to download roads, pass
``osmnx.graph_from_place(..., network_type="drive")`` to :func:`load_roads`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from routing.errors import RoadNetworkError, RoutingInputError, UnknownLocationError
from routing.geometry import EdgeShapes, LocalFrame
from routing.links import FastestEdges
from routing.loading import largest_strong_component, prepare_graph, read_graph
from routing.matrix import PlanCache, travel_matrix
from routing.paths import RoadPath, fastest_paths
from routing.snapping import Location, SegmentIndex, SnappedPoint, check_lonlats
from routing.speeds import DEFAULT_SPEEDS_KPH

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
]

#: Points farther than this from every drivable edge are "off the road network".
DEFAULT_MAX_SNAP_M = 250.0
#: Smallest travel time given to an edge (s): csgraph needs strictly positive weights.
_MIN_EDGE_TIME_S = 1e-3


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


class RoadNetwork:
    """A drivable road graph with snapping, exact matrices and paths.

    Build it with :func:`load_roads`. The graph is the largest strongly
    connected component of the input (every node reaches every other), so every
    snapped point can reach every other snapped point. The graph is treated as
    immutable: the arrays and sparse matrices used by every query are built once.

    Arrays by node index: ``node_ids``, ``node_lon``, ``node_lat`` (degrees).
    By directed edge index: ``edge_u``, ``edge_v`` (node indices),
    ``edge_time_s``, ``edge_length_m``, ``edge_keys`` (``(u, v, key)`` in the
    graph) and ``edge_lonlat`` (the edge's polyline, k x 2 degrees). ``csr`` /
    ``csr_reversed``: node-to-node seconds of the fastest parallel edge.
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
        self.node_lon = np.array([float(graph.nodes[n]["x"]) for n in nodes])
        self.node_lat = np.array([float(graph.nodes[n]["y"]) for n in nodes])
        geometries = self._edge_arrays({n: i for i, n in enumerate(nodes)})
        frame = LocalFrame.around(float(self.node_lon.mean()), float(self.node_lat.mean()))
        self.shapes = EdgeShapes(self._polylines(geometries), frame)
        self._segments = SegmentIndex(self.shapes)
        self.fastest = FastestEdges.build(
            self.edge_u, self.edge_v, self.edge_time_s, self.edge_length_m, self.num_nodes
        )
        self.csr = self.fastest.forward
        self.csr_reversed = self.fastest.reversed
        self._matrix_cache = PlanCache()

    def _edge_arrays(self, index: Mapping[Any, int]) -> list[Any]:
        """Fill the per-edge arrays; return each edge's ``geometry`` attribute (or None)."""
        us, vs, times, lengths, keys, geometries = [], [], [], [], [], []
        for u, v, k, data in self.graph.edges(keys=True, data=True):
            us.append(index[u])
            vs.append(index[v])
            times.append(max(float(data["travel_time"]), _MIN_EDGE_TIME_S))
            lengths.append(float(data["length"]))
            keys.append((u, v, k))
            geometries.append(data.get("geometry"))
        self.edge_u = np.asarray(us, dtype=np.int64)
        self.edge_v = np.asarray(vs, dtype=np.int64)
        self.edge_time_s = np.asarray(times, dtype=float)
        self.edge_length_m = np.asarray(lengths, dtype=float)
        self.edge_keys = keys
        return geometries

    def _polylines(self, geometries: Sequence[Any]) -> list[np.ndarray]:
        """Each edge's geometry (k x 2 degrees), else the straight line between its nodes."""
        out = []
        for e, geom in enumerate(geometries):
            if geom is not None and len(geom.coords) >= 2:
                out.append(np.asarray(geom.coords, dtype=float)[:, :2])
            else:
                ends = [self.edge_u[e], self.edge_v[e]]
                out.append(np.column_stack((self.node_lon[ends], self.node_lat[ends])))
        return out

    @property
    def num_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def num_edges(self) -> int:
        return len(self.edge_u)

    @property
    def edge_lonlat(self) -> list[np.ndarray]:
        """Each directed edge's polyline from tail to head, (k x 2) WGS84 degrees."""
        return self.shapes.lonlat

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
        return self._segments.snap(check_lonlats(lonlats, ids), ids=ids, names=names)

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

    def locate(self, location: Location | Any) -> SnappedPoint:
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

    # --------------------------------------------------------- matrices, paths
    def matrix(
        self,
        origins: Sequence[Location],
        destinations: Sequence[Location] | None = None,
        *,
        with_length: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Exact fastest travel times (seconds) from every origin to every destination.

        Origins/destinations are access-point ids, ``(lon, lat)`` WGS84 pairs or
        :class:`SnappedPoint`. One-way streets and the partial edges of snapped
        points are respected. With ``with_length=True`` also returns the length
        (metres) of each fastest path. How: :mod:`routing.matrix`; the set-up
        derived from the point sets is cached per network (8 entries), so
        repeated calls with the same points only run the search.
        """
        o_pts = [self.locate(x) for x in origins]
        same = destinations is None or destinations is origins
        d_pts = o_pts if same or destinations is None else [self.locate(x) for x in destinations]
        return travel_matrix(
            self, o_pts, d_pts, same=same, with_length=with_length, cache=self._matrix_cache
        )

    def paths(self, pairs: Sequence[tuple[Location, Location]]) -> list[RoadPath]:
        """Fastest paths (with geometry) for ``(origin, destination)`` pairs."""
        o_pts = [self.locate(a) for a, _ in pairs]
        d_pts = [self.locate(b) for _, b in pairs]
        return fastest_paths(self, o_pts, d_pts)

    def path(self, origin: Location, destination: Location) -> RoadPath:
        """Fastest path between two locations, with travel time (s), length (m), geometry."""
        return self.paths([(origin, destination)])[0]


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
        :data:`DEFAULT_SPEEDS_KPH` (see :mod:`routing.speeds`). If given,
        speeds are recomputed even when the file already has ``travel_time``.

    Only the largest strongly connected component is kept (``report`` says
    what was dropped), so every point can reach every other point.
    """
    if max_snap_m is None or not max_snap_m > 0:
        raise RoutingInputError(f"max_snap_m must be > 0 metres, got {max_snap_m!r}")
    if isinstance(source, nx.MultiDiGraph):
        graph, label = source.copy(), "graph"
    else:
        graph, label = read_graph(source), str(source)
    nodes_in, edges_in = graph.number_of_nodes(), graph.number_of_edges()
    graph = prepare_graph(graph, hwy_speeds=hwy_speeds)
    graph, dropped = largest_strong_component(graph)
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
        net.report = replace(
            report,
            access_points_snapped=len(access_points) - len(far),
            access_points_off_network=tuple(far),
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
