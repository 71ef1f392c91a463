"""Study states with many switches changed: one vectorised components pass over the sections.

:class:`gis.topology.State` answers a state from the pre-order ranges of the
normal tree; its cost grows with the number of switches changed (a piece per
opened switch), which is right for the few switches of an outage plan but
loses to a plain components pass for storm scenarios and restoration searches
that change thousands. :class:`ComponentState` answers the same questions for
such states, in the same way but with the pieces found by scipy:

1. Which source sections are live: :meth:`Topology.sources_live` over the
   closed switches inside the substations.
2. The *pieces*: connected components (scipy) of the sections joined by the
   switches that are closed in the normal state and still closed, plus a
   virtual root joined to every live source section. The root's piece is
   everything still fed along its normal path: those sections keep their
   normal feeder.
3. A breadth-first search over the switches closed for the study (a handful,
   a few thousand at most: the ties) from the root's piece: a piece reached
   through a feeder breaker, or from a busbar, is fed by that breaker; else by
   the feeder of the section it is reached from. A closing switch whose two
   pieces are already reached closes a loop: a mesh.

Same answers as :class:`State`, feeders and meshes included
(tests/gis/test_components.py checks both against each other and against
scipy on the plain node graph).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from gis.topology import NO, Supply

if TYPE_CHECKING:
    from gis.topology import Topology

class ComponentState(Supply):
    """A study state answered by a components pass (module docstring); the query methods of
    :class:`gis.topology.State`."""

    def __init__(self, topo: Topology, open_switches: np.ndarray, close_switches: np.ndarray) -> None:
        self.topo = t = topo
        closed = ~t.sw_open
        closed[open_switches] = False
        closed[close_switches] = True
        touched = np.concatenate([np.asarray(open_switches, dtype=np.int64), np.asarray(close_switches, dtype=np.int64)])
        live_src = t.sources_live(closed) if t.sw_internal[touched].any() else t.source_normally_live
        self.piece = self._pieces(closed, live_src)
        cs = np.asarray(close_switches, dtype=np.int64)
        _, first = np.unique(cs, return_index=True)
        cs = cs[np.sort(first)]  # once each, in the order given (the tree's search order)
        self._search(cs[t.sw_open[cs] & (t.sw_sec_a[cs] != t.sw_sec_b[cs])])
        piece = self.piece[: t.n_sections]
        self.live = self.piece_live[piece]
        normal = piece == self.piece[t.n_sections]
        self.feeder = np.where(normal, t.normal_feeder, self.piece_feeder[piece])
        self.feeder[~self.live | t.is_source_section] = NO

    def _pieces(self, closed: np.ndarray, live_src: np.ndarray) -> np.ndarray:
        """Piece label of each section and of the virtual root (the last entry)."""
        t = self.topo
        ns = t.n_sections
        keep = np.flatnonzero(closed & ~t.sw_open & (t.sw_sec_a != t.sw_sec_b) & ~t.sw_internal)
        src = np.flatnonzero(live_src)
        rows = np.concatenate([t.sw_sec_a[keep], np.full(len(src), ns)])
        cols = np.concatenate([t.sw_sec_b[keep], src])
        g = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(ns + 1, ns + 1))
        _, labels = connected_components(g, directed=False)
        return labels.astype(np.int64)

    def _search(self, closing: np.ndarray) -> None:
        """Breadth-first over the closing switches from the root's piece: which pieces are live,
        by which feeder, and which closing switches close a loop."""
        t = self.topo
        root = int(self.piece[t.n_sections])
        live = [False] * (int(self.piece.max()) + 1)
        live[root] = True
        feeder = [NO] * len(live)
        a, b = t.sw_sec_a[closing], t.sw_sec_b[closing]
        starts = t.sw_feeder_breaker[closing]
        adj: dict[int, list[tuple[int, int, bool, int]]] = {}
        # per end: (other piece, switch, does the switch start a feeder from here, normal feeder here)
        for s, pa, pb, sa, sb, fa, fb, brk in zip(closing.tolist(), self.piece[a].tolist(), self.piece[b].tolist(),
                                                  t.is_source_section[a].tolist(), t.is_source_section[b].tolist(),
                                                  t.normal_feeder[a].tolist(), t.normal_feeder[b].tolist(), starts.tolist(), strict=True):
            adj.setdefault(pa, []).append((pb, s, brk or sa, fa))
            adj.setdefault(pb, []).append((pa, s, brk or sb, fb))
        via: set[int] = set()
        queue = deque([root])
        while queue:
            p = queue.popleft()
            for q, s, starts_here, normal in adj.get(p, ()):
                if live[q]:
                    continue
                live[q] = True
                via.add(s)
                queue.append(q)
                feeder[q] = s if starts_here else (normal if p == root else feeder[p])
        self.piece_live = np.array(live, dtype=bool)
        self.piece_feeder = np.array(feeder, dtype=np.int64)
        same_sub = t.sw_internal[closing] & (t.section_substation[a] == t.section_substation[b])
        loops = ~np.isin(closing, list(via)) & ~same_sub & self.piece_live[self.piece[a]] & self.piece_live[self.piece[b]]
        self.mesh_switches = closing[loops].tolist()

    # -- the queries of State ---------------------------------------------------

    def section_live(self, secs: np.ndarray) -> np.ndarray:
        return self.live[np.asarray(secs, dtype=np.int64)]

    def section_feeder(self, secs: np.ndarray) -> np.ndarray:
        """Feeder breaker index feeding each section (NO when dead or a source)."""
        return self.feeder[np.asarray(secs, dtype=np.int64)]

    def positions_feeder(self, pos: np.ndarray, secs: np.ndarray) -> np.ndarray:
        return self.section_feeder(secs)

    def dead_node_idx(self) -> np.ndarray:
        return np.flatnonzero(~self.live[self.topo.section_of_node])

    def dead_intervals(self) -> np.ndarray:
        """DFS position ranges ``[start, end)`` of de-energised sections, one row each."""
        t = self.topo
        dead = np.zeros(t.n_sections + 2, dtype=np.int8)
        dead[1:-1][t.tin] = ~self.live
        edges = np.flatnonzero(np.diff(dead))
        return edges.reshape(-1, 2)
