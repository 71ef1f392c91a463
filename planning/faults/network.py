"""The section view of a grid that fault work needs: sections, switches between them,
the normal supply tree (which switch feeds each section), customers per section.

Built once per :class:`gis.Grid` from its public API and cached (the grid is
immutable). Section ids are the grid's own (``section:<first node id>``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry import mapping
from shapely.ops import unary_union

from gis import Grid

CABINET_KINDS = ("rmu", "distribution_room", "pole_transformer")


@dataclass(frozen=True)
class SwitchInfo:
    id: str
    from_node: str
    to_node: str
    kind: str
    normally_open: bool
    remote: bool
    fault_indicator: bool
    sec_a: str  # section of from_node
    sec_b: str  # section of to_node
    node: str  # the cabinet a crew goes to for this switch

    def other(self, sec: str) -> str:
        return self.sec_b if sec == self.sec_a else self.sec_a


@dataclass(frozen=True)
class CustomerInfo:
    id: str
    name: str
    node: str
    importance: str
    demand_kw: float
    backup_power: bool


class SectionNet:
    """Sections and switches of a grid, with its normal-state supply tree."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        secs = grid.sections()
        self.sections = {s.id: s for s in secs}
        self.sec_of_node: dict[str, str] = {n: s.id for s in secs for n in s.nodes}
        self.source = {s.id for s in secs if s.source}
        nodes = grid.nodes
        self.node_kind: dict[str, str] = dict(zip(nodes["id"], nodes["kind"], strict=True))
        lines = grid.lines
        self.line_kind: dict[str, str] = dict(zip(lines["id"], lines["kind"], strict=True))
        length = dict(zip(lines["id"], lines["length_m"].fillna(0.0), strict=True))
        self.switches: dict[str, SwitchInfo] = {}
        sw = grid.switches
        for row in sw.itertuples(index=False):
            a, b = self.sec_of_node[row.from_node], self.sec_of_node[row.to_node]
            cab = row.from_node if self.node_kind[row.from_node] in CABINET_KINDS else (
                row.to_node if self.node_kind[row.to_node] in CABINET_KINDS else row.from_node
            )
            self.switches[row.id] = SwitchInfo(
                id=str(row.id),
                from_node=str(row.from_node),
                to_node=str(row.to_node),
                kind=str(row.kind),
                normally_open=bool(row.normally_open),
                remote=bool(row.remote),
                fault_indicator=bool(row.fault_indicator),
                sec_a=a,
                sec_b=b,
                node=str(cab),
            )
        self.switches_of: dict[str, list[str]] = {s: [] for s in self.sections}
        for info in self.switches.values():
            if info.sec_a == info.sec_b:
                continue
            self.switches_of[info.sec_a].append(info.id)
            self.switches_of[info.sec_b].append(info.id)
        self._tree()
        cust = grid.customers
        self.customers: dict[str, CustomerInfo] = {}
        self.customers_of: dict[str, list[str]] = {s: [] for s in self.sections}
        self.node_customers: dict[str, list[str]] = {}
        for row in cust.itertuples(index=False):
            cinfo = CustomerInfo(
                id=str(row.id),
                name=str(row.name or ""),
                node=str(row.node_id),
                importance=str(row.importance or "normal"),
                demand_kw=float(row.demand_kw),
                backup_power=bool(getattr(row, "backup_power", False)),
            )
            self.customers[cinfo.id] = cinfo
            self.customers_of[self.sec_of_node[cinfo.node]].append(cinfo.id)
            self.node_customers.setdefault(cinfo.node, []).append(cinfo.id)
        # exposure of each section to faults: km of line plus 0.1 km per cabinet
        self.exposure_km: dict[str, float] = {}
        for s in secs:
            km = sum(float(length.get(ln, 0.0)) for ln in s.lines) / 1000.0
            km += 0.1 * sum(1 for n in s.nodes if self.node_kind[n] in CABINET_KINDS)
            self.exposure_km[s.id] = max(km, 0.05)

    def _tree(self) -> None:
        """Normal supply tree: BFS from the source sections over normally-closed switches."""
        self.parent_switch: dict[str, str | None] = {s: None for s in self.sections}
        self.parent: dict[str, str | None] = {s: None for s in self.sections}
        self.children: dict[str, list[tuple[str, str]]] = {s: [] for s in self.sections}
        self.feeder: dict[str, str | None] = {s.id: s.feeder for s in self.sections.values()}
        seen = set(self.source)
        queue = deque(sorted(self.source))
        while queue:
            sec = queue.popleft()
            for sid in sorted(self.switches_of[sec]):
                info = self.switches[sid]
                if info.normally_open:
                    continue
                nxt = info.other(sec)
                if nxt in seen:
                    continue
                seen.add(nxt)
                self.parent_switch[nxt] = sid
                self.parent[nxt] = sec
                self.children[sec].append((sid, nxt))
                queue.append(nxt)

    # -- tree queries ----------------------------------------------------------

    def path_switches(self, sec: str) -> list[str]:
        """Closed switches between a section and its normal source, source side first."""
        out: list[str] = []
        while self.parent_switch[sec] is not None:
            out.append(str(self.parent_switch[sec]))
            sec = str(self.parent[sec])
        return out[::-1]

    def subtree(self, sec: str) -> list[str]:
        """The section and every section it feeds in the normal state."""
        out = [sec]
        i = 0
        while i < len(out):
            out.extend(c for _, c in self.children[out[i]])
            i += 1
        return out

    def below_switch(self, switch_id: str) -> list[str]:
        """Sections fed through a normally-closed switch in the normal state ([] for a tie)."""
        info = self.switches[switch_id]
        for sec in (info.sec_a, info.sec_b):
            if self.parent_switch[sec] == switch_id:
                return self.subtree(sec)
        return []

    def customers_in(self, secs: list[str] | set[str]) -> list[str]:
        return [c for s in secs for c in self.customers_of[s]]

    def section_of_equipment(self, equipment_id: str) -> list[str]:
        """Sections holding a node, line, switch (both sides) or a section id."""
        if equipment_id in self.sections:
            return [equipment_id]
        if equipment_id in self.switches:
            info = self.switches[equipment_id]
            return sorted({info.sec_a, info.sec_b})
        if equipment_id in self.sec_of_node:
            return [self.sec_of_node[equipment_id]]
        return [self.grid.section_of(equipment_id)]

    def geometry(self, secs: list[str]) -> dict[str, Any] | None:
        """GeoJSON geometry (EPSG:4326, lon/lat) of the lines and nodes of some sections."""
        lines = {ln for s in secs for ln in self.sections[s].lines}
        nodes = {n for s in secs for n in self.sections[s].nodes}
        parts = list(self.grid.lines.geometry[self.grid.lines["id"].isin(lines)])
        if not parts:
            parts = list(self.grid.nodes.geometry[self.grid.nodes["id"].isin(nodes)])
        if not parts:
            return None
        return dict(mapping(unary_union(parts)))

    def nodes_of(self, secs: list[str] | set[str]) -> list[str]:
        return [n for s in secs for n in self.sections[s].nodes]

    def node_location(self, node_id: str) -> tuple[float, float]:
        lon, lat = self.grid.access_point(node_id)
        return (round(lon, 7), round(lat, 7))


def section_net(grid: Grid) -> SectionNet:
    """The :class:`SectionNet` of a grid, built once per grid."""
    return grid.derived("faults.section_net", SectionNet)


def load_at(grid: Grid, now: Any) -> pd.Series:
    """Customer loads (kW) at ``now``, indexed by customer id."""
    s = grid.customer_load_kw(now)
    return s.astype(np.float64)
