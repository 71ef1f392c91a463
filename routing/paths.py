"""Fastest paths with their road geometry, from one snapped point to another.

Each distinct origin is one virtual source row (:func:`routing.links.augmented`);
one ``dijkstra`` call with predecessors serves every pair. A path enters its
destination by the cheapest incoming link, unless both points lie on one
directed edge in driving order and the partial trip along it is no slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from routing.errors import RoadNetworkError
from routing.geometry import dedupe_coords
from routing.links import Link, augmented, link_arrays, point_links, unique_points
from routing.snapping import SnappedPoint

if TYPE_CHECKING:
    from routing.roads import RoadNetwork

__all__ = ["RoadPath", "fastest_paths"]


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
        pts = dedupe_coords(self.coords)
        return shapely.LineString(pts) if len(pts) >= 2 else None


def fastest_paths(
    net: RoadNetwork, o_pts: Sequence[SnappedPoint], d_pts: Sequence[SnappedPoint]
) -> list[RoadPath]:
    """The fastest path from ``o_pts[i]`` to ``d_pts[i]`` for every i."""
    if not o_pts:
        return []
    uo, inv_o = unique_points(o_pts)
    src_nodes, src_s, _ = link_arrays(net, uo, outgoing=True)
    aug = augmented(net.csr, src_nodes, src_s)
    n = net.num_nodes
    dist, pred = dijkstra(
        aug, directed=True, indices=np.arange(n, n + len(uo)), return_predecessors=True
    )
    return [
        _one_path(net, a, b, dist[row], pred[row], n + int(row))
        for row, a, b in zip(inv_o, o_pts, d_pts, strict=True)
    ]


def _one_path(
    net: RoadNetwork,
    a: SnappedPoint,
    b: SnappedPoint,
    dist: np.ndarray,
    pred: np.ndarray,
    src: int,
) -> RoadPath:
    """The path from ``a`` to ``b`` out of one search row (``src`` its virtual source)."""
    best_s, last = np.inf, None
    for link in point_links(net, b, outgoing=False):  # enter b by its cheapest link
        s = dist[link.node] + link.seconds
        if s < best_s:
            best_s, last = s, link
    direct = _along_one_edge(net, a, b, best_s)
    if direct is not None:
        return direct
    if last is None or not np.isfinite(best_s):  # pragma: no cover - one SCC: always a path
        raise RoadNetworkError("no path between two points of one strongly connected graph")
    nodes = _walk_back(pred, last.node, src)
    return _through_graph(net, a, nodes, last, float(best_s))


def _along_one_edge(
    net: RoadNetwork, a: SnappedPoint, b: SnappedPoint, best_s: float
) -> RoadPath | None:
    """The partial trip along one directed edge from ``a`` to ``b``, if no slower than ``best_s``."""
    direct = None
    for e, fo in a.edges:
        for e2, fd in b.edges:
            if e == e2 and fd >= fo:
                s = (fd - fo) * net.edge_time_s[e]
                if s <= best_s and (direct is None or s < direct[0]):
                    direct = (s, e, fo, fd)
    if direct is None:
        return None
    s, e, fo, fd = direct
    return RoadPath(
        travel_time_s=float(s),
        length_m=float((fd - fo) * net.edge_length_m[e]),
        coords=net.shapes.part(e, fo, fd),
    )


def _walk_back(pred: np.ndarray, node: int, src: int) -> list[int]:
    """Graph nodes from the first after the virtual source ``src`` to ``node``."""
    nodes = [node]
    while True:
        p = int(pred[nodes[-1]])
        if p < 0:  # pragma: no cover - defensive
            raise RoadNetworkError("broken predecessor chain")
        if p == src:
            break
        nodes.append(p)
    nodes.reverse()
    return nodes


def _through_graph(
    net: RoadNetwork, a: SnappedPoint, nodes: list[int], last: Link, seconds: float
) -> RoadPath:
    """Leave ``a`` to ``nodes[0]``, follow the fastest edges along ``nodes``, enter by ``last``."""
    first = min(
        (x for x in point_links(net, a, outgoing=True) if x.node == nodes[0]),
        key=lambda x: x.seconds,
    )
    coords = list(_link_coords(net, first))
    length = first.metres
    for u, v in zip(nodes[:-1], nodes[1:], strict=True):
        e = net.fastest.edge_between(u, v)
        coords.extend(map(tuple, net.shapes.lonlat[e].tolist()))
        length += net.edge_length_m[e]
    coords.extend(_link_coords(net, last))
    length += last.metres
    if len(coords) == 0:
        coords = [(net.node_lon[nodes[0]], net.node_lat[nodes[0]])]
    return RoadPath(
        travel_time_s=seconds,
        length_m=float(length),
        coords=tuple(dedupe_coords(coords)),
        nodes=tuple(int(x) for x in nodes),
    )


def _link_coords(net: RoadNetwork, link: Link) -> tuple[tuple[float, float], ...]:
    if link.edge < 0:
        return ()
    return net.shapes.part(link.edge, link.f0, link.f1)
