"""The normal-state supply tree by id: which switch feeds each section, what hangs below a switch.

A view of the topology index (:mod:`gis.topology`) that speaks the grid's ids:
sections are ``section:<first node id>`` (as :meth:`gis.Grid.sections`),
switches their own ids. The source sections (inside substations) are the
roots; every section that normally-closed switches join to one hangs below
exactly one *supply switch* from one *parent* section, and the switches from
the root down to it are its *path* (the feeder breaker first). Sections
reached only through normally-open switches (islands without supply in the
normal state) hang from nothing. Get it with :meth:`gis.Grid.supply_tree`,
built once per grid.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gis.errors import NotFoundError
from gis.topology import NO, Topology


class SupplyTree:
    """The normal state's supply tree of a grid's sections (see the module docstring)."""

    def __init__(self, topo: Topology, *, section_ids: Iterable[str], switch_ids: Iterable[str]) -> None:
        self._sec = [str(s) for s in section_ids]
        self._sw = [str(s) for s in switch_ids]
        self._sec_ix = {s: i for i, s in enumerate(self._sec)}
        self._sw_ix = {s: i for i, s in enumerate(self._sw)}
        rooted = topo.source_rooted
        self._source: list[bool] = topo.is_source_section.tolist()
        self._up: list[int] = np.where(rooted, topo.parent_section, NO).tolist()
        self._up_switch: list[int] = np.where(rooted, topo.parent_switch, NO).tolist()
        self._feeder: list[int] = topo.normal_feeder.tolist()
        kids: list[list[tuple[str, int]]] = [[] for _ in self._sec]
        self._below: dict[int, int] = {}  # tree switch -> the section right below it
        for child, (parent, switch) in enumerate(zip(self._up, self._up_switch, strict=True)):
            if parent != NO:
                kids[parent].append((self._sw[switch], child))
                self._below[switch] = child
        self._kids = [sorted(k) for k in kids]
        self.sections: tuple[str, ...] = tuple(sorted(self._sec))
        """Every section id, sorted."""

    def _ix(self, section: str) -> int:
        try:
            return self._sec_ix[section]
        except KeyError:
            raise NotFoundError(f"unknown section id: {section}", code="unknown_section", details={"id": section}) from None

    def is_source(self, section: str) -> bool:
        """Is the section inside a substation (a root of the tree)?"""
        return self._source[self._ix(section)]

    def parent(self, section: str) -> str | None:
        """The section feeding this one in the normal state (None for roots and islands)."""
        up = self._up[self._ix(section)]
        return None if up == NO else self._sec[up]

    def supply_switch(self, section: str) -> str | None:
        """The switch between the section and its parent (None for roots and islands)."""
        s = self._up_switch[self._ix(section)]
        return None if s == NO else self._sw[s]

    def children(self, section: str) -> list[tuple[str, str]]:
        """``(switch, child section)`` for every section this one feeds directly, by switch id."""
        return [(sw, self._sec[c]) for sw, c in self._kids[self._ix(section)]]

    def feeder(self, section: str) -> str | None:
        """The feeder breaker supplying the section in the normal state (None for sources and islands)."""
        f = self._feeder[self._ix(section)]
        return None if f == NO else self._sw[f]

    def path_switches(self, section: str) -> list[str]:
        """The closed switches from the root (substation) down to the section, the root's side
        first: the feeder breaker, then every switch on the way ([] for roots and islands)."""
        i = self._ix(section)
        out: list[str] = []
        while self._up[i] != NO:
            out.append(self._sw[self._up_switch[i]])
            i = self._up[i]
        return out[::-1]

    def subtree(self, section: str) -> list[str]:
        """The section and every section fed through it in the normal state, breadth-first
        (nearest first; the children of a section by switch id)."""
        order = [self._ix(section)]
        k = 0
        while k < len(order):
            order.extend(c for _, c in self._kids[order[k]])
            k += 1
        return [self._sec[i] for i in order]

    def below(self, switch: str) -> list[str]:
        """The sections fed through a switch in the normal state, breadth-first from the one right
        below it (:meth:`subtree`); [] for a normally-open switch or one feeding nothing."""
        try:
            s = self._sw_ix[switch]
        except KeyError:
            raise NotFoundError(f"unknown switch id: {switch}", code="unknown_switch", details={"id": switch}) from None
        child = self._below.get(s)
        return [] if child is None else self.subtree(self._sec[child])
