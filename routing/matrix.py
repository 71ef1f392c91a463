"""Exact travel-time (and length) matrices between snapped points.

:func:`travel_matrix` answers :meth:`routing.roads.RoadNetwork.matrix`:

* distinct places only (points within 1 mm of each other on one street are
  one place), searched from whichever side has fewer of them (the reversed
  graph when the destinations are fewer);
* without lengths, a source with a single link (a point on a one-way street)
  is searched from that link's node and its partial-edge seconds are added
  afterwards; the others get one virtual source row each
  (:func:`routing.links.augmented`); one ``scipy.sparse.csgraph.dijkstra``
  call, then a vectorised gather over the destinations' incoming links;
* with lengths (or when one distance block would pass
  :data:`_MATRIX_BLOCK_BYTES`), sources go in chunks, each with its own
  augmented graph, and lengths along the fastest paths come from the
  predecessor trees by pointer doubling;
* two points on one directed edge in driving order also get the direct
  partial trip.

Everything derived from the two point sets is a :class:`MatrixPlan`, kept per
network in a small LRU (:class:`PlanCache`) keyed by the snapped positions,
so repeated matrices over the same points (dispatch re-plans) skip it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from routing.links import augmented, flat_edges, link_arrays, same_edge, unique_points
from routing.snapping import SnappedPoint

if TYPE_CHECKING:
    from routing.roads import RoadNetwork

__all__ = ["MatrixPlan", "PlanCache", "travel_matrix"]

#: Largest distance block one dijkstra call may return (bytes); sources go in chunks.
_MATRIX_BLOCK_BYTES = 256 * 2**20
#: Matrix set-ups (link arrays, augmented CSRs, gathers) kept per road network, keyed by
#: the snapped positions of the origins and destinations (least recently used dropped).
_MATRIX_CACHE_SIZE = 8


@dataclass
class MatrixPlan:
    """Everything :func:`travel_matrix` derives from one (origins, destinations) set.

    Built once per distinct pair of snapped point sets and kept in the network's
    :class:`PlanCache`; read-only once built, except for ``aug``, the augmented
    CSR per source chunk, filled on first use.
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


class PlanCache:
    """The matrix plans of one road network, least recently used dropped; thread-safe.

    Keys are ``(origin keys, destination keys or None)`` of
    :attr:`SnappedPoint.key`; at most :data:`_MATRIX_CACHE_SIZE` plans are kept.
    """

    def __init__(self) -> None:
        self._plans: OrderedDict[tuple[Any, ...], MatrixPlan] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> MatrixPlan | None:
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
            return plan

    def put(self, key: tuple[Any, ...], plan: MatrixPlan) -> None:
        with self._lock:
            self._plans[key] = plan
            self._plans.move_to_end(key)
            while len(self._plans) > _MATRIX_CACHE_SIZE:
                self._plans.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()

    def __len__(self) -> int:
        return len(self._plans)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        """The keys, least recently used first."""
        with self._lock:
            return iter(list(self._plans))


def travel_matrix(
    net: RoadNetwork,
    o_pts: Sequence[SnappedPoint],
    d_pts: Sequence[SnappedPoint],
    *,
    same: bool,
    with_length: bool,
    cache: PlanCache,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Fastest seconds (and, ``with_length``, metres of those paths) from each origin to each destination.

    ``same`` says the destinations are the origins. The caller owns the
    returned arrays (nothing cached is handed out).
    """
    if not o_pts or not d_pts:
        shape = (len(o_pts), len(d_pts))
        return (np.zeros(shape), np.zeros(shape)) if with_length else np.zeros(shape)
    plan = _cached_plan(net, o_pts, d_pts, same=same, cache=cache)
    tt, ll = _search(net, plan, with_length=with_length)
    if plan.reverse:
        tt = tt.T
        ll = None if ll is None else ll.T
    _add_direct_trips(plan, tt, ll)
    if plan.inv_o is not None or plan.inv_d is not None:  # repeated points: expand
        inv_o = np.arange(plan.n_o) if plan.inv_o is None else plan.inv_o
        inv_d = np.arange(plan.n_d) if plan.inv_d is None else plan.inv_d
        tt = tt[np.ix_(inv_o, inv_d)]
        ll = None if ll is None else ll[np.ix_(inv_o, inv_d)]
    if with_length:
        assert ll is not None
        return tt, ll
    return tt


def _search(
    net: RoadNetwork, plan: MatrixPlan, *, with_length: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Seconds (and metres) from every searched-from place to every place on the other side."""
    if not with_length and len(plan.fast_indices) * 8 * plan.fast_aug.shape[0] <= (
        _MATRIX_BLOCK_BYTES
    ):
        return _one_block(plan), None
    # chunks of sources, so that one distance block stays under _MATRIX_BLOCK_BYTES
    n, s_all = net.num_nodes, len(plan.src_nodes)
    per_source = 8 * (n + s_all) * (3 if with_length else 1)
    chunk = max(1, min(s_all, int(_MATRIX_BLOCK_BYTES // per_source)))
    tts, lls = [], []
    for lo in range(0, s_all, chunk):
        hi = min(lo + chunk, s_all)
        aug = plan.aug.get((lo, hi))
        if aug is None:
            base = net.csr_reversed if plan.reverse else net.csr
            aug = plan.aug[(lo, hi)] = augmented(base, plan.src_nodes[lo:hi], plan.src_s[lo:hi])
        if with_length:
            tt, ll = _times_and_lengths(net, plan, aug, lo, hi)
            tts.append(tt)
            lls.append(ll)
        else:
            dist = dijkstra(aug, directed=True, indices=np.arange(n, n + hi - lo))
            tts.append(_gather(plan, dist))
    return _stack(tts), (_stack(lls) if lls else None)


def _stack(blocks: list[np.ndarray]) -> np.ndarray:
    return blocks[0] if len(blocks) == 1 else np.vstack(blocks)


def _one_block(plan: MatrixPlan) -> np.ndarray:
    """Seconds by one dijkstra call from single-link nodes and virtual rows (no lengths)."""
    dist = dijkstra(plan.fast_aug, directed=True, indices=plan.fast_indices)
    tt = _gather(plan, dist)
    if plan.fast_row is not None:
        tt = np.take(tt, plan.fast_row, axis=0)
    tt += plan.fast_offset
    return tt


def _times_and_lengths(
    net: RoadNetwork, plan: MatrixPlan, aug: csr_matrix, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds and metres of the fastest paths from sources ``lo:hi`` (virtual rows of ``aug``)."""
    n = net.num_nodes
    indices = np.arange(n, n + hi - lo)
    dist, pred = dijkstra(aug, directed=True, indices=indices, return_predecessors=True)
    src = slice(lo, hi)
    plen = _tree_lengths(
        net, pred, plan.src_nodes[src], plan.src_s[src], plan.src_m[src], reverse=plan.reverse
    )
    total = dist[:, plan.dst_nodes] + plan.dst_s[None, :, :]
    k = total.argmin(axis=2)[:, :, None]
    lens = plen[:, plan.dst_nodes] + plan.dst_m[None, :, :]
    return (
        np.take_along_axis(total, k, axis=2)[:, :, 0],
        np.take_along_axis(lens, k, axis=2)[:, :, 0],
    )


def _add_direct_trips(plan: MatrixPlan, tt: np.ndarray, ll: np.ndarray | None) -> None:
    """Take the partial trip along one directed edge where it beats the graph (in place)."""
    si, sj, ss, sm = plan.same_i, plan.same_j, plan.same_s, plan.same_m
    if ll is None:
        np.minimum.at(tt, (si, sj), ss)
        return
    for i, j, secs, metres in zip(si, sj, ss, sm, strict=True):
        if secs < tt[i, j] or (secs == tt[i, j] and metres < ll[i, j]):
            tt[i, j] = secs
            ll[i, j] = metres


def _gather(plan: MatrixPlan, dist: np.ndarray) -> np.ndarray:
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


def _cached_plan(
    net: RoadNetwork,
    o_pts: Sequence[SnappedPoint],
    d_pts: Sequence[SnappedPoint],
    *,
    same: bool,
    cache: PlanCache,
) -> MatrixPlan:
    """The plan of these point sets from ``cache``, built on a miss.

    The key is the snapped positions (:attr:`SnappedPoint.key`, the millimetre
    identity the matrix already merges points by), so any other point set is a
    miss. The graph is immutable, so a plan stays valid for its network.
    """
    o_key = tuple([p.key for p in o_pts])
    d_key = None if same else tuple([p.key for p in d_pts])
    if d_key == o_key:  # the same places given twice: one set-up
        same, d_key = True, None
    key = (o_key, d_key)
    plan = cache.get(key)
    if plan is None:
        plan = _build_plan(net, o_pts, d_pts, same=same)
        cache.put(key, plan)
    return plan


def _build_plan(
    net: RoadNetwork, o_pts: Sequence[SnappedPoint], d_pts: Sequence[SnappedPoint], *, same: bool
) -> MatrixPlan:
    uo, inv_o = unique_points(o_pts)
    ud, inv_d = (uo, inv_o) if same else unique_points(d_pts)
    flat_o = flat_edges(uo)
    flat_d = flat_o if same else flat_edges(ud)
    reverse = len(ud) < len(uo)
    if not reverse:
        src = link_arrays(net, uo, outgoing=True, flat=flat_o)
        dst = link_arrays(net, ud, outgoing=False, flat=flat_d)
    else:
        src = link_arrays(net, ud, outgoing=False, flat=flat_d)
        dst = link_arrays(net, uo, outgoing=True, flat=flat_o)
    for a in (*src, *dst):
        a.flags.writeable = False
    level_nodes, level_s, unsort = _gather_levels(dst[0], dst[1])
    fast_aug, fast_indices, fast_row, fast_offset = _single_link_sources(net, src, reverse=reverse)
    si, sj, ss, sm = same_edge(net, flat_o, flat_d)
    return MatrixPlan(
        n_o=len(o_pts),
        n_d=len(d_pts),
        inv_o=None if len(uo) == len(o_pts) else inv_o,
        inv_d=None if len(ud) == len(d_pts) else inv_d,
        reverse=reverse,
        src_nodes=src[0],
        src_s=src[1],
        src_m=src[2],
        dst_nodes=dst[0],
        dst_s=dst[1],
        dst_m=dst[2],
        level_nodes=level_nodes,
        level_s=level_s,
        unsort=unsort,
        fast_aug=fast_aug,
        fast_indices=fast_indices,
        fast_row=fast_row,
        fast_offset=fast_offset,
        same_i=si,
        same_j=sj,
        same_s=ss,
        same_m=sm,
    )


def _gather_levels(
    dst_nodes: np.ndarray, dst_s: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray | None]:
    """Destinations sorted by number of links (most first); per link k its nodes and seconds."""
    per_dst = np.isfinite(dst_s).sum(axis=1)  # link_arrays fills links left to right
    order = np.argsort(-per_dst, kind="stable")
    unsort = np.empty_like(order)
    unsort[order] = np.arange(len(order))
    level_nodes, level_s = [], []
    for k in range(dst_nodes.shape[1]):
        c = int((per_dst > k).sum())
        if c:
            level_nodes.append(np.ascontiguousarray(dst_nodes[order[:c], k]))
            level_s.append(np.ascontiguousarray(dst_s[order[:c], k]))
    unchanged = (order == np.arange(len(order))).all()
    return level_nodes, level_s, None if unchanged else unsort


def _single_link_sources(
    net: RoadNetwork, src: tuple[np.ndarray, np.ndarray, np.ndarray], *, reverse: bool
) -> tuple[csr_matrix, np.ndarray, np.ndarray | None, np.ndarray]:
    """The one-block search: (graph, dijkstra sources, row of each point, seconds to add).

    A source with a single link starts at that link's node (shared when equal);
    the others get one virtual source row each.
    """
    src_nodes, src_s, _ = src
    n = net.num_nodes
    single = np.isfinite(src_s).sum(axis=1) == 1
    heads, head_row = np.unique(src_nodes[single, 0], return_inverse=True)
    multi = np.flatnonzero(~single)
    row = np.empty(len(src_nodes), dtype=np.intp)
    row[single] = head_row
    row[multi] = len(heads) + np.arange(len(multi))
    offset = np.where(single, src_s[:, 0], 0.0)[:, None]
    base = net.csr_reversed if reverse else net.csr
    aug = augmented(base, src_nodes[multi], src_s[multi])
    indices = np.concatenate((heads, n + np.arange(len(multi)))).astype(np.intp)
    identity = (row == np.arange(len(row))).all()
    return aug, indices, None if identity else row, offset


def _tree_lengths(
    net: RoadNetwork,
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
    n = net.num_nodes
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
    pos = np.searchsorted(net.fastest.keys, keys)
    edge_len[base] = net.fastest.length_m[pos]
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
