"""The topology engine: sections, the normal-state supply tree and fast study states.

Everything here works on integer indices and NumPy arrays; :class:`gis.grid.Grid`
translates ids. The idea:

* **Sections.** Contract every line: the connected components of the node graph
  without switches are the *sections* (nodes that are always energised
  together). Switches join sections.
* **Substations.** Sections inside a substation are *source sections*; they
  are joined to each other by *internal* switches (transformer breakers, bus
  couplers), where meshes are legal. A source section is live when closed
  internal switches join it to an *infeed* section (where the supply enters,
  e.g. the external grid's busbar); that small graph is solved on its own.
* **Normal tree.** A virtual root joins every live source section. A
  depth-first search from the root over the normally-closed
  switches gives the supply tree of the normal (radial) state. A closed switch
  that is not a tree edge closes a loop (or parallels two sources) and is a
  validation error. In DFS *pre-order* every subtree is one contiguous range
  ``[tin, tout)`` of positions, and nodes and customers are stored sorted by
  the position of their section, so "everything below switch S" is one slice.
* **Study states.** Opening tree switches cuts the tree into *pieces* (each a
  range minus the ranges of the pieces nested in it); closing normally-open
  switches joins pieces. A breadth-first search over the handful of pieces says
  which are energised and by which feeder. A query with k switches changed
  costs O(k log k) plus the size of the answer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, depth_first_order

if TYPE_CHECKING:
    from gis.components import ComponentState

NO = -1  # "none" in integer arrays
BULK_CHANGES = 200  # at least this many switches changed, and 1/64 of the sections: a components pass
BULK_SHARE = 64  # (measured crossovers, bench/bench_topology.py --bulk: ~1,000 changes at 50k sections, ~7,000 at 500k)


@dataclass
class Topology:
    """Index structures of a grid in its normal state (all integer arrays).

    Inputs: ``n_nodes``; lines as ``line_from``/``line_to`` node indices;
    switches as ``sw_from``/``sw_to`` node indices, ``sw_open`` (normally open)
    and ``sw_feeder_breaker`` (a breaker whose upstream node is a busbar);
    ``source_nodes`` (nodes inside substations) with ``source_substation`` labels;
    ``infeed_nodes`` (where the supply enters; default: every source node).
    """

    n_nodes: int
    line_from: np.ndarray
    line_to: np.ndarray
    sw_from: np.ndarray
    sw_to: np.ndarray
    sw_open: np.ndarray
    sw_feeder_breaker: np.ndarray
    source_nodes: np.ndarray
    source_substation: np.ndarray
    infeed_nodes: np.ndarray | None = None

    # derived (filled by build())
    section_of_node: np.ndarray = field(init=False)
    n_sections: int = field(init=False)
    is_source_section: np.ndarray = field(init=False)
    section_substation: np.ndarray = field(init=False)  # substation code of source sections, NO
    sw_sec_a: np.ndarray = field(init=False)
    sw_sec_b: np.ndarray = field(init=False)
    parent_switch: np.ndarray = field(init=False)  # tree switch above each section, NO for roots
    parent_section: np.ndarray = field(init=False)
    child_of_switch: np.ndarray = field(init=False)  # section below a tree switch, NO otherwise
    tin: np.ndarray = field(init=False)  # DFS position of each section
    tout: np.ndarray = field(init=False)
    normal_feeder: np.ndarray = field(init=False)  # feeder breaker switch index per section, NO
    normally_live: np.ndarray = field(init=False)  # section energised in the normal state
    component_roots: np.ndarray = field(init=False)  # sections not reached from a source: their tree roots
    loops: list[list[int]] = field(init=False)  # switch indices of each closed loop found
    paralleled: list[tuple[int, int, int]] = field(init=False)  # (switch, source a, source b)
    bypassed_switches: np.ndarray = field(init=False)  # switches whose ends share a section
    sw_internal: np.ndarray = field(init=False)  # switch between two source sections (coupler, trafo breaker)
    is_infeed_section: np.ndarray = field(init=False)
    source_normally_live: np.ndarray = field(init=False)  # per section: a source section fed in the normal state

    def build(self) -> Topology:
        self._sections()
        self._tree()
        for value in vars(self).values():  # the index never changes after load
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        return self

    # -- sections -----------------------------------------------------------

    def _sections(self) -> None:
        n = self.n_nodes
        adj = sp.coo_matrix(
            (np.ones(len(self.line_from), dtype=np.int8), (self.line_from, self.line_to)), shape=(n, n)
        ).tocsr()
        self.n_sections, labels = connected_components(adj, directed=False)
        self.section_of_node = labels.astype(np.int64)
        self.is_source_section = np.zeros(self.n_sections, dtype=bool)
        self.is_source_section[self.section_of_node[self.source_nodes]] = True
        self.section_substation = np.full(self.n_sections, NO, dtype=np.int64)
        self.section_substation[self.section_of_node[self.source_nodes]] = self.source_substation
        self.sw_sec_a = self.section_of_node[self.sw_from]
        self.sw_sec_b = self.section_of_node[self.sw_to]
        self.bypassed_switches = np.flatnonzero(self.sw_sec_a == self.sw_sec_b)
        self.sw_internal = self.is_source_section[self.sw_sec_a] & self.is_source_section[self.sw_sec_b] & (self.sw_sec_a != self.sw_sec_b)
        infeed = self.source_nodes if self.infeed_nodes is None else self.infeed_nodes
        self.is_infeed_section = np.zeros(self.n_sections, dtype=bool)
        self.is_infeed_section[self.section_of_node[np.asarray(infeed, dtype=np.int64)]] = True
        self.source_normally_live = self.sources_live(~self.sw_open)

    def sources_live(self, closed: np.ndarray) -> np.ndarray:
        """Per section: a source section joined to an infeed section by internal switches
        closed in ``closed`` (a mask over all switches)."""
        src = np.flatnonzero(self.is_source_section)
        local = np.full(self.n_sections, NO, dtype=np.int64)
        local[src] = np.arange(len(src))
        use = np.flatnonzero(self.sw_internal & closed)
        k = len(src)
        g = sp.coo_matrix((np.ones(len(use), dtype=np.int8), (local[self.sw_sec_a[use]], local[self.sw_sec_b[use]])), shape=(k, k))
        _, comp = connected_components(g, directed=False)
        fed = np.zeros(k, dtype=bool)
        fed[np.unique(comp[self.is_infeed_section[src]])] = True
        out = np.zeros(self.n_sections, dtype=bool)
        out[src] = fed[comp]
        return out

    # -- normal tree --------------------------------------------------------

    def _tree(self) -> None:
        """The normal-state supply tree: parents, DFS ranges, tree switches, loops, feeders."""
        graph, sw_idx, src_secs = self._tree_graph()
        order_parts, pred = self._dfs_forest(graph)
        order = np.concatenate(order_parts) if order_parts else np.zeros(0, dtype=np.int64)
        self.parent_section = pred
        levels = _levels(pred)
        self._ranges(order, pred, levels)
        non_tree = self._tree_switches(sw_idx, pred)
        self._find_loops(non_tree, src_secs)
        live = np.zeros(self.n_sections, dtype=bool)
        live[order_parts[0]] = True
        self.normally_live = live
        self._normal_feeders(levels, pred)

    def _tree_graph(self) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """The section graph of the normal state, sections ``0..n-1`` plus a virtual root ``n`` joined
        to every live source section; also records closed couplers that parallel two substations.
        Returns (graph, its switches, the live source sections)."""
        ns = self.n_sections
        root = ns  # virtual root
        a, b = self.sw_sec_a, self.sw_sec_b
        # Switches between two source sections (bus couplers) never change what
        # is energised; between different substations and closed they parallel
        # two sources, which is reported.
        coupler = self.is_source_section[a] & self.is_source_section[b]
        usable = (~self.sw_open) & (a != b) & ~coupler
        sec_sub = self.section_substation
        self.paralleled = [
            (int(s), int(a[s]), int(b[s]))
            for s in np.flatnonzero(coupler & ~self.sw_open & (a != b))
            if sec_sub[a[s]] != sec_sub[b[s]]
        ]
        sw_idx = np.flatnonzero(usable)
        src_secs = np.flatnonzero(self.source_normally_live)
        rows = np.concatenate([a[sw_idx], b[sw_idx], np.full(len(src_secs), root), src_secs])
        cols = np.concatenate([b[sw_idx], a[sw_idx], src_secs, np.full(len(src_secs), root)])
        graph = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(ns + 1, ns + 1))
        return graph, sw_idx, src_secs

    def _dfs_forest(self, graph: sp.csr_matrix) -> tuple[list[np.ndarray], np.ndarray]:
        """Depth-first orders from the virtual root, then from a root per component no source reaches
        (a busbar section first); sets :attr:`component_roots`. Returns (the orders, parent section
        of every section, ``NO`` at roots)."""
        ns = self.n_sections
        order_parts: list[np.ndarray] = []
        pred = np.full(ns + 1, NO, dtype=np.int64)
        visited = np.zeros(ns + 1, dtype=bool)
        order, p = depth_first_order(graph, ns, directed=False, return_predecessors=True)
        order_parts.append(order[1:])  # drop the virtual root
        visited[order] = True
        pred[order] = p[order]
        comp_roots: list[int] = []
        if not visited[:ns].all():
            # Sections no source reaches in the normal state: their own trees.
            _, comp = connected_components(graph, directed=False)
            unvisited = np.flatnonzero(~visited[:ns])
            # a busbar section left without supply roots its own tree
            unvisited = unvisited[np.argsort(~self.is_source_section[unvisited], kind="stable")]
            _, first = np.unique(comp[unvisited], return_index=True)
            for r in unvisited[np.sort(first)]:
                o, p = depth_first_order(graph, int(r), directed=False, return_predecessors=True)
                order_parts.append(o)
                pred[o] = p[o]
                pred[r] = NO
                comp_roots.append(int(r))
        self.component_roots = np.array(comp_roots, dtype=np.int64)
        pred = pred[:ns]
        pred[pred == ns] = NO
        pred[pred < 0] = NO
        return order_parts, pred

    def _ranges(self, order: np.ndarray, pred: np.ndarray, levels: list[np.ndarray]) -> None:
        """DFS pre-order positions: each subtree is ``[tin, tout)``."""
        ns = self.n_sections
        self.tin = np.empty(ns, dtype=np.int64)
        self.tin[order] = np.arange(ns)
        size = np.ones(ns, dtype=np.int64)
        for nodes in reversed(levels[1:]):  # children before parents
            np.add.at(size, pred[nodes], size[nodes])
        self.tout = self.tin + size

    def _tree_switches(self, sw_idx: np.ndarray, pred: np.ndarray) -> list[int]:
        """Which switch is the tree edge above each section (the lowest-numbered one when several
        join the same two sections; the others close loops). Returns the usable switches that are
        not tree edges."""
        a, b = self.sw_sec_a, self.sw_sec_b
        self.parent_switch = np.full(self.n_sections, NO, dtype=np.int64)
        self.child_of_switch = np.full(len(self.sw_from), NO, dtype=np.int64)
        sa, sb = a[sw_idx], b[sw_idx]
        child = np.where(pred[sb] == sa, sb, np.where(pred[sa] == sb, sa, NO))
        has = child != NO
        kids, first = np.unique(child[has], return_index=True)
        tree_sw = sw_idx[has][first]
        self.parent_switch[kids] = tree_sw
        self.child_of_switch[tree_sw] = kids
        is_tree = np.zeros(len(self.sw_from), dtype=bool)
        is_tree[tree_sw] = True
        return [int(x) for x in sw_idx[~is_tree[sw_idx]]]

    def _find_loops(self, non_tree: list[int], src_secs: np.ndarray) -> None:
        """The closed loop of every non-tree switch, and of every live source reached through
        switches (the path from another source to it; two substations paralleled when theirs differ)."""
        self.loops = [self._cycle(s) for s in non_tree]
        sec_sub = self.section_substation
        for src in src_secs:
            if self.parent_section[src] != NO:
                path = self._path_to_root(int(src))
                self.loops.append([int(self.parent_switch[x]) for x in path if self.parent_switch[x] != NO])
                top = path[-1]
                if sec_sub[top] != sec_sub[src]:
                    sw_path = self.loops[-1]
                    self.paralleled.append((sw_path[0], int(top), int(src)))

    def _normal_feeders(self, levels: list[np.ndarray], pred: np.ndarray) -> None:
        """The feeder breaker above each section, inherited down the tree level by level."""
        feeder = np.full(self.n_sections, NO, dtype=np.int64)
        for nodes in levels[1:]:  # parents before children
            ps = self.parent_switch[nodes]
            has_ps = ps != NO
            inherit = feeder[np.where(pred[nodes] != NO, pred[nodes], 0)]
            feeder[nodes] = np.where(has_ps & self.sw_feeder_breaker[np.where(has_ps, ps, 0)], ps, inherit)
        self.normal_feeder = feeder

    def _cycle(self, s: int) -> list[int]:
        """Switches on the closed loop made by non-tree switch ``s`` (including ``s``)."""
        a, b = int(self.sw_sec_a[s]), int(self.sw_sec_b[s])
        path_a = self._path_to_root(a)
        path_b = self._path_to_root(b)
        on_a = {sec: i for i, sec in enumerate(path_a)}
        meet = next((sec for sec in path_b if sec in on_a), None)
        switches = [s]
        for path in (path_a, path_b):
            for sec in path:
                if sec == meet:
                    break
                switches.append(int(self.parent_switch[sec]))
        return [x for x in switches if x != NO]

    def _path_to_root(self, sec: int) -> list[int]:
        out = [sec]
        while self.parent_section[sec] != NO:
            sec = int(self.parent_section[sec])
            out.append(sec)
        return out

    # -- sorted positions of nodes ------------------------------------------

    @cached_property
    def node_order(self) -> np.ndarray:
        """Node indices sorted by the DFS position of their section."""
        return np.argsort(self.tin[self.section_of_node], kind="stable")

    @cached_property
    def node_pos(self) -> np.ndarray:
        """DFS position of each node's section, in :attr:`node_order`."""
        return self.tin[self.section_of_node][self.node_order]

    @cached_property
    def section_order(self) -> np.ndarray:
        """Section indices in DFS pre-order (the inverse of :attr:`tin`)."""
        order = np.empty(self.n_sections, dtype=np.int64)
        order[self.tin] = np.arange(self.n_sections)
        return order

    @cached_property
    def source_rooted(self) -> np.ndarray:
        """Per section: its tree hangs from a source section, i.e. normally-closed switches join it
        to a substation (fed or not); False for islands reached only through normally-open switches."""
        out = self.normally_live.copy()
        for r in self.component_roots[self.is_source_section[self.component_roots]]:
            out[self.section_order[self.tin[r] : self.tout[r]]] = True
        return out

    def study(self, open_switches: np.ndarray, close_switches: np.ndarray) -> State | ComponentState:
        """The state with ``open_switches`` opened and ``close_switches`` closed: from the tree's
        pre-order ranges for a few changes, by a components pass (:mod:`gis.components`) for many."""
        opened = np.asarray(open_switches, dtype=np.int64)
        closing = np.asarray(close_switches, dtype=np.int64)
        if len(opened) + len(closing) > max(BULK_CHANGES, self.n_sections // BULK_SHARE):
            from gis.components import ComponentState

            return ComponentState(self, opened, closing)
        return State(self, opened, closing)


def _levels(pred: np.ndarray) -> list[np.ndarray]:
    """Indices of each depth level of a forest given by parent pointers (``NO`` at roots).

    Depth by pointer jumping (list ranking): O(log depth) vectorised rounds.
    """
    n = len(pred)
    depth = (pred != NO).astype(np.int64)
    nxt = pred.copy()
    active = np.flatnonzero(nxt != NO)
    while len(active):
        j = nxt[active]
        depth_j = depth[j]
        nxt_j = nxt[j]
        depth[active] += depth_j
        nxt[active] = nxt_j
        active = active[nxt_j != NO]
    order = np.argsort(depth, kind="stable")
    counts = np.bincount(depth, minlength=1) if n else np.zeros(1, dtype=np.int64)
    return np.split(order, np.cumsum(counts)[:-1])


class Supply(ABC):
    """What a study state says about loops, from its ``section_feeder`` and ``mesh_switches``
    (shared by :class:`State` and :class:`gis.components.ComponentState`)."""

    topo: Topology
    mesh_switches: list[int]

    @abstractmethod
    def section_feeder(self, secs: np.ndarray) -> np.ndarray:
        """Feeder breaker index feeding each section (NO when dead or a source)."""

    @abstractmethod
    def dead_node_idx(self) -> np.ndarray:
        """Indices of the nodes without supply (any order)."""

    def supply_of_section(self, sec: int) -> tuple[int, int]:
        """(feeder switch index or NO, substation code or NO) supplying a section in this state."""
        t = self.topo
        if t.is_source_section[sec]:
            return NO, int(t.section_substation[sec])
        f = int(self.section_feeder(np.array([sec]))[0])
        if f == NO:
            return NO, NO
        return f, int(t.section_substation[t.sw_sec_a[f]]) if t.is_source_section[t.sw_sec_a[f]] else (
            int(t.section_substation[t.sw_sec_b[f]]) if t.is_source_section[t.sw_sec_b[f]] else NO
        )

    def meshes(self) -> list[tuple[int, int, int, int, int]]:
        """Closed loops in this state: (switch, feeder a, feeder b, substation a, substation b).

        Each closing switch whose two ends are already energised by other paths
        makes a mesh; when the substations differ, two sources are paralleled.
        """
        t = self.topo
        out = []
        for s in self.mesh_switches:
            fa, sa = self.supply_of_section(int(t.sw_sec_a[s]))
            fb, sb = self.supply_of_section(int(t.sw_sec_b[s]))
            out.append((int(s), fa, fb, sa, sb))
        return out


class State(Supply):
    """A study state: the normal state with some switches opened and others closed.

    The DFS positions ``[0, n_sections)`` are partitioned into intervals, each
    owned by one *piece* (the part of a normal tree between cuts): ``starts`` and
    ``owner`` (piece index, -1 for the live root). Piece ``k`` is rooted at the
    ``k``-th cut section in DFS order; it is energised (``piece_live``) when the
    BFS over closing switches reaches it from the live root.
    """

    def __init__(self, topo: Topology, open_switches: np.ndarray, close_switches: np.ndarray) -> None:
        self.topo = topo
        t = topo
        cut_children = t.child_of_switch[open_switches]
        cut_children = np.unique(cut_children[cut_children != NO])
        cut_sources, revived = self._substation_switching(open_switches, close_switches)
        roots = np.concatenate([t.component_roots, cut_children, cut_sources])
        roots = roots[np.argsort(t.tin[roots], kind="stable")]
        self._intervals(roots)
        self.piece_live = np.zeros(len(roots), dtype=bool)
        self.piece_feeder = np.full(len(roots), NO, dtype=np.int64)
        self.piece_via = np.full(len(roots), NO, dtype=np.int64)  # switch that energises it
        # a busbar section fed inside its substation: its feeders are its own breakers
        self.piece_normal = np.isin(roots, revived)
        self.piece_live[self.piece_normal] = True
        self.closing = [int(s) for s in close_switches if t.sw_open[s] and t.sw_sec_a[s] != t.sw_sec_b[s]]
        if self.closing:
            self._energise(self.closing)
        via = set(self.piece_via[self.piece_live].tolist())
        same_substation = t.sw_internal & (t.section_substation[t.sw_sec_a] == t.section_substation[t.sw_sec_b])
        self.mesh_switches: list[int] = [
            s for s in self.closing
            if s not in via and not same_substation[s] and self.section_live(np.array([t.sw_sec_a[s], t.sw_sec_b[s]])).all()
        ]

    def _intervals(self, roots: np.ndarray) -> None:
        """Partition the DFS positions among the pieces: each owns from its root's ``tin``, and an
        enclosing piece resumes where a nested one ends (``starts``/``owner``, -1 = the live root)."""
        t = self.topo
        starts: list[int] = [0] + [int(t.tin[r]) for r in roots]
        owner: list[int] = [-1] + list(range(len(roots)))
        bounds = self._resume_points(roots)
        # resume points first: at equal positions a later entry wins, and a
        # piece starting where another ends must win over the resumed parent
        all_starts = np.array([b[0] for b in bounds] + starts, dtype=np.int64)
        all_owner = np.array([b[1] for b in bounds] + owner, dtype=np.int64)
        order = np.lexsort((np.arange(len(all_starts)), all_starts))
        all_starts, all_owner = all_starts[order], all_owner[order]
        # when several intervals start at the same position the last one wins
        keep = np.append(all_starts[1:] != all_starts[:-1], True)
        self.starts = all_starts[keep]
        self.owner = all_owner[keep]

    def _energise(self, closing: list[int]) -> None:
        """Breadth-first search over the pieces joined by the closing switches, from the live root and
        the pieces fed inside their substation: which pieces are live, through which switch and feeder."""
        t = self.topo
        sec_a = t.sw_sec_a[closing]
        sec_b = t.sw_sec_b[closing]
        pa = self.piece_of_sections(sec_a)
        pb = self.piece_of_sections(sec_b)
        adj: dict[int, list[tuple[int, int, int]]] = {}
        for s, x, y, sx, sy in zip(closing, pa, pb, sec_a, sec_b, strict=True):
            adj.setdefault(int(x), []).append((int(y), s, int(sx)))
            adj.setdefault(int(y), []).append((int(x), s, int(sy)))
        seeds = [-1, *np.flatnonzero(self.piece_normal).tolist()]
        seen = set(seeds)
        queue = deque(seeds)
        while queue:
            p = queue.popleft()
            for q, s, from_sec in adj.get(p, ()):
                if q in seen:
                    continue
                seen.add(q)
                queue.append(q)
                self.piece_live[q] = True
                self.piece_via[q] = s
                if t.sw_feeder_breaker[s] or t.is_source_section[from_sec]:
                    self.piece_feeder[q] = s
                else:
                    self.piece_feeder[q] = self._feeder_in_piece(p, from_sec)

    def _substation_switching(self, open_switches: np.ndarray, close_switches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(source sections cut off inside their substation, source sections fed that are not
        in the normal state) when the state switches inside a substation; empty otherwise."""
        t = self.topo
        none = np.zeros(0, dtype=np.int64)
        if not (t.sw_internal[open_switches].any() or t.sw_internal[close_switches].any()):
            return none, none
        closed = ~t.sw_open
        closed[open_switches] = False
        closed[close_switches] = True
        live = t.sources_live(closed)
        return np.flatnonzero(t.source_normally_live & ~live), np.flatnonzero(live & ~t.source_normally_live)

    def _resume_points(self, roots: np.ndarray) -> list[tuple[int, int]]:
        """(position, piece) where an enclosing piece takes over again after a nested one."""
        t = self.topo
        out: list[tuple[int, int]] = []
        stack: list[tuple[int, int]] = [(-1, t.n_sections)]
        for i, r in enumerate(roots):
            r_tin, r_tout = int(t.tin[r]), int(t.tout[r])
            while stack[-1][1] <= r_tin:
                ended = stack.pop()
                out.append((ended[1], stack[-1][0]))
            stack.append((i, r_tout))
        while len(stack) > 1:
            ended = stack.pop()
            out.append((ended[1], stack[-1][0]))
        return [(pos, p) for pos, p in out if pos < t.n_sections]

    def _feeder_in_piece(self, piece: int, sec: int) -> int:
        if piece == -1 or self.piece_normal[piece]:
            return int(self.topo.normal_feeder[sec])
        return int(self.piece_feeder[piece])

    def _feeders(self, pieces: np.ndarray, secs: np.ndarray) -> np.ndarray:
        """Feeder of sections ``secs`` lying in ``pieces`` (NO when dead)."""
        normal = self.topo.normal_feeder[secs]
        out = np.full(len(secs), NO, dtype=np.int64)
        root = pieces == -1
        out[root] = normal[root]
        inner = np.flatnonzero(~root)
        p = pieces[inner]
        own = np.where(self.piece_normal[p], normal[inner], self.piece_feeder[p])
        out[inner] = np.where(self.piece_live[p], own, NO)
        return out

    # -- queries --------------------------------------------------------------

    def piece_of_positions(self, pos: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.starts, pos, side="right") - 1
        return self.owner[idx]

    def piece_of_sections(self, secs: np.ndarray) -> np.ndarray:
        return self.piece_of_positions(self.topo.tin[np.asarray(secs, dtype=np.int64)])

    def live_pieces_mask(self, pieces: np.ndarray) -> np.ndarray:
        """True where the piece (-1 = live root) is energised."""
        out = np.ones(len(pieces), dtype=bool)
        inner = pieces >= 0
        out[inner] = self.piece_live[pieces[inner]]
        return out

    def dead_node_idx(self) -> np.ndarray:
        t = self.topo
        return t.node_order[slice_sorted(t.node_pos, self.dead_intervals())]

    def dead_intervals(self) -> list[tuple[int, int]]:
        """DFS position ranges ``[start, end)`` of de-energised sections."""
        ends = np.append(self.starts[1:], self.topo.n_sections)
        out: list[tuple[int, int]] = []
        for s, e, o in zip(self.starts, ends, self.owner, strict=True):
            if o >= 0 and not self.piece_live[o] and e > s:
                if out and out[-1][1] == s:
                    out[-1] = (out[-1][0], int(e))
                else:
                    out.append((int(s), int(e)))
        return out

    def section_live(self, secs: np.ndarray) -> np.ndarray:
        return self.live_pieces_mask(self.piece_of_sections(secs))

    def section_feeder(self, secs: np.ndarray) -> np.ndarray:
        """Feeder breaker index feeding each section in this state (NO when dead or a source)."""
        secs = np.asarray(secs, dtype=np.int64)
        return self._feeders(self.piece_of_sections(secs), secs)

    def positions_feeder(self, pos: np.ndarray, secs: np.ndarray) -> np.ndarray:
        """Like :meth:`section_feeder` for items at DFS positions ``pos`` in sections ``secs``."""
        return self._feeders(self.piece_of_positions(pos), np.asarray(secs, dtype=np.int64))


def slice_sorted(sorted_pos: np.ndarray, intervals: list[tuple[int, int]] | np.ndarray) -> np.ndarray:
    """Indices into ``sorted_pos`` (ascending) of the items inside the given intervals."""
    iv = np.asarray(intervals, dtype=np.int64).reshape(-1, 2)
    if not len(iv):
        return np.zeros(0, dtype=np.int64)
    lo = np.searchsorted(sorted_pos, iv[:, 0], side="left")
    hi = np.searchsorted(sorted_pos, iv[:, 1], side="left")
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    if not len(lo):
        return np.zeros(0, dtype=np.int64)
    # one cumulative sum over all runs: +1 inside a run, a jump to the next run's start between runs
    step = np.ones(int((hi - lo).sum()), dtype=np.int64)
    step[0] = lo[0]
    step[np.cumsum(hi - lo)[:-1]] = lo[1:] - hi[:-1] + 1
    return np.cumsum(step)
