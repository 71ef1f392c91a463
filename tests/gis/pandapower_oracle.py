"""pandapower as the oracle of an imported grid: topology (unsupplied buses) and power flow (runpp).

Shared by tests/gis/test_pandapower_io.py and tests/gis/test_simbench.py. Works on the ORIGINAL
net a grid was imported from with :func:`gis.pandapower_io.from_pandapower`, whose ids keep the
pandapower indices (``bus:N``, ``load:N``, ``switch:N``).
"""

from __future__ import annotations

import copy
import random
import warnings
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pandapower as pp
    import pandapower.topology as top

from gis import Grid
from gis.powerflow import check_state_flow

AT = datetime(2026, 12, 9, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # imported loads are flat: any time will do


def normal_graph(net):
    """pandapower's MultiGraph of the net's switching state (build once, pass to :func:`unsupplied_customers`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return top.create_nxgraph(net, respect_switches=True)


def unsupplied_customers(net, opened: Iterable[int], *, mg=None) -> set[str]:
    """Load ids (``load:N``) at the buses pandapower's ``unsupplied_buses`` finds with the closed
    switches ``opened`` opened: their edges (the bus-bus switch, or the line or transformer they
    switch) are taken out of the normal-state graph ``mg`` and put back afterwards."""
    mg = normal_graph(net) if mg is None else mg
    removed = []
    for s in opened:
        r = net.switch.loc[s]
        key = {"b": ("switch", int(s)), "l": ("line", int(r["element"])), "t": ("trafo", int(r["element"]))}[r["et"]]
        for u, v, k, d in list(mg.edges(int(r["bus"]), keys=True, data=True)):
            if k == key:
                mg.remove_edge(u, v, key=k)
                removed.append((u, v, k, d))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dead = top.unsupplied_buses(net, mg=mg)
        return {f"load:{i}" for i in net.load.index[net.load["bus"].isin(dead)]}
    finally:
        for u, v, k, d in removed:
            mg.add_edge(u, v, key=k, **d)


def unsupplied_customers_switched(net, opened: Iterable[int], closed: Iterable[int]) -> set[str]:
    """Like :func:`unsupplied_customers` with some switches closed as well (on a copy of the net)."""
    net = copy.deepcopy(net)
    net.switch.loc[list(opened), "closed"] = False
    net.switch.loc[list(closed), "closed"] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dead = top.unsupplied_buses(net, mg=top.create_nxgraph(net, respect_switches=True))
    return {f"load:{i}" for i in net.load.index[net.load["bus"].isin(dead)]}


def substation_switches(net, grid: Grid) -> list[int]:
    """pandapower indices of the switches with both ends inside a substation of the grid
    (transformer breakers, bus couplers)."""
    inside = set(grid.nodes["id"][grid.nodes["substation_id"].notna()])
    sw = grid.switches
    both = sw["from_node"].isin(inside) & sw["to_node"].isin(inside)
    return [int(str(i).split(":")[1]) for i in sw["id"][both]]


def opening_cases(net, *, exclude: Iterable[int] = (), singles: int | None = None, sets: int = 100,
                  seed: int = 20261205) -> list[list[int]]:
    """Switch sets to open: every closed switch alone (or ``singles`` of them drawn at random), then
    ``sets`` random sets of one to four closed switches; never a switch in ``exclude``."""
    rng = random.Random(seed)
    skip = set(exclude)
    closed = [int(i) for i in net.switch.index[net.switch["closed"].astype(bool)] if int(i) not in skip]
    alone = closed if singles is None or singles >= len(closed) else rng.sample(closed, singles)
    return [[s] for s in alone] + [rng.sample(closed, rng.randint(1, 4)) for _ in range(sets)]


def topology_mismatches(net, grid: Grid, cases: Sequence[Sequence[int]]) -> tuple[list[list[int]], int]:
    """(cases where the grid's affected customers differ from pandapower's, cases with any affected)."""
    bad, nonempty = [], 0
    mg = normal_graph(net)
    for opened in cases:
        expected = unsupplied_customers(net, opened, mg=mg)
        got = set(grid.affected_customers(open_switches=[f"switch:{s}" for s in opened])["id"])
        if got != expected:
            bad.append(list(opened))
        nonempty += bool(expected)
    return bad, nonempty


def pandapower_vm(net, *, trafo_model: str = "pi") -> pd.Series:
    """pandapower's bus voltages (pu) of a copy of the net, indexed ``bus:N`` (supplied buses only)."""
    net = copy.deepcopy(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, trafo_model=trafo_model, tolerance_mva=1e-10, max_iteration=50)
    vm = net.res_bus["vm_pu"].dropna()
    return pd.Series(vm.to_numpy(), index=[f"bus:{i}" for i in vm.index])


def grid_vm(grid: Grid, *, at: datetime = AT) -> pd.Series:
    """The project's own power flow of the normal state (every feeder, DG on), node voltages (pu)."""
    flow = check_state_flow(grid, feeders="all", times=[at], dg="on", baseline=False)
    assert flow.converged.all()
    return pd.Series(flow.vm_pu[:, 0], index=flow.node_ids)


def max_voltage_difference(reference: pd.Series, ours: pd.Series) -> tuple[float, int]:
    """(largest |ΔV| in pu over the nodes both give, how many nodes were compared)."""
    common = ours.index.intersection(reference.index)
    diff = np.abs(ours[common].to_numpy(dtype=float) - reference[common].to_numpy(dtype=float))
    return float(diff.max()) if len(diff) else 0.0, len(common)
