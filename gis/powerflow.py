"""AC power flow of switching states: line and transformer loading, node voltages, violations.

The physics check behind every state the product proposes. Pure NumPy/SciPy:
pandapower (``gis.pandapower_io``) is the oracle the tests compare against, not
a run-time dependency of the check.

Model (see ``docs/powerflow.md``)
    Per-unit on 1 MVA and each node's ``vn_kv``. Lines are pi sections from
    ``grid.line_params`` (ohm/km, nF/km, 50 Hz) and ``length_m``; closed
    switches fuse the nodes they join into one bus, as pandapower does (a
    switch's current follows from Kirchhoff's current law over the switches
    beyond it); transformers are pi models from ``sn_kva``, ``vk_percent``,
    ``vkr_percent``, ``pfe_kw``, ``i0_percent`` and the tap. Infeeds (slack
    nodes) are the busbars with a ``vm_pu`` set-point; a substation none of
    whose busbars has one holds all its busbars at ``meta.source_vm_pu``
    (default 1.0). Customer loads are ``demand_kw`` x profile factor at their
    ``power_factor`` (else ``meta.power_factor``); DG (``dg`` layer) injects ``p_kw`` x its profile
    factor at unity power factor.

Solver
    Only the islands a state touches are solved: the live parts whose feeder
    changed against the normal state (cut away from the infeeds, each part is
    independent). All time columns of a state are solved at once by the
    fixed-point (Z-bus) iteration ``V = Y_pp^-1 (conj(S / V) - Y_ps V_s)``
    with one sparse LU per state; a column that does not settle within
    :data:`MAX_ITER` goes to Newton-Raphson; one that diverges there too is a
    ``not_converged`` violation (voltage collapse). Both reach the same AC
    solution as pandapower's Newton-Raphson to 1e-6 pu (``tests/gis/test_powerflow.py``).

Limits (:class:`Limits`) are options: loading of lines, switches, transformers
and busbars at most 100 %, voltage within +-7 % of nominal (GB/T 12325). A
violation the normal state already has at the same time is reported as
``pre_existing`` and does not fail the state unless the state makes it worse.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, depth_first_order
from scipy.sparse.linalg import splu, spsolve

from gis.catalogue import BUSBAR_RATING_A, transformer_impedance
from gis.errors import InputError
from gis.grid import Grid

S_BASE_MVA = 1.0
MIN_X_PU = 1e-6  # least series reactance (per unit on 1 MVA) of a line or transformer
FREQUENCY_HZ = 50.0
MAX_ITER = 40  # fixed-point iterations before Newton-Raphson takes over
TOL_PU = 1e-9  # voltage change (pu) at which the fixed point has settled
NR_TOL = 1e-8  # power mismatch (pu) at which Newton-Raphson has converged
LINE, SWITCH, TRAFO = 0, 1, 2
KIND_NAMES = {LINE: "line", SWITCH: "switch", TRAFO: "transformer"}


@dataclass(frozen=True)
class Limits:
    """Operating limits a state must respect (percent of rating; per-unit voltage)."""

    line_loading_pct: float = 100.0
    switch_loading_pct: float = 100.0
    trafo_loading_pct: float = 100.0
    busbar_loading_pct: float = 100.0
    v_min_pu: float = 0.93
    v_max_pu: float = 1.07
    tolerance_pct: float = 0.5  # how much worse than the normal state a pre-existing violation may get

    def __post_init__(self) -> None:
        nums = [self.line_loading_pct, self.switch_loading_pct, self.trafo_loading_pct, self.busbar_loading_pct]
        if not all(isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in nums):
            raise InputError("loading limits must be positive percentages", code="bad_limits")
        if not (0.5 < self.v_min_pu < 1.0 < self.v_max_pu < 1.5):
            raise InputError(f"voltage limits must satisfy 0.5 < v_min < 1 < v_max < 1.5, got {self.v_min_pu}, {self.v_max_pu}", code="bad_limits")

    def to_dict(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Violation:
    """One limit broken at one time column: ``element`` (``kind`` line/switch/transformer/busbar/node/island)."""

    kind: str
    element: str
    quantity: str  # loading_pct | vm_pu | converged
    value: float
    limit: float
    at: Any  # the column's label (a datetime when times were given)
    dg: bool  # whether DG was producing in that column
    pre_existing: bool = False

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat() if isinstance(self.at, datetime) else self.at
        return {"kind": self.kind, "element": self.element, "quantity": self.quantity, "value": round(self.value, 4),
                "limit": self.limit, "at": at, "dg": self.dg, "pre_existing": self.pre_existing}

    def message(self) -> str:
        at = self.at.isoformat() if isinstance(self.at, datetime) else self.at
        if self.quantity == "converged":
            return f"no power-flow solution for island of {self.element} at {at} (voltage collapse)"
        if self.quantity == "vm_pu":
            side = "below" if self.value < self.limit else "above"
            return f"{self.kind} {self.element} at {self.value:.3f} pu at {at}, {side} the limit {self.limit:.3f} pu"
        return f"{self.kind} {self.element} loaded {self.value:.0f} % at {at}, above {self.limit:.0f} %"


# ---------------------------------------------------------------------------------------------
# the electrical model of a grid (built once, cached)


@dataclass
class Network:
    """Branches, infeeds and injections of a grid as arrays (node order = ``grid.nodes``)."""

    n: int
    node_ids: np.ndarray
    vn_kv: np.ndarray
    slack: np.ndarray  # bool per node
    vm_set: np.ndarray  # set-point per node (slack nodes only meaningful)
    br_from: np.ndarray
    br_to: np.ndarray
    br_kind: np.ndarray  # LINE | SWITCH | TRAFO
    br_elem: np.ndarray  # index in its layer
    y_series: np.ndarray  # complex pu
    b_half: np.ndarray  # complex pu shunt at each end (line charging / magnetising)
    tap: np.ndarray  # complex ratio at the from side
    i_rated_ka: np.ndarray  # rated current (lines, switches; NaN unknown), transformers: NaN
    i_rated_hv_ka: np.ndarray  # transformers' rated current on each side (sn / sqrt(3) vn), NaN for others
    i_rated_lv_ka: np.ndarray
    ids: dict[int, np.ndarray]  # element ids by kind
    demand: sp.csr_matrix  # (node, profile) kW
    q_demand: sp.csr_matrix  # (node, profile) kvar
    dg: sp.csr_matrix  # (node, profile) kW rated, in service only
    busbar_a: np.ndarray  # busbar rating (A), NaN for other nodes
    switch_ix: dict[str, int] = field(default_factory=dict)


def _network(grid: Grid) -> Network:
    nodes, lines, sw, tr = grid.nodes, grid.lines, grid.switches, grid.transformers
    n = len(nodes)
    ix = pd.Index(nodes["id"])
    vn = nodes["vn_kv"].fillna(grid.nominal_kv).to_numpy(dtype=float)
    z_base = vn**2 / S_BASE_MVA

    # lines: pi sections
    lp = grid.line_params
    lf, lt = ix.get_indexer(lines["from_node"]), ix.get_indexer(lines["to_node"])
    km = lines["length_m"].to_numpy(dtype=float) / 1000.0
    z = (lp["r_ohm_per_km"].to_numpy() + 1j * lp["x_ohm_per_km"].to_numpy()) * km / z_base[lf]
    z = np.where(np.abs(z) < MIN_X_PU, 1j * MIN_X_PU, z)  # a zero-length line: next to no impedance, not none
    b_line = 2 * np.pi * FREQUENCY_HZ * lp["c_nf_per_km"].to_numpy() * 1e-9 * km * z_base[lf]
    i_line = lp["rating_a"].to_numpy(dtype=float) / 1000.0

    # switches: tiny reactances
    sf, st = ix.get_indexer(sw["from_node"]), ix.get_indexer(sw["to_node"])
    ns = len(sw)

    # transformers: pi models, tap at the hv (from) side
    tf, tt = ix.get_indexer(tr["hv_node"]), ix.get_indexer(tr["lv_node"])
    sn = tr["sn_kva"].to_numpy(dtype=float) / 1000.0
    defaults = np.array([transformer_impedance(k * 1000.0) for k in sn]).reshape(-1, 2)
    vk = tr["vk_percent"].fillna(pd.Series(defaults[:, 0], index=tr.index)).to_numpy(dtype=float)
    vkr = tr["vkr_percent"].fillna(pd.Series(defaults[:, 1], index=tr.index)).to_numpy(dtype=float)
    vn_hv = tr["vn_hv_kv"].fillna(pd.Series(vn[tf] if len(tr) else [], index=tr.index)).to_numpy(dtype=float)
    vn_lv = tr["vn_lv_kv"].fillna(pd.Series(vn[tt] if len(tr) else [], index=tr.index)).to_numpy(dtype=float)
    scale = (vn_lv / vn[tt]) ** 2 * S_BASE_MVA / np.where(sn > 0, sn, 1.0)
    zk = vk / 100.0 * scale
    rk = vkr / 100.0 * scale
    xk = np.sqrt(np.maximum(zk**2 - rk**2, 0.0))
    z_tr = rk + 1j * np.maximum(xk, MIN_X_PU)
    gm = tr["pfe_kw"].fillna(0.0).to_numpy(dtype=float) / 1000.0 / S_BASE_MVA
    ym = tr["i0_percent"].fillna(0.0).to_numpy(dtype=float) / 100.0 * sn / S_BASE_MVA
    bm = -np.sqrt(np.maximum(ym**2 - gm**2, 0.0))
    step = tr["tap_step_percent"].fillna(0.0).to_numpy(dtype=float) / 100.0
    diff = (tr["tap_pos"].fillna(0.0) - tr["tap_neutral"].fillna(0.0)).to_numpy(dtype=float)
    on_hv = (tr["tap_side"].fillna("hv") == "hv").to_numpy()
    tap_mag = np.where(on_hv, 1.0 + diff * step, 1.0 / np.maximum(1.0 + diff * step, 1e-3))
    ratio = (vn_hv / vn[tf]) / (vn_lv / vn[tt]) * tap_mag if len(tr) else np.zeros(0)

    nl, nt = len(lines), len(tr)
    y_series = np.concatenate([1.0 / z, np.full(ns, 1.0 / (1j * MIN_X_PU)), 1.0 / z_tr if nt else np.zeros(0)])
    b_half = np.concatenate([0.5j * b_line, np.zeros(ns), 0.5 * (gm + 1j * bm)])
    sw_rating = sw["rating_a"].to_numpy(dtype=float) / 1000.0

    slack, vm_set = grid.infeeds
    cust = grid.customers
    cnode = ix.get_indexer(cust["node_id"])
    nprof = len(grid.profile_names) + 1
    kw, prof = cust["demand_kw"].to_numpy(dtype=float), grid.profile_index(cust["profile"])
    demand = sp.csr_matrix((kw, (cnode, prof)), shape=(n, nprof))
    q_demand = sp.csr_matrix((kw * grid.customer_tan_phi, (cnode, prof)), shape=(n, nprof))
    dgl = grid.dg
    on = dgl["in_service"].to_numpy(dtype=bool) if len(dgl) else np.zeros(0, dtype=bool)
    dg = sp.csr_matrix(
        (dgl["p_kw"].to_numpy(dtype=float)[on], (ix.get_indexer(dgl["node_id"])[on], grid.profile_index(dgl["profile"])[on])),
        shape=(n, nprof))
    busbar = (nodes["kind"] == "busbar").to_numpy()
    return Network(
        n=n, node_ids=nodes["id"].to_numpy(dtype=object), vn_kv=vn, slack=slack, vm_set=vm_set,
        br_from=np.concatenate([lf, sf, tf]).astype(np.int64),
        br_to=np.concatenate([lt, st, tt]).astype(np.int64),
        br_kind=np.concatenate([np.full(nl, LINE), np.full(ns, SWITCH), np.full(nt, TRAFO)]),
        br_elem=np.concatenate([np.arange(nl), np.arange(ns), np.arange(nt)]),
        y_series=y_series,
        b_half=b_half,
        tap=np.concatenate([np.ones(nl + ns), ratio]).astype(complex),
        i_rated_ka=np.concatenate([i_line, sw_rating, np.full(nt, np.nan)]),
        i_rated_hv_ka=np.concatenate([np.full(nl + ns, np.nan), sn / (math.sqrt(3) * vn_hv)]),
        i_rated_lv_ka=np.concatenate([np.full(nl + ns, np.nan), sn / (math.sqrt(3) * vn_lv)]),
        ids={LINE: lines["id"].to_numpy(dtype=object), SWITCH: sw["id"].to_numpy(dtype=object), TRAFO: tr["id"].to_numpy(dtype=object)},
        demand=demand,
        dg=dg,
        q_demand=q_demand,
        busbar_a=np.where(busbar, nodes["rating_a"].fillna(BUSBAR_RATING_A).to_numpy(dtype=float), np.nan),
        switch_ix={str(s): i for i, s in enumerate(sw["id"])},
    )


def network(grid: Grid) -> Network:
    """The electrical model of a grid, built once per grid."""
    return grid.derived("powerflow.network", _network)


# ---------------------------------------------------------------------------------------------
# results


@dataclass
class StateFlow:
    """Power flow of one switching state over some time columns (see :func:`check_state_flow`).

    Arrays are over the solved islands only: ``node_ids``/``vm_pu`` (node x column),
    ``branch_ids``/``branch_kind``/``loading_pct`` (branch x column; NaN when unrated).
    Columns are ``labels`` x DG scenario (``dg_on``).
    """

    labels: list[Any]
    dg_on: np.ndarray
    converged: np.ndarray
    node_ids: np.ndarray
    vm_pu: np.ndarray
    branch_ids: np.ndarray
    branch_kind: np.ndarray
    loading_pct: np.ndarray
    violations: list[Violation]
    feeders: tuple[str, ...]
    violation_columns: list[np.ndarray] = field(default_factory=list)  # per violation: the columns it holds in

    @property
    def ok(self) -> bool:
        """No violation other than pre-existing ones the state does not worsen."""
        return not any(not v.pre_existing for v in self.violations)

    def column_ok(self) -> np.ndarray:
        """Per label (time): no new violation with DG on nor off, and a solution found."""
        bad = ~self.converged.copy()
        for v, cols in zip(self.violations, self.violation_columns, strict=True):
            if not v.pre_existing:
                bad |= cols
        n = max(len(self.labels), 1)
        return np.asarray(~bad.reshape(-1, n).any(axis=0), dtype=bool)

    def column_worst(self) -> dict[str, np.ndarray]:
        """Per label: the largest line loading (% and line id), lowest and highest voltage (pu and node),
        over both DG scenarios; NaN / None where nothing was solved."""
        n = max(len(self.labels), 1)
        lines = self.branch_kind == LINE
        out: dict[str, np.ndarray] = {}
        if lines.any():
            ld = np.where(np.isnan(self.loading_pct[lines]), -np.inf, self.loading_pct[lines])
            ld = ld.reshape(ld.shape[0], -1, n).transpose(0, 2, 1).reshape(ld.shape[0], n, -1).max(axis=2)
            arg = ld.argmax(axis=0)
            out["max_line_loading_pct"] = np.where(np.isfinite(ld.max(axis=0)), ld.max(axis=0), np.nan)
            out["max_line"] = self.branch_ids[lines][arg]
        else:
            out["max_line_loading_pct"] = np.full(n, np.nan)
            out["max_line"] = np.full(n, None, dtype=object)
        if self.vm_pu.size:
            vm = self.vm_pu.reshape(self.vm_pu.shape[0], -1, n)
            lo = np.where(np.isnan(vm), np.inf, vm).min(axis=1)
            hi = np.where(np.isnan(vm), -np.inf, vm).max(axis=1)
            out["min_vm_pu"] = np.where(np.isfinite(lo.min(axis=0)), lo.min(axis=0), np.nan)
            out["min_vm_node"] = self.node_ids[lo.argmin(axis=0)]
            out["max_vm_pu"] = np.where(np.isfinite(hi.max(axis=0)), hi.max(axis=0), np.nan)
        else:
            out["min_vm_pu"] = out["max_vm_pu"] = np.full(n, np.nan)
            out["min_vm_node"] = np.full(n, None, dtype=object)
        return out

    def summary(self) -> dict[str, Any]:
        """Worst values over all columns (for plans and reports): loading %, voltage pu, where, when."""
        def label(c: int) -> Any:
            at = self.labels[c % len(self.labels)] if self.labels else None
            return at.isoformat() if isinstance(at, datetime) else at

        out: dict[str, Any] = {"columns": int(len(self.dg_on)), "checked": [label(c) for c in range(len(self.labels))],
                               "feeders": list(self.feeders), "violations": [v.to_dict() for v in self.violations if not v.pre_existing],
                               "pre_existing": sum(v.pre_existing for v in self.violations), "converged": bool(self.converged.all())}
        for kind, key in ((LINE, "line"), (TRAFO, "transformer"), (SWITCH, "switch")):
            m = self.branch_kind == kind
            vals = np.where(np.isnan(self.loading_pct[m]), -np.inf, self.loading_pct[m]) if m.any() else np.zeros((0, 0))
            if vals.size and np.isfinite(vals).any():
                b, c = np.unravel_index(int(np.argmax(vals)), vals.shape)
                out[f"max_{key}_loading_pct"] = round(float(vals[b, c]), 2)
                out[f"max_{key}"] = str(self.branch_ids[m][b])
                out[f"max_{key}_at"] = label(int(c))
            else:
                out[f"max_{key}_loading_pct"] = None
        if self.vm_pu.size:
            b, c = np.unravel_index(int(np.nanargmin(self.vm_pu)), self.vm_pu.shape)
            out.update(min_vm_pu=round(float(self.vm_pu[b, c]), 4), min_vm_node=str(self.node_ids[b]), min_vm_at=label(int(c)))
            b, c = np.unravel_index(int(np.nanargmax(self.vm_pu)), self.vm_pu.shape)
            out.update(max_vm_pu=round(float(self.vm_pu[b, c]), 4), max_vm_node=str(self.node_ids[b]), max_vm_at=label(int(c)))
        else:
            out.update(min_vm_pu=None, max_vm_pu=None)
        return out


# ---------------------------------------------------------------------------------------------
# the check


def check_state_flow(
    grid: Grid,
    *,
    open_switches: Iterable[str] = (),
    close_switches: Iterable[str] = (),
    times: Sequence[datetime] | None = None,
    factors: np.ndarray | None = None,
    labels: Sequence[Any] | None = None,
    feeders: Iterable[str] | str | None = None,
    dg: str = "both",
    limits: Limits | None = None,
    baseline: bool | StateFlow = True,
    mismatch_pu: float = 1e-8,
    newton: bool = True,
) -> StateFlow:
    """AC power flow of the state (normal state with switches opened/closed) at some times.

    Give ``times`` (aware datetimes; loads from the profiles) or ``factors``
    (``(len(grid.profile_names) + 1, T)`` profile factors, e.g. a planning
    timeline's slots) with optional ``labels``. ``feeders``: None solves the
    feeders whose supply the state changes, ``"all"`` every live feeder, or
    the given feeder ids. ``dg``: ``"on"`` (DG at its profile), ``"off"``
    (tripped) or ``"both"`` (each time twice). ``baseline``: mark violations
    the normal state has too (``pre_existing``), judged on a power flow of the normal
    state at the same times, or against the given ``StateFlow`` of the normal state (e.g.
    one computed once for all times of day: its worst value per element counts).
    ``mismatch_pu``: the largest power mismatch (pu of 1 MVA) a solution may leave; planning,
    which only needs verdicts, can afford 1e-6 (1 W) and saves Newton-Raphson steps.
    ``newton=False``: a time the fixed-point iteration does not settle (a voltage drop of tens of
    per cent, far outside any limit) is reported as unsolved instead of being handed to
    Newton-Raphson — a fail either way for a verdict, at a fraction of the cost.
    """
    limits = limits or Limits()
    if dg not in ("on", "off", "both"):
        raise InputError(f"dg must be 'on', 'off' or 'both', got {dg!r}", code="bad_dg_mode")
    opened, closed = list(open_switches), list(close_switches)
    if factors is None:
        if times is None:
            raise InputError("give times or factors", code="no_times")
        times = list(times)
        factors = grid.profile_factors(times)
        labels = list(times) if labels is None else list(labels)
    factors = np.asarray(factors, dtype=float)
    labels = list(labels) if labels is not None else list(range(factors.shape[1]))
    net = network(grid)
    state = grid.study(open_switches=opened, close_switches=closed)
    node_feeder = grid.node_feeders(state=state).to_numpy(dtype=object)
    if feeders is None:
        normal = _normal_node_feeders(grid)
        changed = node_feeder != normal
        # the ends of every switched device too: a tie closed between two live feeders makes a loop
        # (make-before-break) without changing any node's feeder
        sw = np.array([net.switch_ix[x] for x in opened + closed], dtype=np.int64)
        first_sw = int(np.flatnonzero(net.br_kind == SWITCH)[0]) if len(sw) else 0
        changed[net.br_from[first_sw + sw]] = True
        changed[net.br_to[first_sw + sw]] = True
        touched = {f for f in np.concatenate([node_feeder[changed], normal[changed]]) if f is not None}
        touched |= _substation_feeders(grid, opened + closed)
    elif isinstance(feeders, str) and feeders == "all":
        touched = {f for f in node_feeder if f is not None}
    else:
        touched = set([feeders] if isinstance(feeders, str) else feeders)
    dead = np.zeros(net.n, dtype=bool)
    dead[grid._dead_node_idx(state)] = True
    closed_sw = _closed_switches(grid, net, opened, closed)
    flow = _solve_state(net, dead, closed_sw, node_feeder, touched, factors, labels, dg, limits, mismatch_pu, newton)
    if flow.violations and baseline is not False:
        reference = baseline if isinstance(baseline, StateFlow) else check_state_flow(
            grid, factors=factors, labels=labels, feeders=flow.feeders, dg=dg, limits=limits, baseline=False, mismatch_pu=mismatch_pu, newton=newton)
        _mark_pre_existing(flow, reference, limits)
    return flow


def _substation_feeders(grid: Grid, switch_ids: list[str]) -> set[str]:
    """Every feeder of the substations in which one of these switches lies (a transformer breaker
    or a bus coupler changes the path of all of them)."""
    if not switch_ids:
        return set()
    sw = grid.switches.set_index("id").loc[switch_ids]
    sub = grid.nodes.set_index("id")["substation_id"]
    a, b = sub.reindex(sw["from_node"]).to_numpy(), sub.reindex(sw["to_node"]).to_numpy()
    inside = {x for x, y in zip(a, b, strict=True) if pd.notna(x) and pd.notna(y)}
    feeders = grid.feeders
    return set(feeders["id"][feeders["substation_id"].isin(inside)]) if inside else set()


def _normal_node_feeders(grid: Grid) -> np.ndarray:
    return grid.derived("powerflow.normal_node_feeders", lambda g: g.node_feeders().to_numpy(dtype=object))


def _closed_switches(grid: Grid, net: Network, opened: list[str], closed: list[str]) -> np.ndarray:
    is_closed = ~grid.switches["normally_open"].to_numpy(dtype=bool)
    if opened:
        is_closed[[net.switch_ix[s] for s in opened]] = False
    if closed:
        is_closed[[net.switch_ix[s] for s in closed]] = True
    return is_closed


def _islands(net: Network, dead: np.ndarray, closed_sw: np.ndarray, node_feeder: np.ndarray, touched: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """(nodes to solve, branches to solve): the live parts holding a touched feeder, with their infeeds."""
    use = ~dead[net.br_from] & ~dead[net.br_to]
    is_sw = net.br_kind == SWITCH
    use[is_sw] &= closed_sw[net.br_elem[is_sw]]
    f, t = net.br_from[use], net.br_to[use]
    inner = ~net.slack[f] & ~net.slack[t]
    g = sp.coo_matrix((np.ones(int(inner.sum())), (f[inner], t[inner])), shape=(net.n, net.n))
    _, comp = connected_components(g, directed=False)
    hot = np.isin(node_feeder, list(touched)) & ~dead & ~net.slack
    want = np.isin(comp, np.unique(comp[hot]))
    want &= ~net.slack & ~dead
    # infeeds adjacent to the wanted parts
    adj_f = want[f] & net.slack[t]
    adj_t = want[t] & net.slack[f]
    nodes_mask = want.copy()
    nodes_mask[t[adj_f]] = True
    nodes_mask[f[adj_t]] = True
    br = np.flatnonzero(use)
    br = br[(want[net.br_from[br]] | want[net.br_to[br]])]
    return np.flatnonzero(nodes_mask), br


def _solve_state(
    net: Network, dead: np.ndarray, closed_sw: np.ndarray, node_feeder: np.ndarray, touched: set[str],
    factors: np.ndarray, labels: list[Any], dg: str, limits: Limits, mismatch_pu: float = 1e-8, newton: bool = True,
) -> StateFlow:
    nodes, br = _islands(net, dead, closed_sw, node_feeder, touched)
    dg_cols = {"on": [True], "off": [False], "both": [True, False]}[dg]
    dg_on = np.repeat(np.array(dg_cols, dtype=bool)[None, :], factors.shape[1], axis=0).T.reshape(-1)
    cols = factors.shape[1] * len(dg_cols)
    if not len(nodes) or not (~net.slack[nodes]).any():
        empty = np.zeros((0, cols))
        return StateFlow(labels, dg_on, np.ones(cols, dtype=bool), np.zeros(0, dtype=object), empty,
                         np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64), empty, [], tuple(sorted(touched)))
    # injections (pu) per node; columns: every time with the first DG scenario, then with the second
    p_load = net.demand[nodes] @ factors / 1000.0
    q_load = net.q_demand[nodes] @ factors / 1000.0
    p_dg = net.dg[nodes] @ factors / 1000.0
    s_node = np.concatenate([-(p_load - (p_dg if on else 0.0)) - 1j * q_load for on in dg_cols], axis=1)
    grid = _Buses(net, nodes, br)
    s_bus = grid.aggregate(s_node)
    uniq, inverse = np.unique(np.round(s_bus, 12), axis=1, return_inverse=True)
    v_bus, conv = _solve(grid.ybus, grid.slack, grid.vm_set, uniq, mismatch_pu, newton)
    inverse = inverse.reshape(-1)
    v = v_bus[grid.bus_of][:, inverse]
    return _results(net, grid, v, s_node, conv[inverse], labels, dg_on, limits, touched)


class _Buses:
    """The island's nodes fused into buses across closed switches (as pandapower does), with the
    bus admittance matrix of the lines and transformers between them."""

    def __init__(self, net: Network, nodes: np.ndarray, br: np.ndarray) -> None:
        self.net, self.nodes = net, nodes
        pos = np.full(net.n, -1, dtype=np.int64)
        pos[nodes] = np.arange(len(nodes))
        kind = net.br_kind[br]
        self.sw = br[kind == SWITCH]
        self.el = br[kind != SWITCH]
        k = len(nodes)
        sf, st = pos[net.br_from[self.sw]], pos[net.br_to[self.sw]]
        n_bus, bus_of = connected_components(sp.coo_matrix((np.ones(len(sf)), (sf, st)), shape=(k, k)), directed=False)
        self.bus_of = bus_of
        self.n_bus = n_bus
        self.sw_ends = (sf, st)
        self.agg = sp.csr_matrix((np.ones(k), (bus_of, np.arange(k))), shape=(n_bus, k))
        slack_nodes = np.flatnonzero(net.slack[nodes])
        self.slack = np.zeros(n_bus, dtype=bool)
        self.slack[bus_of[slack_nodes]] = True
        self.vm_set = np.ones(n_bus)
        self.vm_set[bus_of[slack_nodes]] = net.vm_set[nodes[slack_nodes]]
        self.ef, self.et = pos[net.br_from[self.el]], pos[net.br_to[self.el]]
        bf, bt = bus_of[self.ef], bus_of[self.et]
        y, bh, tap = net.y_series[self.el], net.b_half[self.el], net.tap[self.el]
        data = np.concatenate([(y + bh) / np.abs(tap) ** 2, y + bh, -y / np.conj(tap), -y / tap])
        self.ybus = sp.csr_matrix((data, (np.concatenate([bf, bt, bf, bt]), np.concatenate([bf, bt, bt, bf]))), shape=(n_bus, n_bus))

    def aggregate(self, per_node: np.ndarray) -> np.ndarray:
        return np.asarray(self.agg @ per_node)


def _solve(ybus: sp.csr_matrix, slack: np.ndarray, vm_set: np.ndarray, s_inj: np.ndarray, tol: float = NR_TOL,
           newton: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Bus voltages (complex pu, bus x column) and converged flags, fixed point then Newton-Raphson
    for the columns whose power mismatch stays above ``tol``."""
    p, s = np.flatnonzero(~slack), np.flatnonzero(slack)
    ypp = ybus[p][:, p].tocsc()
    yps = ybus[p][:, s]
    vs = vm_set[s].astype(complex)
    cols = s_inj.shape[1]
    v = np.empty((len(slack), cols), dtype=complex)
    v[s] = vs[:, None]
    try:
        lu = splu(ypp)
    except RuntimeError:  # singular: a part without infeed
        v[p] = np.nan
        return v, np.zeros(cols, dtype=bool)
    base = -(yps @ vs)
    vp = np.repeat(lu.solve(base)[:, None], cols, axis=1)
    sp_inj = s_inj[p]
    conv = np.zeros(cols, dtype=bool)
    for _ in range(MAX_ITER):
        nxt = lu.solve(np.conj(sp_inj / vp) + base[:, None])
        step = np.abs(nxt - vp).max(axis=0)
        vp = nxt
        conv = step < min(TOL_PU, tol / 10.0)
        if conv.all() or not np.isfinite(vp).all():
            break
    v[p] = vp
    # a slowly contracting iteration can stop short: judge every column by its power mismatch
    mis = np.abs((v * np.conj(ybus @ v) - s_inj)[p]).max(axis=0) if len(p) else np.zeros(cols)
    conv = mis < tol
    for c in np.flatnonzero(~conv) if newton else ():
        v[:, c], conv[c] = _newton(ybus, v[:, c], p, s_inj[:, c], tol)
    return v, conv


def _newton(ybus: sp.csr_matrix, v0: np.ndarray, pq: np.ndarray, s_inj: np.ndarray, tol: float = NR_TOL) -> tuple[np.ndarray, bool]:
    """Polar Newton-Raphson for one column (all non-slack nodes PQ); returns (V, converged)."""
    v = np.where(np.isfinite(v0), v0, 1.0 + 0j)
    npq = len(pq)
    for _ in range(30):
        mis = v * np.conj(ybus @ v) - s_inj
        f = np.concatenate([mis[pq].real, mis[pq].imag])
        if not np.isfinite(f).all():
            return v, False
        if np.abs(f).max() < tol:
            return v, True
        ibus = ybus @ v
        dv_m = (sp.diags(v) @ (ybus @ sp.diags(v / np.abs(v))).conj() + sp.diags(np.conj(ibus) * v / np.abs(v))).tocsr()
        dv_a = (1j * sp.diags(v) @ (sp.diags(ibus) - ybus @ sp.diags(v)).conj()).tocsr()
        j11, j12 = dv_a[pq][:, pq].real, dv_m[pq][:, pq].real
        j21, j22 = dv_a[pq][:, pq].imag, dv_m[pq][:, pq].imag
        jac = sp.bmat([[j11, j12], [j21, j22]], format="csc")
        try:
            dx = spsolve(jac, -f)
        except RuntimeError:
            return v, False
        if not np.isfinite(dx).all():
            return v, False
        va, vm = np.angle(v), np.abs(v)
        va[pq] += dx[:npq]
        vm[pq] += dx[npq:]
        if (vm[pq] <= 0.3).any():
            return v, False
        v = vm * np.exp(1j * va)
    return v, False


def _results(
    net: Network, buses: _Buses, v: np.ndarray, s_node: np.ndarray, conv: np.ndarray,
    labels: list[Any], dg_on: np.ndarray, limits: Limits, touched: set[str],
) -> StateFlow:
    nodes, el, sw = buses.nodes, buses.el, buses.sw
    f, t = buses.ef, buses.et
    y, bh, tap = net.y_series[el][:, None], net.b_half[el][:, None], net.tap[el][:, None]
    vf, vt = v[f], v[t]
    i_f = (y + bh) / np.abs(tap) ** 2 * vf - y / np.conj(tap) * vt  # pu, into the branch at each end
    i_t = -y / tap * vf + (y + bh) * vt
    i_base = S_BASE_MVA / (math.sqrt(3) * net.vn_kv[nodes])  # kA per pu current, per island node
    kind_el = net.br_kind[el]
    loading_el = np.maximum(np.abs(i_f) * i_base[f][:, None], np.abs(i_t) * i_base[t][:, None]) / net.i_rated_ka[el][:, None] * 100.0
    trafo = kind_el == TRAFO
    if trafo.any():  # current against the rated current of each side, as pandapower reports it
        hv = np.abs(i_f[trafo]) * i_base[f[trafo]][:, None] / net.i_rated_hv_ka[el][trafo][:, None]
        lv = np.abs(i_t[trafo]) * i_base[t[trafo]][:, None] / net.i_rated_lv_ka[el][trafo][:, None]
        loading_el[trafo] = np.maximum(hv, lv) * 100.0
    # current each node sends into lines/transformers, less what its own load/DG injects
    out_i = np.zeros(v.shape, dtype=complex)
    np.add.at(out_i, f, i_f)
    np.add.at(out_i, t, i_t)
    ext = out_i - np.conj(s_node / np.where(v == 0, 1, v))
    i_sw_c = _switch_currents(buses, ext)
    i_sw = np.abs(i_sw_c) * i_base[buses.sw_ends[0]][:, None]
    loading_sw = i_sw / net.i_rated_ka[sw][:, None] * 100.0
    br = np.concatenate([el, sw])
    kind = net.br_kind[br]
    loading = np.concatenate([loading_el, loading_sw])
    vm = np.abs(v)
    vm[:, ~conv] = np.nan
    loading[:, ~conv] = np.nan
    ids = np.array([net.ids[k][e] for k, e in zip(kind, net.br_elem[br], strict=True)], dtype=object)
    node_ids = net.node_ids[nodes]
    viol: list[Violation] = []
    masks: list[np.ndarray] = []
    n_lab = len(labels)

    def lab(c: int) -> Any:
        return labels[c % n_lab] if n_lab else c

    for col in np.flatnonzero(~conv):
        viol.append(Violation("island", ",".join(sorted(touched))[:200], "converged", 0.0, 1.0, lab(int(col)), bool(dg_on[col])))
        masks.append(np.arange(len(conv)) == col)
    lim = np.where(kind == LINE, limits.line_loading_pct, np.where(kind == SWITCH, limits.switch_loading_pct, limits.trafo_loading_pct))
    over = loading > lim[:, None] + 1e-9
    for b in np.flatnonzero(over.any(axis=1)):
        c = int(np.nanargmax(np.where(over[b], loading[b], -np.inf)))
        viol.append(Violation(KIND_NAMES[int(kind[b])], str(ids[b]), "loading_pct", float(loading[b, c]), float(lim[b]), lab(c), bool(dg_on[c])))
        masks.append(over[b])
    inner = ~net.slack[nodes]
    low = (vm < limits.v_min_pu - 1e-9) & inner[:, None]
    high = (vm > limits.v_max_pu + 1e-9) & inner[:, None]
    for mask, lim_v, pick in ((low, limits.v_min_pu, np.nanargmin), (high, limits.v_max_pu, np.nanargmax)):
        for b in np.flatnonzero(mask.any(axis=1)):
            c = int(pick(np.where(mask[b], vm[b], np.nan)))
            viol.append(Violation("node", str(node_ids[b]), "vm_pu", float(vm[b, c]), lim_v, lab(c), bool(dg_on[c])))
            masks.append(mask[b])
    through = _throughput(buses, i_f, i_t, i_sw_c, out_i - ext)
    for bus_v, bus_m in _busbars(net, nodes, through, i_base, conv, lab, dg_on, limits):
        viol.append(bus_v)
        masks.append(bus_m)
    return StateFlow(list(labels), dg_on, conv, node_ids, vm, ids, kind, loading, viol, tuple(sorted(touched)), masks)


def _switch_currents(buses: _Buses, ext: np.ndarray) -> np.ndarray:
    """Current (complex pu, from its ``from`` end to its ``to`` end) through each closed switch of the
    island, by KCL on the switches' spanning forest: a switch carries what the nodes beyond it send
    out. Switches in a loop of switches (current shared in a way fusing cannot tell) get NaN."""
    sf, st = buses.sw_ends
    k = len(buses.nodes)
    out = np.full((len(sf), ext.shape[1]), np.nan, dtype=complex)
    if not len(sf):
        return out
    root = k  # virtual root joined to one node of every bus (a slack node where there is one)
    first = np.full(buses.n_bus, -1, dtype=np.int64)
    order_pref = np.argsort(~buses.net.slack[buses.nodes], kind="stable")
    first[buses.bus_of[order_pref[::-1]]] = order_pref[::-1]  # the last write wins: slack nodes first in order_pref
    g = sp.coo_matrix((np.ones(len(sf) + buses.n_bus), (np.concatenate([sf, np.full(buses.n_bus, root)]), np.concatenate([st, first]))), shape=(k + 1, k + 1))
    order, pred = depth_first_order(g, root, directed=False, return_predecessors=True)
    sub = np.vstack([ext, np.zeros((1, ext.shape[1]), dtype=complex)])
    for x in order[::-1]:
        px = pred[x]
        if px >= 0 and px != root:
            sub[px] += sub[x]
    edges_per_bus = np.bincount(buses.bus_of[sf], minlength=buses.n_bus)
    nodes_per_bus = np.bincount(buses.bus_of, minlength=buses.n_bus)
    tree_ok = edges_per_bus == nodes_per_bus - 1
    child = np.where(pred[st] == sf, st, np.where(pred[sf] == st, sf, -1))
    ok = (child >= 0) & tree_ok[buses.bus_of[sf]]
    sign = np.where(child == st, 1.0, -1.0)  # the child's subtree draws through the switch
    out[ok] = sub[child[ok]] * sign[ok][:, None]
    return out


def _throughput(buses: _Buses, i_f: np.ndarray, i_t: np.ndarray, i_sw: np.ndarray, inj: np.ndarray) -> np.ndarray:
    """Current (pu) passing through each island node: half the sum of the magnitudes of everything
    meeting there (lines, transformers, switches, its own load or DG ``inj`` and, at a slack node, the
    infeed that balances them), i.e. what flows in, which equals what flows out."""
    f, t = buses.ef, buses.et
    sf, st = buses.sw_ends
    sw = np.nan_to_num(i_sw)
    mag = np.abs(inj).astype(float)
    leaving = -inj.astype(complex)
    for ends, cur, sgn in ((f, i_f, 1.0), (t, i_t, 1.0), (sf, sw, 1.0), (st, sw, -1.0)):
        np.add.at(mag, ends, np.abs(cur))
        np.add.at(leaving, ends, sgn * cur)
    slack = buses.slack[buses.bus_of]
    mag[slack] += np.abs(leaving[slack])
    return mag / 2.0


def _busbars(net: Network, nodes: np.ndarray, through: np.ndarray, i_base: np.ndarray, conv: np.ndarray,
             lab: Any, dg_on: np.ndarray, limits: Limits) -> list[tuple[Violation, np.ndarray]]:
    """Busbar sections against their rating: the current passing through the section (see
    :func:`_throughput`), whether it is fed by a transformer or an infeed, or feeds breakers."""
    out: list[tuple[Violation, np.ndarray]] = []
    bus = np.flatnonzero(~np.isnan(net.busbar_a[nodes]))
    if not len(bus):
        return out
    ka = through[bus] * i_base[bus][:, None]
    pct = ka / (net.busbar_a[nodes[bus]] / 1000.0)[:, None] * 100.0
    pct[:, ~conv] = np.nan
    for r in np.flatnonzero((pct > limits.busbar_loading_pct + 1e-9).any(axis=1)):
        c = int(np.nanargmax(pct[r]))
        out.append((Violation("busbar", str(net.node_ids[nodes[bus[r]]]), "loading_pct", float(pct[r, c]),
                              limits.busbar_loading_pct, lab(c), bool(dg_on[c])), pct[r] > limits.busbar_loading_pct + 1e-9))
    return out


def _mark_pre_existing(flow: StateFlow, normal: StateFlow, limits: Limits) -> None:
    """Flag violations the normal state has too (same element and quantity), unless this state makes
    them worse by more than the tolerance. No solution is never pre-existing."""
    worst: dict[tuple[str, str, str], float] = {}
    for v in normal.violations:
        key = (v.kind, v.element, v.quantity)
        prev = worst.get(key)
        low = v.quantity == "vm_pu" and v.value < v.limit
        worst[key] = v.value if prev is None else (min(prev, v.value) if low else max(prev, v.value))
    tol_v = limits.tolerance_pct / 100.0
    marked = []
    for v in flow.violations:
        ref = worst.get((v.kind, v.element, v.quantity))
        pre = False
        if ref is not None and v.quantity != "converged":
            if v.quantity == "loading_pct":
                pre = v.value <= ref + limits.tolerance_pct
            elif v.value < v.limit:
                pre = v.value >= ref - tol_v
            else:
                pre = v.value <= ref + tol_v
        marked.append(Violation(v.kind, v.element, v.quantity, v.value, v.limit, v.at, v.dg, pre))
    flow.violations = marked
