"""The :class:`Grid`: validated layers joined to a topology index, with study-state queries.

All geometries are EPSG:4326 (lon, lat); lengths are metres computed in the
grid's ``metric_crs``; powers are kW; currents A; times are timezone-aware
datetimes, converted to the grid's own time zone for load profiles.

The grid is immutable after loading: switch states are query arguments
(``open_switches``/``close_switches``), never mutations, so many study states
can be asked of one grid without copying it.
"""

from __future__ import annotations

import math
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from gis.catalogue import resolve_lines
from gis.errors import GridValidationError, InputError, NotFoundError, Problem
from gis.format import DAY_TYPES, LAYERS, WGS84, Layers, read_layers, read_postgis
from gis.supply_tree import SupplyTree
from gis.topology import NO, State, Topology, slice_sorted

if TYPE_CHECKING:
    from gis.components import ComponentState
from gis.validate import Checker, check_layers, check_swapped_against_crs

AFFECTED_COLUMNS = ["id", "name", "importance", "demand_kw", "node_id", "feeder", "lon", "lat"]
SwitchIds = Iterable[str]



_T = TypeVar("_T")

@dataclass(frozen=True)
class Isolation:
    """What opening the nearest switches around some equipment does (normal state otherwise).

    ``switches``: normally-closed switches to open (nearest on every side);
    ``ties``: normally-open switches touching the work zone, which must stay open;
    ``work_nodes``: the nodes of the work zone itself (the sections holding the equipment);
    ``nodes``/``customers``: everything de-energised by opening ``switches``
    (the work zone plus what is fed through it, before any transfer).
    """

    equipment: tuple[str, ...]
    switches: tuple[str, ...]
    ties: tuple[str, ...]
    work_nodes: frozenset[str]
    nodes: frozenset[str]
    customers: tuple[str, ...]
    work_customers: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    """Nodes always energised together; bounded by ``switches``."""

    id: str
    nodes: tuple[str, ...]
    lines: tuple[str, ...]
    switches: tuple[str, ...]
    feeder: str | None
    source: bool
    customers: int
    supply_switch: str | None = None  # the switch feeding it in the normal state (None for sources)


@dataclass(frozen=True)
class TieOption:
    """A switch that, closed, re-feeds part of a dead area from a live feeder."""

    switch: str
    dead_node: str
    live_node: str
    feeder: str | None
    nodes: frozenset[str]  # dead nodes it would re-energise
    customers: tuple[str, ...]  # customers it would restore


@dataclass(frozen=True)
class StateCheck:
    """Safety findings for one switching state (see :meth:`Grid.check_state`).

    ``meshes``: ``(switch, feeder_a, feeder_b, substation_a, substation_b)`` for each
    closed switch that makes a loop (both ends already energised); ``paralleled``:
    the meshes whose two sides come from different substations (never allowed);
    ``overloads``: ``(feeder, load_kw, limit_kw)`` where the load at the given time
    exceeds capacity x (1 - margin).
    """

    meshes: tuple[tuple[str, str | None, str | None, str | None, str | None], ...]
    paralleled: tuple[tuple[str, str | None, str | None], ...]
    overloads: tuple[tuple[str, float, float], ...]

    @property
    def ok(self) -> bool:
        """No paralleled substations and no overload (meshes within one substation are allowed)."""
        return not self.paralleled and not self.overloads


def load_grid(path: str | Path, *, join_distance_m: float = 500.0, schema: str = "public") -> Grid:
    """Load and validate a grid from a GeoPackage, a GeoJSON folder or PostGIS.

    ``path`` is a ``.gpkg`` file, a folder, or a database URL
    (``postgresql+psycopg://user@host/db``) whose ``schema`` holds tables named
    like the layers.

    ``join_distance_m`` (metres, in the grid's metric CRS) bounds the join of
    customers without ``node_id`` to the nearest distribution room / pole
    transformer. Raises :class:`~gis.errors.GridValidationError` listing every
    problem when the grid has errors; warnings are kept in ``grid.problems``.
    """
    if str(path).startswith(("postgresql:", "postgresql+", "postgres:")):
        raw = read_postgis(str(path), schema=schema)
        return Grid.from_layers(raw, join_distance_m=join_distance_m, source=f"postgis:{schema}")
    return Grid.from_layers(read_layers(path), join_distance_m=join_distance_m, source=str(path))


def validate_grid(path: str | Path, *, join_distance_m: float = 500.0, schema: str = "public") -> list[Problem]:
    """Every problem (errors and warnings) of a grid, without raising."""
    try:
        return list(load_grid(path, join_distance_m=join_distance_m, schema=schema).problems)
    except GridValidationError as exc:
        return list(exc.problems)


class Grid:
    """A validated distribution grid. Build with :func:`load_grid` or :meth:`from_layers`."""

    def __init__(
        self, layers: Layers, meta: Mapping[str, str], problems: list[Problem], *, source: str = "", line_params: pd.DataFrame | None = None
    ) -> None:
        self._layers = layers
        self.meta: dict[str, str] = dict(meta)
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        self.name = self.meta.get("name", "")
        self.timezone = zoneinfo.ZoneInfo(self.meta["timezone"])
        self.metric_crs: str = self.meta["metric_crs"]
        self.nominal_kv = float(self.meta.get("nominal_kv") or 10.0)
        self.power_factor = float(self.meta.get("power_factor") or 0.9)
        if line_params is None:
            line_params, _ = resolve_lines(self.lines, self._layers.get("line_types"), nominal_kv=self.nominal_kv)
        self.line_params: pd.DataFrame = line_params  # r/x (ohm/km), c (nF/km), rating_a (A), source; aligned with lines
        self._derived: dict[str, Any] = {}
        self._index()

    def derived(self, key: str, build: Callable[[Grid], _T]) -> _T:
        """A model other modules derive from this (immutable) grid, built once on first use and kept
        with it (e.g. the power flow's electrical network, the fault planner's section net)."""
        if key not in self._derived:
            self._derived[key] = build(self)
        return self._derived[key]  # type: ignore[no-any-return]

    # -- construction ------------------------------------------------------

    @classmethod
    def from_layers(cls, raw: Mapping[str, pd.DataFrame], *, join_distance_m: float = 500.0, source: str = "") -> Grid:
        """Validate raw layers (see :mod:`gis.format`) and build the grid, or raise
        :class:`~gis.errors.GridValidationError`."""
        layers, meta, ck = check_layers(raw, join_distance_m=join_distance_m)
        if ck.has_errors:
            raise GridValidationError(ck.problems)
        check_swapped_against_crs(layers, meta["metric_crs"], ck)
        if ck.has_errors:
            raise GridValidationError(ck.problems)
        for name, schema in LAYERS.items():
            if name in layers:
                continue
            if schema.geometry:
                layers[name] = gpd.GeoDataFrame({c.name: [] for c in schema.columns}, geometry=[], crs=WGS84)
            elif name != "meta":
                layers[name] = pd.DataFrame({c.name: [] for c in schema.columns})
        nominal = float(meta.get("nominal_kv") or 10.0)
        params, line_problems = resolve_lines(layers["lines"], layers["line_types"], nominal_kv=nominal)
        ck.problems.extend(line_problems)
        grid = cls(layers, meta, ck.problems, source=source, line_params=params)
        grid._check_topology(ck)
        if ck.has_errors:
            raise GridValidationError(ck.problems)
        grid.problems = tuple(ck.problems)
        return grid

    def _index(self) -> None:
        nodes, lines, sw = self.nodes, self.lines, self.switches
        self._node_ix = pd.Index(nodes["id"])
        self._line_ix = pd.Index(lines["id"])
        self._sw_ix = pd.Index(sw["id"])
        self._cust_ix = pd.Index(self.customers["id"])
        inside = self._in_substation
        src = np.flatnonzero(inside)
        sub_codes = pd.factorize(nodes["substation_id"].to_numpy(dtype=object)[src])[0]
        sw_from = self._node_ix.get_indexer(sw["from_node"])
        sw_to = self._node_ix.get_indexer(sw["to_node"])
        # a feeder starts at a breaker leaving a substation: from a node inside one to a node outside
        feeder_breaker = (sw["kind"] == "breaker").to_numpy() & inside[sw_from] & ~inside[sw_to]
        trafos = self.transformers
        self._topo = Topology(
            n_nodes=len(nodes),
            # transformers join their two sides as lines do (always connected)
            line_from=np.concatenate([self._node_ix.get_indexer(lines["from_node"]), self._node_ix.get_indexer(trafos["hv_node"])]),
            line_to=np.concatenate([self._node_ix.get_indexer(lines["to_node"]), self._node_ix.get_indexer(trafos["lv_node"])]),
            sw_from=sw_from,
            sw_to=sw_to,
            sw_open=sw["normally_open"].to_numpy(dtype=bool),
            sw_feeder_breaker=feeder_breaker,
            source_nodes=src,
            source_substation=sub_codes,
            infeed_nodes=np.flatnonzero(self.infeeds[0]),
        ).build()
        t = self._topo
        cust = self.customers
        self._cust_node = self._node_ix.get_indexer(cust["node_id"])
        cust_sec = t.section_of_node[self._cust_node]
        self._cust_order = np.argsort(t.tin[cust_sec], kind="stable")
        self._cust_pos = t.tin[cust_sec][self._cust_order]
        self._cust_sec_sorted = cust_sec[self._cust_order]
        feeder_ids = np.array(list(sw["id"]) + [None], dtype=object)
        normal_feeder = feeder_ids[t.normal_feeder[cust_sec]]
        table = pd.DataFrame(
            {
                "id": cust["id"].to_numpy(dtype=object),
                "name": cust["name"].to_numpy(dtype=object),
                "importance": cust["importance"].to_numpy(dtype=object),
                "demand_kw": cust["demand_kw"].to_numpy(dtype=float),
                "node_id": cust["node_id"].to_numpy(dtype=object),
                "feeder": normal_feeder,
                "lon": cust.geometry.x.to_numpy() if len(cust) else np.zeros(0),
                "lat": cust.geometry.y.to_numpy() if len(cust) else np.zeros(0),
            }
        )
        self._cust_table = table.iloc[self._cust_order].reset_index(drop=True)
        self._feeder_ids = feeder_ids
        self._profiles()

    @cached_property
    def _in_substation(self) -> np.ndarray:
        """Nodes inside a substation (busbars and every node carrying a ``substation_id``): the
        sources of the topology. Meshes among them (parallel transformers, closed couplers) are legal;
        the radial rule applies below the feeder breakers."""
        n = self.nodes
        return ((n["kind"] == "busbar") | n["substation_id"].notna()).to_numpy()

    @cached_property
    def customer_tan_phi(self) -> np.ndarray:
        """tan(phi) of every customer (Q/P, aligned with :attr:`customers`): from its own
        ``power_factor`` (negative = leading), else ``meta.power_factor``."""
        pf = self.customers["power_factor"].to_numpy(dtype=float) if "power_factor" in self.customers else np.full(len(self.customers), np.nan)
        pf = np.where(np.isnan(pf), self.power_factor, pf)
        mag = np.clip(np.abs(pf), 0.1, 1.0)
        return np.sign(pf) * np.tan(np.arccos(mag))

    @cached_property
    def infeeds(self) -> tuple[np.ndarray, np.ndarray]:
        """Infeed mask over :attr:`nodes` (where the supply enters and the power flow holds the
        voltage) and the voltage set-points (pu): the busbars with a ``vm_pu``; in a substation
        where none has one, every busbar at ``meta.source_vm_pu`` (default 1.0)."""
        nodes = self.nodes
        busbar = (nodes["kind"] == "busbar").to_numpy()
        vm = nodes["vm_pu"].to_numpy(dtype=float)
        has = busbar & ~np.isnan(vm)
        sub = nodes["substation_id"].to_numpy(dtype=object)
        regulated = {s for s, h in zip(sub, has, strict=True) if h}
        default = float(self.meta.get("source_vm_pu") or 1.0)
        slack = has | (busbar & ~np.isin(sub, list(regulated)))
        return slack, np.where(has, vm, default)

    def _check_topology(self, ck: Checker) -> None:
        t = self._topo
        nodes = self.nodes
        # reachable from a source with every switch closed?
        import scipy.sparse as sp
        from scipy.sparse.csgraph import connected_components

        n = t.n_nodes
        rows = np.concatenate([t.line_from, t.sw_from])
        cols = np.concatenate([t.line_to, t.sw_to])
        _, comp = connected_components(
            sp.coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n)), directed=False
        )
        fed = np.zeros(comp.max() + 1 if n else 0, dtype=bool)
        fed[comp[t.source_nodes]] = True
        unreachable = ~fed[comp]
        if unreachable.any():
            ck.error(
                "unreachable_node",
                f"{int(unreachable.sum())} node(s) cannot be reached from any source even with all switches closed",
                nodes["id"][unreachable],
                "nodes",
            )
        sw_ids = self.switches["id"].to_numpy(dtype=object)
        for loop in t.loops:
            names = ", ".join(map(str, sw_ids[loop][:12])) + (" ..." if len(loop) > 12 else "")
            ck.error(
                "closed_loop",
                f"closed loop below the feeder breakers in the normal state through switch(es) {names}: "
                "feeders must operate radially; open one of them (make it normally open)",
                sw_ids[loop],
                "switches",
            )
        for s, _, _ in t.paralleled:
            ck.error("paralleled_sources", f"closed switch {sw_ids[s]} joins the busbars of two substations", (sw_ids[s],), "switches")
        dead = ~t.normally_live[t.section_of_node] & ~unreachable
        if dead.any():
            ck.warn(
                "dead_in_normal_state",
                f"{int(dead.sum())} node(s) are not energised in the normal state (only through normally-open switches)",
                nodes["id"][dead],
                "nodes",
            )
        if len(t.bypassed_switches):
            ck.warn(
                "bypassed_switch",
                "switches whose two ends are also joined by lines (opening them changes nothing)",
                sw_ids[t.bypassed_switches],
                "switches",
            )

    def _profiles(self) -> None:
        prof = self.profiles
        names = sorted(set(prof["profile"])) if len(prof) else []
        self._profile_names = names
        factors = np.ones((len(names) + 1, len(DAY_TYPES), 96), dtype=float)  # last row: flat
        if len(prof):
            p = pd.Index(names).get_indexer(prof["profile"])
            d = pd.Index(DAY_TYPES).get_indexer(prof["day_type"])
            m = (prof["minute_of_day"].to_numpy(dtype=np.int64) // 15).clip(0, 95)
            factors[p, d, m] = prof["factor"].to_numpy(dtype=float)
        self._factors = factors
        self._cust_profile = self.profile_index(self.customers["profile"])

    # -- layers ----------------------------------------------------------------

    @property
    def substations(self) -> gpd.GeoDataFrame:
        return self._layers["substations"]

    @property
    def nodes(self) -> gpd.GeoDataFrame:
        return self._layers["nodes"]

    @property
    def lines(self) -> gpd.GeoDataFrame:
        return self._layers["lines"]

    @property
    def switches(self) -> gpd.GeoDataFrame:
        return self._layers["switches"]

    @property
    def customers(self) -> gpd.GeoDataFrame:
        return self._layers["customers"]

    @property
    def depots(self) -> gpd.GeoDataFrame:
        return self._layers["depots"]

    @property
    def profiles(self) -> pd.DataFrame:
        return self._layers["profiles"]

    @property
    def transformers(self) -> gpd.GeoDataFrame:
        """Substation (and other) transformers joining ``hv_node`` and ``lv_node``; may be empty."""
        return self._layers["transformers"]

    @property
    def dg(self) -> gpd.GeoDataFrame:
        """Distributed generation (PV, wind, storage ...) at nodes, ``p_kw`` rated output; may be empty."""
        return self._layers["dg"]

    def layers(self) -> Layers:
        """Copies of all layers, ready for :func:`gis.format.write_grid`."""
        out: Layers = {}
        for name, df in self._layers.items():
            df = df.copy()
            if name == "customers" and "node_joined" in df.columns:
                df.loc[df["node_joined"], "node_id"] = None
                df = df.drop(columns="node_joined")
            out[name] = df
        out["meta"] = pd.DataFrame({"key": list(self.meta), "value": list(self.meta.values())})
        return out

    # -- graph ---------------------------------------------------------------

    @cached_property
    def graph(self) -> nx.MultiGraph:
        """The node graph: nodes keyed by id (``kind``, ``name``, ``lon``, ``lat``); one edge per
        line (``element="line"``, ``length_m``) and per switch (``element="switch"``,
        ``normally_open``), keyed by the element id. Built on first use."""
        g = nx.MultiGraph(name=self.name)
        n = self.nodes
        g.add_nodes_from(
            (i, {"kind": k, "name": nm, "lon": x, "lat": y})
            for i, k, nm, x, y in zip(n["id"], n["kind"], n["name"], n.geometry.x, n.geometry.y, strict=True)
        )
        ln = self.lines
        g.add_edges_from(
            (a, b, i, {"element": "line", "kind": k, "length_m": length})
            for i, a, b, k, length in zip(ln["id"], ln["from_node"], ln["to_node"], ln["kind"], ln["length_m"], strict=True)
        )
        s = self.switches
        g.add_edges_from(
            (a, b, i, {"element": "switch", "kind": k, "normally_open": bool(o)})
            for i, a, b, k, o in zip(s["id"], s["from_node"], s["to_node"], s["kind"], s["normally_open"], strict=True)
        )
        return g

    # -- id helpers ------------------------------------------------------------

    def equipment_kind(self, equipment_id: str) -> str | None:
        """``"node"``, ``"line"``, ``"switch"``, ``"customer"``, ``"substation"``, ``"depot"`` or None."""
        for kind, ix in (("node", self._node_ix), ("line", self._line_ix), ("switch", self._sw_ix), ("customer", self._cust_ix)):
            if equipment_id in ix:
                return kind
        if equipment_id in set(self.substations["id"]):
            return "substation"
        if equipment_id in set(self.depots["id"]):
            return "depot"
        return None

    def _switch_indices(self, ids: SwitchIds, what: str) -> np.ndarray:
        ids = [ids] if isinstance(ids, str) else list(ids)
        idx = self._sw_ix.get_indexer(ids)
        if (idx < 0).any():
            unknown = [i for i, x in zip(ids, idx, strict=True) if x < 0]
            raise NotFoundError(f"unknown switch id(s) in {what}: {', '.join(map(str, unknown[:10]))}", code="unknown_switch", details={"ids": unknown})
        return idx

    def _node_index(self, node_id: str) -> int:
        i = self._node_ix.get_indexer([node_id])[0]
        if i < 0:
            raise NotFoundError(f"unknown node id: {node_id}", code="unknown_node", details={"id": node_id})
        return int(i)

    def study(self, *, open_switches: SwitchIds = (), close_switches: SwitchIds = ()) -> State | ComponentState:
        """The topology state with these switches opened/closed (ids); reused by the other queries."""
        o = self._switch_indices(open_switches, "open_switches")
        c = self._switch_indices(close_switches, "close_switches")
        both = set(o.tolist()) & set(c.tolist())
        if both:
            ids = sorted(self.switches["id"].iloc[sorted(both)])
            raise InputError(f"switch(es) both opened and closed: {', '.join(ids)}", code="conflicting_switches", details={"ids": ids})
        return self._topo.study(o, c)

    # -- queries -------------------------------------------------------------

    def _dead_node_idx(self, state: State | ComponentState) -> np.ndarray:
        return state.dead_node_idx()

    def dead_nodes(self, *, open_switches: SwitchIds = (), close_switches: SwitchIds = ()) -> set[str]:
        """Ids of nodes without supply in the given state."""
        state = self.study(open_switches=open_switches, close_switches=close_switches)
        return set(self.nodes["id"].to_numpy(dtype=object)[self._dead_node_idx(state)])

    def energized(self, *, open_switches: SwitchIds = (), close_switches: SwitchIds = ()) -> set[str]:
        """Ids of nodes energised from some busbar with these switches opened/closed (else normal)."""
        state = self.study(open_switches=open_switches, close_switches=close_switches)
        live = np.ones(len(self.nodes), dtype=bool)
        live[self._dead_node_idx(state)] = False
        return set(self.nodes["id"].to_numpy(dtype=object)[live])

    def affected_customers(self, *, open_switches: SwitchIds = (), close_switches: SwitchIds = ()) -> pd.DataFrame:
        """Customers without supply in the given state.

        Columns: ``id, name, importance, demand_kw`` (kW), ``node_id``, ``feeder``
        (the feeder that supplies them in the normal state), ``lon, lat`` (EPSG:4326).
        """
        state = self.study(open_switches=open_switches, close_switches=close_switches)
        return self._affected(state)

    def _affected(self, state: State | ComponentState) -> pd.DataFrame:
        rows = slice_sorted(self._cust_pos, state.dead_intervals())
        if len(rows) == 1 or (len(rows) and rows[-1] - rows[0] + 1 == len(rows)):
            return self._cust_table.iloc[rows[0] : rows[-1] + 1].reset_index(drop=True)
        return self._cust_table.iloc[rows].reset_index(drop=True)

    def feeder_of(self, node_id: str, *, open_switches: SwitchIds = (), close_switches: SwitchIds = ()) -> str | None:
        """Id of the feeder breaker supplying ``node_id`` in the given state; None when dead or a busbar."""
        i = self._node_index(node_id)
        state = self.study(open_switches=open_switches, close_switches=close_switches)
        f = state.section_feeder(np.array([self._topo.section_of_node[i]]))[0]
        return None if f == NO else str(self._feeder_ids[f])

    def customer_feeders(self, *, open_switches: SwitchIds = (), close_switches: SwitchIds = (), state: State | ComponentState | None = None) -> pd.Series:
        """Feeder (breaker id, None when dead) of every customer in the given state, indexed by customer id."""
        state = state or self.study(open_switches=open_switches, close_switches=close_switches)
        f = state.positions_feeder(self._cust_pos, self._cust_sec_sorted)
        out = np.empty(len(f), dtype=object)
        out[self._cust_order] = self._feeder_ids[f]
        return pd.Series(out, index=self.customers["id"].to_numpy(dtype=object), name="feeder")

    def node_feeders(self, *, open_switches: SwitchIds = (), close_switches: SwitchIds = (), state: State | ComponentState | None = None) -> pd.Series:
        """Feeder (breaker id, None when dead or a busbar) of every node in the given state, indexed by node id."""
        state = state or self.study(open_switches=open_switches, close_switches=close_switches)
        t = self._topo
        f = state.positions_feeder(t.node_pos, t.section_of_node[t.node_order])
        out = np.empty(len(f), dtype=object)
        out[t.node_order] = self._feeder_ids[f]
        return pd.Series(out, index=self.nodes["id"].to_numpy(dtype=object), name="feeder")

    # -- feeders and loads -------------------------------------------------------

    @cached_property
    def feeders(self) -> pd.DataFrame:
        """One row per feeder: ``id`` (breaker), ``busbar``, ``substation_id``, ``rating_a``,
        ``capacity_kw`` (sqrt(3) x nominal kV x rating A x power factor), ``customers``,
        ``demand_kw`` (sum of customer demand), ``tie_switches`` (normally-open switches at its end)."""
        sw = self.switches
        t = self._topo
        fb = np.flatnonzero(t.sw_feeder_breaker)
        nodes = self.nodes.set_index("id")
        counts = pd.Series(self._cust_table["feeder"]).value_counts()
        demand = self._cust_table.groupby("feeder")["demand_kw"].sum()
        rows = []
        ties_by_feeder = self._ties_by_feeder()
        for s in fb:
            sid = str(sw["id"].iloc[s])
            rating = self._feeder_rating(int(s))
            busbar = str(sw["from_node"].iloc[s])
            rows.append(
                {
                    "id": sid,
                    "busbar": busbar,
                    "substation_id": nodes.at[busbar, "substation_id"],
                    "rating_a": rating,
                    "capacity_kw": self._kw(rating),
                    "customers": int(counts.get(sid, 0)),
                    "demand_kw": float(demand.get(sid, 0.0)),
                    "tie_switches": tuple(ties_by_feeder.get(sid, ())),
                }
            )
        cols = ["id", "busbar", "substation_id", "rating_a", "capacity_kw", "customers", "demand_kw", "tie_switches"]
        return pd.DataFrame(rows, columns=cols)

    def _kw(self, amps: float | None) -> float | None:
        if amps is None or not math.isfinite(amps):
            return None
        return math.sqrt(3) * self.nominal_kv * amps * self.power_factor

    def _feeder_rating(self, s: int) -> float | None:
        r = self.switches["rating_a"].iloc[s]
        if pd.notna(r):
            return float(r)
        child = self.switches["to_node"].iloc[s]
        ln = self.lines
        at = self.line_params["rating_a"][((ln["from_node"] == child) | (ln["to_node"] == child)).to_numpy()].dropna()
        return float(at.min()) if len(at) else None

    def _ties_by_feeder(self) -> dict[str, list[str]]:
        t = self._topo
        out: dict[str, list[str]] = {}
        ids = self.switches["id"].to_numpy(dtype=object)
        for s in np.flatnonzero(t.sw_open):
            for sec in (t.sw_sec_a[s], t.sw_sec_b[s]):
                f = t.normal_feeder[sec]
                if f != NO:
                    out.setdefault(str(ids[f]), []).append(str(ids[s]))
        return out

    def feeder_capacity_kw(self, feeder_id: str) -> float | None:
        """Capacity of a feeder in kW, from its breaker's (or first cable's) rating; None if unknown."""
        f = self.feeders.set_index("id")
        if feeder_id not in f.index:
            raise NotFoundError(f"unknown feeder: {feeder_id}", code="unknown_feeder")
        v = f.at[feeder_id, "capacity_kw"]
        return None if v is None or pd.isna(v) else float(v)

    def _local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise InputError("times must be timezone-aware", code="naive_datetime", details={"time": at.isoformat()})
        return at.astimezone(self.timezone)

    def profile_factor(self, at: datetime) -> np.ndarray:
        """Share of ``demand_kw`` each customer draws at ``at`` (aligned with ``grid.customers``)."""
        loc = self._local(at)
        day = 0 if loc.weekday() < 5 else (1 if loc.weekday() == 5 else 2)
        slot = (loc.hour * 60 + loc.minute) // 15
        return self._factors[self._cust_profile, day, slot]

    @property
    def profile_names(self) -> list[str]:
        """Profile names in the order of the rows of :meth:`profile_factors` (a last row: flat)."""
        return list(self._profile_names)

    def profile_index(self, names: pd.Series) -> np.ndarray:
        """Row of :meth:`profile_factors` for each profile name (missing or unknown: the flat row)."""
        idx = pd.Index(self._profile_names).get_indexer(names.where(names.notna(), "\0"))
        idx[idx < 0] = len(self._profile_names)
        return idx

    def profile_factors(self, times: Iterable[datetime]) -> np.ndarray:
        """Factor of every profile at each time: ``(len(profile_names) + 1, len(times))``, last row 1.0."""
        cols = []
        for at in times:
            loc = self._local(at)
            day = 0 if loc.weekday() < 5 else (1 if loc.weekday() == 5 else 2)
            cols.append(self._factors[:, day, (loc.hour * 60 + loc.minute) // 15])
        return np.stack(cols, axis=1) if cols else np.zeros((len(self._profile_names) + 1, 0))

    def customer_load_kw(self, at: datetime) -> pd.Series:
        """Load of every customer at ``at`` (kW), indexed by customer id."""
        return pd.Series(
            self.customers["demand_kw"].to_numpy(dtype=float) * self.profile_factor(at),
            index=self.customers["id"].to_numpy(dtype=object),
            name="load_kw",
        )

    def feeder_load_kw(self, at: datetime, *, open_switches: SwitchIds = (), close_switches: SwitchIds = ()) -> pd.Series:
        """Load each feeder carries at ``at`` (kW) in the given state, indexed by feeder id."""
        load = self.customer_load_kw(at)
        feeders = self.customer_feeders(open_switches=open_switches, close_switches=close_switches)
        s = load.groupby(feeders.to_numpy()).sum()
        return s.reindex(self.feeders["id"], fill_value=0.0)

    def check_state(
        self,
        *,
        open_switches: SwitchIds = (),
        close_switches: SwitchIds = (),
        at: datetime | None = None,
        margin: float = 0.0,
        feeders: Iterable[str] | None = None,
    ) -> StateCheck:
        """Loops, paralleled substations and (when ``at`` is given) feeder overloads in a state.

        ``margin`` is the share of capacity kept free (0.1 = load must stay within 90 %).
        Feeders of unknown capacity are never reported as overloaded; ``feeders``
        limits the overload check to those feeder ids (e.g. the ones taking a transfer).
        """
        state = self.study(open_switches=open_switches, close_switches=close_switches)
        sw_ids = self.switches["id"].to_numpy(dtype=object)
        sub_codes = self._substation_codes
        def name(code: int, ids: np.ndarray) -> str | None:
            return None if code == NO else str(ids[code])
        meshes = []
        paralleled = []
        for s, fa, fb, sa, sb in state.meshes():
            meshes.append((str(sw_ids[s]), name(fa, sw_ids), name(fb, sw_ids), name(sa, sub_codes), name(sb, sub_codes)))
            if sa != NO and sb != NO and sa != sb:
                paralleled.append((str(sw_ids[s]), str(sub_codes[sa]), str(sub_codes[sb])))
        overloads = []
        if at is not None:
            only = None if feeders is None else set(feeders)
            load = self.customer_load_kw(at)
            per = load.groupby(self.customer_feeders(state=state).to_numpy()).sum()
            for _, row in self.feeders.iterrows():
                if only is not None and row["id"] not in only:
                    continue
                cap = row["capacity_kw"]
                if cap is None or pd.isna(cap):
                    continue
                limit = float(cap) * (1.0 - margin)
                kw = float(per.get(row["id"], 0.0))
                if kw > limit + 1e-9:
                    overloads.append((str(row["id"]), round(kw, 3), round(limit, 3)))
        return StateCheck(tuple(meshes), tuple(paralleled), tuple(overloads))

    @cached_property
    def _substation_codes(self) -> np.ndarray:
        src = np.flatnonzero(self._in_substation)
        _, uniques = pd.factorize(self.nodes["substation_id"].to_numpy(dtype=object)[src])
        return np.asarray(uniques, dtype=object)

    # -- isolation, sections, ties -------------------------------------------------

    def _sections_of(self, equipment_id: str) -> list[int]:
        t = self._topo
        kind = self.equipment_kind(equipment_id)
        if kind == "node":
            return [int(t.section_of_node[self._node_ix.get_loc(equipment_id)])]
        if kind == "line":
            i = self._line_ix.get_loc(equipment_id)
            return [int(t.section_of_node[t.line_from[i]])]
        if kind == "switch":
            i = self._sw_ix.get_loc(equipment_id)
            return sorted({int(t.sw_sec_a[i]), int(t.sw_sec_b[i])})
        if kind is None:
            raise NotFoundError(f"unknown equipment id: {equipment_id}", code="unknown_equipment", details={"id": equipment_id})
        raise InputError(f"{equipment_id} is a {kind}, not grid equipment (node, line or switch)", code="not_equipment", details={"id": equipment_id})

    def isolate(self, equipment: str | Iterable[str]) -> Isolation:
        """The nearest switches to open so that the equipment (node, line or switch ids) is dead.

        The work zone is the union of the sections holding the equipment (for a
        switch, the sections on both of its sides); every normally-closed switch
        on its boundary is opened, so the de-energised area is the smallest
        possible and the parts beyond the far switches can be re-fed by
        transfer. Raises :class:`~gis.errors.InputError` for equipment in a
        substation (busbar) section, which switching cannot de-energise.
        """
        ids = [equipment] if isinstance(equipment, str) else list(dict.fromkeys(equipment))
        if not ids:
            raise InputError("no equipment given", code="no_equipment")
        t = self._topo
        work: set[int] = set()
        for e in ids:
            secs = self._sections_of(e)
            if t.is_source_section[secs].any():
                raise InputError(
                    f"{e} is in a substation busbar section: it cannot be isolated by distribution switching",
                    code="source_equipment",
                    details={"id": e},
                )
            work.update(secs)
        work_arr = np.array(sorted(work), dtype=np.int64)
        in_a = np.isin(t.sw_sec_a, work_arr)
        in_b = np.isin(t.sw_sec_b, work_arr)
        boundary = in_a ^ in_b
        sw_ids = self.switches["id"].to_numpy(dtype=object)
        to_open = np.flatnonzero(boundary & ~t.sw_open)
        ties = np.flatnonzero(boundary & t.sw_open)
        state = self._topo.study(to_open, np.zeros(0, dtype=np.int64))
        dead_idx = self._dead_node_idx(state)
        node_ids = self.nodes["id"].to_numpy(dtype=object)
        work_mask = np.isin(t.section_of_node, work_arr)
        affected = self._affected(state)
        work_cust = np.isin(t.section_of_node[self._cust_node], work_arr)
        return Isolation(
            equipment=tuple(ids),
            switches=tuple(sorted(map(str, sw_ids[to_open]))),
            ties=tuple(sorted(map(str, sw_ids[ties]))),
            work_nodes=frozenset(map(str, node_ids[work_mask])),
            nodes=frozenset(map(str, node_ids[dead_idx])),
            customers=tuple(affected["id"]),
            work_customers=tuple(self.customers["id"][work_cust]),
        )

    @cached_property
    def _section_ids(self) -> np.ndarray:
        t = self._topo
        _, first = np.unique(t.section_of_node, return_index=True)
        return np.array([f"section:{x}" for x in self.nodes["id"].to_numpy(dtype=object)[first]], dtype=object)

    def section_of(self, equipment_id: str) -> str:
        """Id of the section holding a node or line (``section:<first node id>``)."""
        secs = self._sections_of(equipment_id)
        if len(secs) != 1:
            raise InputError(f"{equipment_id} is a switch between two sections", code="switch_between_sections")
        return str(self._section_ids[secs[0]])

    def supply_tree(self) -> SupplyTree:
        """The normal state's supply tree of the sections, by id: parent, supply switch, children,
        feeder, path from the substation, what hangs below a switch (built once per grid)."""
        return self.derived("gis.supply_tree", lambda g: SupplyTree(g._topo, section_ids=g._section_ids, switch_ids=g.switches["id"]))

    def sections(self) -> list[Section]:
        """The switch-delimited sections, in a stable order (by first node)."""
        t = self._topo
        supply = np.where(t.source_rooted, t.parent_switch, NO)
        node_ids = self.nodes["id"].to_numpy(dtype=object)
        by_sec_nodes = pd.Series(node_ids).groupby(t.section_of_node).agg(tuple)
        line_sec = t.section_of_node[t.line_from[: len(self.lines)]]
        by_sec_lines = pd.Series(self.lines["id"].to_numpy(dtype=object)).groupby(line_sec).agg(tuple)
        sw_ids = self.switches["id"].to_numpy(dtype=object)
        bounds: dict[int, list[str]] = {}
        for s in range(len(sw_ids)):
            a, b = int(t.sw_sec_a[s]), int(t.sw_sec_b[s])
            bounds.setdefault(a, []).append(sw_ids[s])
            if b != a:
                bounds.setdefault(b, []).append(sw_ids[s])
        cust_count = np.bincount(t.section_of_node[self._cust_node], minlength=t.n_sections)
        out = []
        for sec in range(t.n_sections):
            f = t.normal_feeder[sec]
            out.append(
                Section(
                    id=str(self._section_ids[sec]),
                    nodes=tuple(by_sec_nodes.get(sec, ())),
                    lines=tuple(by_sec_lines.get(sec, ())),
                    switches=tuple(sorted(bounds.get(sec, ()))),
                    feeder=None if f == NO else str(sw_ids[f]),
                    source=bool(t.is_source_section[sec]),
                    customers=int(cust_count[sec]),
                    supply_switch=None if supply[sec] == NO else str(sw_ids[supply[sec]]),
                )
            )
        return sorted(out, key=lambda s: s.id)

    def tie_options(self, dead_nodes: Iterable[str], *, open_switches: SwitchIds = (), close_switches: SwitchIds = ()) -> list[TieOption]:
        """Normally-open switches that could re-feed part of ``dead_nodes`` from a live feeder.

        The state is the normal one with ``open_switches`` opened and
        ``close_switches`` closed (e.g. an isolation's switches). For each tie
        with one end dead and the other live, the option lists the dead nodes
        (within ``dead_nodes``) and customers that closing it alone would restore,
        and the feeder that would carry them. Sorted by customers restored, most first.
        """
        t = self._topo
        dead_list = list(dead_nodes)
        dead_idx = self._node_ix.get_indexer(dead_list)
        if (dead_idx < 0).any():
            unknown = [d for d, i in zip(dead_list, dead_idx, strict=True) if i < 0]
            raise NotFoundError(f"unknown node id(s): {', '.join(unknown[:10])}", code="unknown_node", details={"ids": unknown})
        open_idx = set(self._switch_indices(open_switches, "open_switches").tolist())
        close_ids = [close_switches] if isinstance(close_switches, str) else list(close_switches)
        state = self.study(open_switches=open_switches, close_switches=close_ids)
        dead_secs = np.unique(t.section_of_node[dead_idx])
        closed_now = set(self._switch_indices(close_ids, "close_switches").tolist())
        cand = np.flatnonzero(t.sw_open & (np.isin(t.sw_sec_a, dead_secs) ^ np.isin(t.sw_sec_b, dead_secs)))
        sw_ids = self.switches["id"].to_numpy(dtype=object)
        node_ids = self.nodes["id"].to_numpy(dtype=object)
        dead_set = set(dead_idx.tolist())
        before = set(self._dead_node_idx(state).tolist())
        out = []
        for s in cand:
            if s in closed_now or s in open_idx:
                continue
            a_dead = t.sw_sec_a[s] in dead_secs
            dead_end, live_end = (t.sw_from[s], t.sw_to[s]) if a_dead else (t.sw_to[s], t.sw_from[s])
            live_sec = t.section_of_node[live_end]
            if not state.section_live(np.array([live_sec]))[0]:
                continue
            after_state = self._topo.study(np.array(sorted(open_idx), dtype=np.int64), np.array(sorted(closed_now | {int(s)}), dtype=np.int64))
            after = set(self._dead_node_idx(after_state).tolist())
            restored = (before - after) & dead_set
            if not restored:
                continue
            fed = after_state.section_feeder(np.array([t.section_of_node[dead_end]]))[0]
            restored_idx = np.array(sorted(restored), dtype=np.int64)
            cust = np.isin(self._cust_node, restored_idx)
            out.append(
                TieOption(
                    switch=str(sw_ids[s]),
                    dead_node=str(node_ids[dead_end]),
                    live_node=str(node_ids[live_end]),
                    feeder=None if fed == NO else str(sw_ids[fed]),
                    nodes=frozenset(map(str, node_ids[restored_idx])),
                    customers=tuple(self.customers["id"][cust]),
                )
            )
        return sorted(out, key=lambda o: (-len(o.customers), o.switch))

    def access_point(self, node_id: str) -> tuple[float, float]:
        """Where a crew parks for a node: ``(lon, lat)`` in EPSG:4326 (the node itself when not given)."""
        i = self._node_index(node_id)
        row = self.nodes.iloc[i]
        if pd.notna(row.get("access_lon")) and pd.notna(row.get("access_lat")):
            return float(row["access_lon"]), float(row["access_lat"])
        return float(row.geometry.x), float(row.geometry.y)

    def access_points(self, kinds: Iterable[str] = ("rmu", "distribution_room")) -> dict[str, tuple[float, float]]:
        """Access point ``(lon, lat)`` of every node of the given kinds, by node id."""
        n = self.nodes[self.nodes["kind"].isin(list(kinds))]
        lon = n["access_lon"].where(n["access_lon"].notna(), n.geometry.x)
        lat = n["access_lat"].where(n["access_lat"].notna(), n.geometry.y)
        return {str(i): (float(x), float(y)) for i, x, y in zip(n["id"], lon, lat, strict=True)}

    # -- summary ---------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Counts by layer and kind, customers by importance, feeders, ties, km of line."""
        sw = self.switches
        lines = self.lines
        return {
            "name": self.name,
            "timezone": self.meta.get("timezone"),
            "layers": {name: int(len(self._layers[name])) for name in LAYERS if name in self._layers and name != "meta"},
            "nodes_by_kind": {str(k): int(v) for k, v in self.nodes["kind"].value_counts().sort_index().items()},
            "switches_by_kind": {str(k): int(v) for k, v in sw["kind"].value_counts().sort_index().items()},
            "customers_by_importance": {str(k): int(v) for k, v in self.customers["importance"].value_counts().sort_index().items()},
            "customers_by_category": {str(k): int(v) for k, v in self.customers["category"].value_counts().sort_index().items()},
            "substations": int(len(self.substations)),
            "feeders": int(self._topo.sw_feeder_breaker.sum()),
            "ties": int(sw["normally_open"].sum()),
            "remote_switches": int(sw["remote"].sum()),
            "fault_indicators": int(sw["fault_indicator"].sum()),
            "sections": int(self._topo.n_sections),
            "km_of_line": {str(k): round(float(v) / 1000.0, 3) for k, v in lines.groupby("kind")["length_m"].sum().sort_index().items()},
            "demand_kw": round(float(self.customers["demand_kw"].sum()), 1),
            "warnings": len([p for p in self.problems if p.severity == "warning"]),
        }
