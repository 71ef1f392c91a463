"""How snapped points join the graph: partial edges, the node graph, virtual sources.

A point at fraction ``f`` of a directed edge ``u -> v`` that takes ``t``
seconds leaves it towards ``v`` after ``(1 - f) x t`` and is reached from ``u``
after ``f x t`` (its *links*). A point within 1 cm of an edge end *is* that
node, so it also links to it at no cost. Searches run on the CSR of the
fastest parallel edge between every two nodes (:class:`FastestEdges`), to
which :func:`augmented` adds one virtual source row per point.

Used by :mod:`routing.matrix` (travel-time matrices) and :mod:`routing.paths`
(paths with geometry).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csr_matrix

from routing.snapping import SnappedPoint

if TYPE_CHECKING:
    from routing.roads import RoadNetwork

__all__ = [
    "FastestEdges",
    "Link",
    "augmented",
    "flat_edges",
    "link_arrays",
    "point_links",
    "same_edge",
    "unique_points",
]

#: A snapped point this close (metres) to an edge end is at that node.
AT_NODE_M = 0.01

#: ``flat_edges`` arrays: (point index, edge index, fraction) per edge a point lies on.
FlatEdges = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Link:
    """A point's connection to a graph node: along edge ``edge`` from fraction f0 to f1."""

    node: int
    seconds: float
    metres: float
    edge: int = -1
    f0: float = 0.0
    f1: float = 0.0


@dataclass(frozen=True)
class FastestEdges:
    """Node-to-node CSR of the fastest parallel edge (seconds), and its transpose.

    ``edge[i]`` is the directed edge behind CSR entry ``i``, ``keys[i]`` its
    ``u * n + v`` (sorted), ``length_m[i]`` its metres.
    """

    forward: csr_matrix
    reversed: csr_matrix
    edge: np.ndarray
    keys: np.ndarray
    length_m: np.ndarray

    @classmethod
    def build(
        cls, edge_u: np.ndarray, edge_v: np.ndarray, time_s: np.ndarray, length_m: np.ndarray, n: int
    ) -> FastestEdges:
        """From the directed edges (tails, heads, seconds, metres) of an ``n``-node graph."""
        order = np.lexsort((time_s, edge_v, edge_u))
        u, v = edge_u[order], edge_v[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        best = order[first]  # sorted by (u, v): CSR order
        bu, bv = edge_u[best], edge_v[best]
        indptr = np.concatenate(([0], np.cumsum(np.bincount(bu, minlength=n)))).astype(np.int64)
        forward = csr_matrix((time_s[best], bv.astype(np.int32), indptr), shape=(n, n))
        backward = forward.T.tocsr()  # the reversed graph, also in canonical CSR form
        backward.sort_indices()
        return cls(forward, backward, best, bu * n + bv, length_m[best])

    def edge_between(self, u: int, v: int) -> int:
        """The fastest directed edge from node ``u`` to node ``v`` (they must be adjacent)."""
        n = self.forward.shape[0]
        return int(self.edge[int(np.searchsorted(self.keys, u * n + v))])


def point_links(net: RoadNetwork, p: SnappedPoint, *, outgoing: bool) -> list[Link]:
    """How a point connects to the graph's nodes.

    Outgoing: drive from the point to the head of each edge it lies on.
    Incoming: drive from the tail of each edge to the point. A point within
    1 cm of an edge end *is* that node, so it also links to it at no cost
    (otherwise a point at the tail of a one-way street could not leave by
    the other streets of that junction).
    """
    links = []
    for e, f in p.edges:
        length = net.edge_length_m[e]
        part = (1.0 - f) if outgoing else f
        node = int(net.edge_v[e] if outgoing else net.edge_u[e])
        span = (f, 1.0) if outgoing else (0.0, f)
        links.append(Link(node, part * net.edge_time_s[e], part * length, e, *span))
        rest = f if outgoing else 1.0 - f
        if rest * length <= AT_NODE_M:
            links.append(Link(int(net.edge_u[e] if outgoing else net.edge_v[e]), 0.0, 0.0))
    return links


def link_arrays(
    net: RoadNetwork,
    points: Sequence[SnappedPoint],
    *,
    outgoing: bool,
    flat: FlatEdges | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`point_links` as arrays, vectorised: ``nodes`` (P x K int),
    ``seconds`` (P x K, inf padding), ``metres`` (P x K)."""
    row, e, f = flat_edges(points) if flat is None else flat
    part = (1.0 - f) if outgoing else f
    rest = f if outgoing else 1.0 - f
    head, tail = net.edge_v[e], net.edge_u[e]
    length = net.edge_length_m[e]
    node = head if outgoing else tail
    secs = part * net.edge_time_s[e]
    metres = part * length
    at_node = rest * length <= AT_NODE_M  # the point is that node: free link
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


def augmented(base: csr_matrix, nodes: np.ndarray, costs: np.ndarray) -> csr_matrix:
    """The base CSR plus one virtual source row per point (``nodes``/``costs``: P x K links).

    Virtual sources have only outgoing edges, so no other search ever enters
    them: the shortest-path rows of the base nodes are unchanged.
    """
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


def flat_edges(points: Sequence[SnappedPoint]) -> FlatEdges:
    """(point index, edge, fraction) for every edge a point lies on."""
    counts = np.fromiter((len(p.edges) for p in points), dtype=np.int64, count=len(points))
    flat = [ef for p in points for ef in p.edges]
    edge = np.fromiter((x[0] for x in flat), dtype=np.int64, count=len(flat))
    frac = np.fromiter((x[1] for x in flat), dtype=float, count=len(flat))
    return np.repeat(np.arange(len(points)), counts), edge, frac


def same_edge(
    net: RoadNetwork, origins: FlatEdges, dests: FlatEdges
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Direct trips along one directed edge: arrays (origin i, dest j, seconds, metres).

    Takes the :func:`flat_edges` arrays of the origins and destinations.
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
    return oi[rep], di[pos], part * net.edge_time_s[e], part * net.edge_length_m[e]


def unique_points(points: Sequence[SnappedPoint]) -> tuple[list[SnappedPoint], np.ndarray]:
    """The distinct places (by :attr:`SnappedPoint.key`) and each point's index among them."""
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
