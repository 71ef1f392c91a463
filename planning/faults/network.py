"""The section view of a grid that fault work needs: sections by id, the switches between
them with the cabinet a crew goes to, customers per section and node, and each section's
exposure to faults. The normal supply tree (parents, paths, feeders, what hangs below a
switch) is the grid's own: :attr:`SectionNet.tree` (:meth:`gis.Grid.supply_tree`).

Built once per :class:`gis.Grid` from its public API and kept with it (``Grid.derived``).
Section ids are the grid's own (``section:<first node id>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
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
    """Sections, switches and customers of a grid by id, with its normal-state supply tree."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.tree = grid.supply_tree()
        secs = grid.sections()
        self.sections = {s.id: s for s in secs}
        self.sec_of_node: dict[str, str] = {n: s.id for s in secs for n in s.nodes}
        nodes, lines = grid.nodes, grid.lines
        self.node_kind: dict[str, str] = dict(zip(nodes["id"], nodes["kind"], strict=True))
        self.line_kind: dict[str, str] = dict(zip(lines["id"], lines["kind"], strict=True))
        self.switches: dict[str, SwitchInfo] = self._switch_infos()
        self.switches_of: dict[str, list[str]] = {s: [] for s in self.sections}
        for info in self.switches.values():
            if info.sec_a != info.sec_b:
                self.switches_of[info.sec_a].append(info.id)
                self.switches_of[info.sec_b].append(info.id)
        self.customers: dict[str, CustomerInfo] = {}
        self.customers_of: dict[str, list[str]] = {s: [] for s in self.sections}
        self.node_customers: dict[str, list[str]] = {}
        for cinfo in self._customer_infos():
            self.customers[cinfo.id] = cinfo
            self.customers_of[self.sec_of_node[cinfo.node]].append(cinfo.id)
            self.node_customers.setdefault(cinfo.node, []).append(cinfo.id)
        self.exposure_km = self._exposure_km(dict(zip(lines["id"], lines["length_m"].fillna(0.0), strict=True)))

    def _switch_infos(self) -> dict[str, SwitchInfo]:
        out: dict[str, SwitchInfo] = {}
        for row in self.grid.switches.itertuples(index=False):
            cab = row.from_node if self.node_kind[row.from_node] in CABINET_KINDS else (
                row.to_node if self.node_kind[row.to_node] in CABINET_KINDS else row.from_node
            )
            out[row.id] = SwitchInfo(
                id=str(row.id),
                from_node=str(row.from_node),
                to_node=str(row.to_node),
                kind=str(row.kind),
                normally_open=bool(row.normally_open),
                remote=bool(row.remote),
                fault_indicator=bool(row.fault_indicator),
                sec_a=self.sec_of_node[row.from_node],
                sec_b=self.sec_of_node[row.to_node],
                node=str(cab),
            )
        return out

    def _customer_infos(self) -> list[CustomerInfo]:
        return [
            CustomerInfo(
                id=str(row.id),
                name=str(row.name or ""),
                node=str(row.node_id),
                importance=str(row.importance or "normal"),
                demand_kw=float(row.demand_kw),
                backup_power=bool(getattr(row, "backup_power", False)),
            )
            for row in self.grid.customers.itertuples(index=False)
        ]

    def _exposure_km(self, length_m: dict[str, float]) -> dict[str, float]:
        """Exposure of each section to faults: km of line plus 0.1 km per cabinet (at least 0.05)."""
        out: dict[str, float] = {}
        for s in self.sections.values():
            km = sum(float(length_m.get(ln, 0.0)) for ln in s.lines) / 1000.0
            km += 0.1 * sum(1 for n in s.nodes if self.node_kind[n] in CABINET_KINDS)
            out[s.id] = max(km, 0.05)
        return out

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

    def cabinet_of(self, sec: str) -> str | None:
        """The main cabinet of a section: its first RMU, else distribution room, else pole transformer
        (by node id), else its first node."""
        nodes = sorted(self.sections[sec].nodes)
        for kind in CABINET_KINDS:
            found = next((n for n in nodes if self.node_kind[n] == kind), None)
            if found is not None:
                return found
        return nodes[0] if nodes else None

    @cached_property
    def _node_names(self) -> dict[str, str]:
        nodes = self.grid.nodes
        if "name" not in nodes.columns:
            return {}
        return {str(i): str(n).strip() for i, n in zip(nodes["id"], nodes["name"], strict=True)
                if isinstance(n, str) and n.strip()}

    def node_name(self, node_id: str) -> str | None:
        """The node's name in the grid, None when it has none."""
        return self._node_names.get(node_id)

    @cached_property
    def _addresses(self) -> tuple[dict[str, str], dict[str, tuple[float, float]], list[str], np.ndarray]:
        """Node addresses (a node ``address`` column, when the grid has one), node positions and the
        customers with an address with their positions, in metres (the grid's metric CRS)."""
        crs = self.grid.metric_crs
        nodes = self.grid.nodes
        own: dict[str, str] = {}
        if "address" in nodes.columns:
            own = {str(i): str(a).strip() for i, a in zip(nodes["id"], nodes["address"], strict=True)
                   if isinstance(a, str) and a.strip()}
        pts = nodes.geometry.to_crs(crs)
        xy = {str(i): (float(p.x), float(p.y)) for i, p in zip(nodes["id"], pts, strict=True)}
        cust = self.grid.customers
        if "address" not in cust.columns or cust.empty:
            return own, xy, [], np.empty((0, 2))
        mask = cust["address"].map(lambda a: isinstance(a, str) and bool(a.strip())).to_numpy(dtype=bool)
        with_address = cust[mask]
        cpts = with_address.geometry.to_crs(crs)
        coords = np.column_stack([cpts.x.to_numpy(), cpts.y.to_numpy()]) if len(cpts) else np.empty((0, 2))
        return own, xy, [str(a).strip() for a in with_address["address"]], coords

    def address_near(self, node_id: str) -> str | None:
        """The node's own address when the grid gives one, else the address of the nearest customer
        that has one (straight-line, metric CRS); None when no customer has an address."""
        own, xy, addresses, coords = self._addresses
        if node_id in own:
            return own[node_id]
        if not addresses or node_id not in xy:
            return None
        x, y = xy[node_id]
        d2 = (coords[:, 0] - x) ** 2 + (coords[:, 1] - y) ** 2
        return addresses[int(np.argmin(d2))]


def section_net(grid: Grid) -> SectionNet:
    """The :class:`SectionNet` of a grid, built once per grid."""
    return grid.derived("faults.section_net", SectionNet)

