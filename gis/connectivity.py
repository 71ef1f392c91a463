"""Connectivity from geometry: ``from_node``/``to_node`` of lines and switches when a GIS
export has only geometry.

All distances are metres: the frames given to :func:`infer_connectivity` must be in a
metric (projected) CRS. Every guess is returned as a :class:`gis.quality.Snap`.

The rules, with ``tol`` the snapping tolerance:

* each line end (first and last coordinate) joins the nearest switch or node within
  ``tol`` (a switch wins a tie);
* line ends that reach no device are joined to each other when within ``tol`` (chains of
  ends within ``tol``), at a new ``junction`` node in their mean position, named
  ``<line>:<from|to>`` after the first of them; an end alone gets a junction of its own
  (a dangling end, reported by :mod:`gis.quality`);
* a switch with a node within ``tol`` runs between that node and a new junction
  ``<switch>:b`` holding every line end that joined the switch; a switch with no node
  near runs between two new junctions ``<switch>:a`` and ``<switch>:b``, one per line end
  (exactly two ends must join it; more is an ``ambiguous_switch`` error);
* finally each switch is turned so that ``from_node`` is the side nearer (in hops, all
  switches closed) to a node inside a substation: the upstream side.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.quality import SEVERITY, QualityItem, Snap

__all__ = ["Connectivity", "infer_connectivity"]


@dataclass
class Connectivity:
    """``line_ends`` and ``switch_ends``: ``(from_node, to_node)`` per row of the given frames;
    ``junctions``: new junction nodes (id, kind, geometry in the metric CRS); every guess in
    ``snaps``; switches that cannot be placed in ``problems``."""

    line_ends: list[tuple[str, str]]
    switch_ends: list[tuple[str, str]]
    junctions: gpd.GeoDataFrame
    snaps: list[Snap]
    problems: list[QualityItem]


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _nearest(tree: shapely.STRtree, points: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest tree geometry within ``tol`` of every point (-1 when none) and its distance."""
    idx = np.full(len(points), -1, dtype=np.int64)
    dist = np.full(len(points), np.inf)
    if len(points) == 0 or len(tree) == 0:
        return idx, dist
    (src, hit), d = tree.query_nearest(points, max_distance=tol, return_distance=True, all_matches=True)
    for s, h, dd in zip(src, hit, d, strict=True):  # ties: the lowest index wins, so the result is deterministic
        if dd < dist[s] or (dd == dist[s] and h < idx[s]):
            idx[s], dist[s] = h, dd
    return idx, dist


def infer_connectivity(nodes: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, switches: gpd.GeoDataFrame, *,
                       tolerance_m: float, taken_ids: Iterable[str] = ()) -> Connectivity:
    """Join line ends, switches and nodes by distance (all frames in one metric CRS, metres).

    ``nodes`` need ``id``, ``kind`` (and ``substation_id`` to orient the switches);
    ``lines`` and ``switches`` need ``id``. ``taken_ids`` are ids new junctions must not
    use (every id of the grid). See the module docstring for the rules.
    """
    taken = {str(i) for i in taken_ids}
    node_ids = [str(i) for i in nodes["id"]]
    line_ids = [str(i) for i in lines["id"]]
    sw_ids = [str(i) for i in switches["id"]]
    node_pts = np.asarray(nodes.geometry.values, dtype=object)
    sw_pts = np.asarray(switches.geometry.values, dtype=object)
    coords = [shapely.get_coordinates(g) if g is not None and not g.is_empty else np.full((1, 2), np.nan) for g in lines.geometry]
    end_xy = np.array([c[k, :2] for c in coords for k in (0, -1)]).reshape(-1, 2)
    ends = shapely.points(end_xy)
    end_name = [(line_ids[e // 2], "from" if e % 2 == 0 else "to") for e in range(len(ends))]
    snaps: list[Snap] = []
    problems: list[QualityItem] = []
    junction_rows: list[dict[str, object]] = []

    def new_junction(name: str, point: shapely.Point) -> str:
        jid, k = name, 1
        while jid in taken:
            k += 1
            jid = f"{name}:{k}"
        taken.add(jid)
        junction_rows.append({"id": jid, "kind": "junction", "geometry": point})
        return jid

    sw_hit, sw_d = _nearest(shapely.STRtree(sw_pts), ends, tolerance_m)
    node_hit, node_d = _nearest(shapely.STRtree(node_pts), ends, tolerance_m)
    end_node: list[str | None] = [None] * len(ends)
    at_switch: dict[int, list[int]] = {}
    loose: list[int] = []
    for e in range(len(ends)):
        if np.isnan(end_xy[e, 0]):
            continue
        if sw_hit[e] >= 0 and sw_d[e] <= node_d[e]:
            at_switch.setdefault(int(sw_hit[e]), []).append(e)
        elif node_hit[e] >= 0:
            end_node[e] = node_ids[node_hit[e]]
            snaps.append(Snap("lines", *end_name[e], "nodes", node_ids[node_hit[e]], float(node_d[e]), "node"))
        else:
            loose.append(e)

    # line ends near no device: chains of ends within the tolerance share a junction
    uf = _UnionFind(len(loose))
    if loose:
        pts = ends[loose]
        a, b = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=tolerance_m)
        for i, j in zip(a, b, strict=True):
            if i < j:
                uf.union(int(i), int(j))
    groups: dict[int, list[int]] = {}
    for k in range(len(loose)):
        groups.setdefault(uf.find(k), []).append(loose[k])
    for members in groups.values():
        members.sort(key=lambda e: end_name[e])
        centre = shapely.Point(end_xy[members].mean(axis=0))
        jid = new_junction(":".join(end_name[members[0]]), centre)
        for e in members:
            end_node[e] = jid
            via = "line_end" if len(members) > 1 else "none"
            snaps.append(Snap("lines", *end_name[e], "nodes", jid, float(centre.distance(ends[e])), via))

    # switches: a node near them is one side, their line ends the other (or one side per end)
    sw_node, sw_node_d = _nearest(shapely.STRtree(node_pts), sw_pts, tolerance_m)
    switch_ends: list[tuple[str, str]] = []
    for s, sid in enumerate(sw_ids):
        mine = sorted(at_switch.get(s, []), key=lambda e: end_name[e])
        pt = sw_pts[s]
        if sw_node[s] >= 0:
            side_a = node_ids[sw_node[s]]
            snaps.append(Snap("switches", sid, "a", "nodes", side_a, float(sw_node_d[s]), "node"))
            side_b = new_junction(f"{sid}:b", pt)
            groups_b = mine
            groups_a: list[int] = []
        else:
            side_a, side_b = new_junction(f"{sid}:a", pt), new_junction(f"{sid}:b", pt)
            groups_a, groups_b = mine[:1], mine[1:]
            if len(mine) > 2:
                problems.append(QualityItem(
                    "ambiguous_switch", SEVERITY["ambiguous_switch"], "switches", sid,
                    f"{len(mine)} line ends ({', '.join(':'.join(end_name[e]) for e in mine)}) meet at switch {sid} and no node "
                    "is near it: a switch must sit between exactly two sides (at the end of two lines, or between a node "
                    "and line ends)", None, None, tuple(end_name[e][0] for e in mine)))
        for side, members in ((side_a, groups_a), (side_b, groups_b)):
            for e in members:
                end_node[e] = side
                snaps.append(Snap("lines", *end_name[e], "switches", sid, float(pt.distance(ends[e])), "switch"))
        switch_ends.append((side_a, side_b))

    line_ends = [(end_node[2 * i] or "", end_node[2 * i + 1] or "") for i in range(len(line_ids))]
    switch_ends = _orient(nodes, line_ends, switch_ends)
    frame = gpd.GeoDataFrame(junction_rows or {"id": [], "kind": []}, geometry="geometry" if junction_rows else [],
                             crs=nodes.crs)
    return Connectivity(line_ends, switch_ends, frame, snaps, problems)


def _orient(nodes: pd.DataFrame, line_ends: list[tuple[str, str]], switch_ends: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each switch from its side nearer (in hops, all switches closed) to a node inside a substation."""
    inside = [str(i) for i, k, s in zip(nodes["id"], nodes["kind"], nodes.get("substation_id", [None] * len(nodes)), strict=True)
              if k == "busbar" or (isinstance(s, str) and s)]
    adj: dict[str, list[str]] = {}
    for a, b in [*line_ends, *switch_ends]:
        if a and b:
            adj.setdefault(a, []).append(b)
            adj.setdefault(b, []).append(a)
    hops = dict.fromkeys(inside, 0)
    queue = deque(inside)
    while queue:
        n = queue.popleft()
        for m in adj.get(n, ()):
            if m not in hops:
                hops[m] = hops[n] + 1
                queue.append(m)
    far = len(adj) + 1
    return [(b, a) if hops.get(b, far) < hops.get(a, far) else (a, b) for a, b in switch_ends]
