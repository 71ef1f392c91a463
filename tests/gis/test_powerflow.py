"""The power flow against pandapower's Newton-Raphson (the oracle) and a hand-solved two-bus case."""

import math
import warnings
from datetime import datetime
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from gis import Grid, InputError
from gis.pandapower_io import to_pandapower
from gis.powerflow import Limits, check_state_flow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pandapower as pp

TZ = ZoneInfo("Europe/Monaco")
NOON = datetime(2026, 12, 9, 12, 0, tzinfo=TZ)  # a Wednesday
EVENING = datetime(2026, 12, 9, 19, 0, tzinfo=TZ)


def pp_run(net, opened=(), closed=(), z_ohm=0.0):
    by_name = {n: i for i, n in net.switch["name"].items()}
    for s in opened:
        net.switch.at[by_name[s], "closed"] = False
    for s in closed:
        net.switch.at[by_name[s], "closed"] = True
    net.switch["z_ohm"] = z_ohm  # pandapower reports switch currents only for switches with an impedance
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, tolerance_mva=1e-10 if not z_ohm else 1e-7, trafo_model="pi", calculate_voltage_angles=True, max_iteration=50)
    return net


def switch_ka(net, opened, closed):
    net = pp_run(net, opened, closed, z_ohm=1e-5)
    return pd.Series(net.res_switch["i_ka"].to_numpy(), index=net.switch["name"])


def compare(grid, flow, net, sw_ka, column=0):
    """Largest differences between our result and pandapower's: voltage (pu), line/transformer loading
    (% points), switch current (relative; pandapower's switches carry 10 micro-ohm for it to report them)."""
    vm_pp = pd.Series(net.res_bus["vm_pu"].to_numpy(), index=net.bus["name"])
    ours = pd.Series(flow.vm_pu[:, column], index=flow.node_ids)
    dv = float((ours - vm_pp.reindex(ours.index)).abs().max())
    ld = pd.Series(flow.loading_pct[:, column], index=flow.branch_ids)
    ref = pd.concat([
        pd.Series(net.res_line["loading_percent"].to_numpy(), index=net.line["name"]),
        pd.Series(net.res_trafo["loading_percent"].to_numpy(), index=net.trafo["name"]) if len(net.trafo) else pd.Series(dtype=float),
    ])
    common = ld.index.intersection(ref.index)
    dl = float((ld[common] - ref[common]).abs().max())
    rated = grid.switches.set_index("id")["rating_a"] / 1000.0
    sw = ld[[i for i in ld.index if i in rated.index and not np.isnan(rated[i])]].dropna()
    ours_ka = sw * rated[sw.index] / 100.0
    ds = float(((ours_ka - sw_ka[sw.index]).abs() / sw_ka[sw.index].clip(lower=1e-3)).max()) if len(sw) else 0.0
    return dv, dl, ds, len(common)


@pytest.fixture(scope="module")
def heavy_ring(ring_layers_module):
    """The small ring with 12x its demand, so that voltages and loadings move."""
    layers = {k: v.copy() for k, v in ring_layers_module.items()}
    layers["customers"]["demand_kw"] = layers["customers"]["demand_kw"].astype(float) * 12
    sw = layers["switches"]
    sw["rating_a"] = pd.to_numeric(sw["rating_a"]).fillna(630.0)  # every switch current is compared
    return Grid.from_layers(layers)


@pytest.fixture(scope="module")
def ring_layers_module():
    from gis.format import read_layers

    from .conftest import DATA

    return read_layers(DATA / "small_ring")


@pytest.mark.parametrize("at", [NOON, EVENING])
@pytest.mark.parametrize(("opened", "closed"), [((), ()), (("S2",), ("T1",)), (("S4",), ("T1",)), ((), ("T1",))])
def test_matches_pandapower_on_the_ring(heavy_ring, at, opened, closed):
    flow = check_state_flow(heavy_ring, open_switches=opened, close_switches=closed, times=[at], feeders="all", dg="on")
    net = pp_run(to_pandapower(heavy_ring, at=at), opened, closed)
    sw = switch_ka(to_pandapower(heavy_ring, at=at), opened, closed)
    dv, dl, ds, n = compare(heavy_ring, flow, net, sw)
    assert n >= 10 and flow.converged.all()
    assert dv < 1e-6 and dl < 1e-3 and ds < 1e-3, (dv, dl, ds)
    assert flow.vm_pu.min() < 0.998  # the case is not trivially flat


def test_closed_tie_loop_current_matches(heavy_ring):
    """Make-before-break: T1 closed with both feeders still fed makes a loop; the current through the
    tie comes from the two feeders' impedances, as pandapower finds it."""
    flow = check_state_flow(heavy_ring, close_switches=["T1"], times=[EVENING], feeders="all", dg="on")
    sw = switch_ka(to_pandapower(heavy_ring, at=EVENING), (), ("T1",))
    ours_ka = dict(zip(flow.branch_ids, flow.loading_pct[:, 0], strict=True))["T1"] / 100.0 * 0.630
    assert sw["T1"] > 0.002  # a real loop current flows
    assert ours_ka == pytest.approx(sw["T1"], rel=1e-3)


def two_bus(p_kw: float, q_kvar_per_kw: float, r_ohm: float, x_ohm: float, busbar_a: float = 5000.0) -> Grid:
    crs = "EPSG:4326"
    subs = gpd.GeoDataFrame({"id": ["S"], "name": ["S"], "capacity_kva": [50000.0]}, geometry=[Point(7.42, 43.73)], crs=crs)
    nodes = gpd.GeoDataFrame(
        {"id": ["B", "J", "D"], "kind": ["busbar", "junction", "distribution_room"], "substation_id": ["S", None, None],
         "kva": [None, None, 1e6], "rating_a": [busbar_a, None, None]},
        geometry=[Point(7.42, 43.73), Point(7.421, 43.73), Point(7.43, 43.73)], crs=crs)
    lines = gpd.GeoDataFrame(
        {"id": ["L"], "from_node": ["J"], "to_node": ["D"], "kind": ["cable"], "rating_a": [1000.0], "length_m": [1000.0],
         "r_ohm_per_km": [r_ohm], "x_ohm_per_km": [x_ohm], "c_nf_per_km": [0.0]},
        geometry=[gpd.GeoSeries([Point(7.421, 43.73), Point(7.43, 43.73)]).union_all().convex_hull], crs=crs)
    from shapely.geometry import LineString

    lines = lines.set_geometry([LineString([(7.421, 43.73), (7.43, 43.73)])], crs=crs)
    switches = gpd.GeoDataFrame(
        {"id": ["F"], "from_node": ["B"], "to_node": ["J"], "kind": ["breaker"], "normally_open": [False], "rating_a": [1000.0]},
        geometry=[Point(7.42, 43.73)], crs=crs)
    pf = 1.0 / math.sqrt(1.0 + q_kvar_per_kw**2)
    customers = gpd.GeoDataFrame(
        {"id": ["C"], "node_id": ["D"], "category": ["industrial"], "demand_kw": [p_kw]}, geometry=[Point(7.43, 43.73)], crs=crs)
    meta = pd.DataFrame({"key": ["name", "timezone", "nominal_kv", "metric_crs", "power_factor"],
                         "value": ["two bus", "Europe/Monaco", "10", "32632", repr(pf)]})
    return Grid.from_layers({"substations": subs, "nodes": nodes, "lines": lines, "switches": switches, "customers": customers, "meta": meta})


def test_two_bus_by_hand():
    """V at the load solves |V|^4 + (2(RP + XQ) - Vs^2)|V|^2 + (R^2 + X^2)(P^2 + Q^2) = 0 (per unit)."""
    p_kw, k, r, x = 4000.0, 0.5, 1.0, 0.8  # 4 MW + 2 Mvar over 1 + 0.8j ohm at 10 kV
    grid = two_bus(p_kw, k, r, x)
    flow = check_state_flow(grid, times=[NOON], feeders="all", dg="off")
    zb = 10.0**2 / 1.0
    rp, xp, pp_, qp = r / zb, x / zb, p_kw / 1000.0, k * p_kw / 1000.0
    b = 2 * (rp * pp_ + xp * qp) - 1.0
    c = (rp**2 + xp**2) * (pp_**2 + qp**2)
    v2 = (-b + math.sqrt(b * b - 4 * c)) / 2
    got = dict(zip(flow.node_ids, flow.vm_pu[:, 0], strict=True))
    assert got["D"] == pytest.approx(math.sqrt(v2), abs=1e-9)
    # current (A) = |S| / (sqrt(3) V): line loading against 1000 A
    i_a = math.hypot(pp_, qp) / (math.sqrt(3) * 10.0 * math.sqrt(v2)) * 1000.0
    line = dict(zip(flow.branch_ids, flow.loading_pct[:, 0], strict=True))["L"]
    assert line == pytest.approx(i_a / 1000.0 * 100.0, rel=1e-6)


def test_busbar_fed_through_a_breaker_carries_the_feeder_current():
    """The busbar B reaches the load only through breaker F: all of the line's current passes it."""
    flow = check_state_flow(two_bus(4000.0, 0.5, 1.0, 0.8, busbar_a=200.0), times=[NOON], feeders="all", dg="off")
    line_ka = dict(zip(flow.branch_ids, flow.loading_pct[:, 0], strict=True))["L"] / 100.0 * 1.0  # rated 1000 A
    bus = [v for v in flow.violations if v.kind == "busbar"]
    assert len(bus) == 1 and bus[0].element == "B"
    assert bus[0].value == pytest.approx(line_ka / 0.2 * 100.0, rel=1e-6)
    assert line_ka > 0.25  # 4.47 MVA at about 10 kV


def test_voltage_collapse_is_a_violation_not_an_exception():
    grid = two_bus(400000.0, 0.5, 1.0, 0.8)  # 400 MW over one cable: no solution exists
    flow = check_state_flow(grid, times=[NOON], feeders="all", dg="off")
    assert not flow.ok and not flow.converged.any()
    assert [v.quantity for v in flow.violations] == ["converged"]


def test_violations_name_the_element_and_time():
    grid = two_bus(9000.0, 0.5, 1.0, 0.8)  # ~ 0.85 pu and about 600 A on a 1000 A cable
    flow = check_state_flow(grid, times=[NOON], feeders="all", dg="off", limits=Limits(line_loading_pct=50.0))
    kinds = {(v.kind, v.element, v.quantity) for v in flow.violations}
    assert ("node", "D", "vm_pu") in kinds and ("line", "L", "loading_pct") in kinds
    assert all(v.at == NOON for v in flow.violations)
    # the normal state already has them: pre-existing, so the (normal) state itself is not failed
    assert all(v.pre_existing for v in flow.violations) and flow.ok


def test_only_touched_feeders_are_solved(heavy_ring):
    flow = check_state_flow(heavy_ring, open_switches=["S5"], times=[NOON])
    assert flow.feeders == ("F2",)
    assert "x1" not in set(flow.node_ids)  # F1 untouched
    none = check_state_flow(heavy_ring, times=[NOON])
    assert none.feeders == () and none.vm_pu.size == 0 and none.ok


def test_factor_columns_and_dg_scenarios(heavy_ring):
    times = [NOON, EVENING]
    flow = check_state_flow(heavy_ring, times=times, feeders="all", dg="both")
    assert flow.vm_pu.shape[1] == 4 and list(flow.dg_on) == [True, True, False, False]
    direct = check_state_flow(heavy_ring, factors=heavy_ring.profile_factors(times), labels=times, feeders="all", dg="both")
    np.testing.assert_allclose(flow.vm_pu, direct.vm_pu)
    summary = flow.summary()
    assert summary["checked"] == [NOON.isoformat(), EVENING.isoformat()] and summary["converged"]


def test_bad_options():
    with pytest.raises(InputError):
        Limits(v_min_pu=1.1)
    with pytest.raises(InputError):
        Limits(line_loading_pct=-1)


@pytest.fixture(scope="module")
def ring_with_substation(ring_layers_module):
    """The heavy ring with substation A fed through a tapped 110/10 kV transformer from a 110 kV
    busbar held at 1.03 pu, and 1.5 MW of PV at D1 (day profile)."""
    from shapely.geometry import Point as P

    layers = {k: v.copy() for k, v in ring_layers_module.items()}
    layers["customers"]["demand_kw"] = layers["customers"]["demand_kw"].astype(float) * 12
    nodes = layers["nodes"]
    ba = nodes.loc[nodes["id"] == "BA"].geometry.iloc[0]
    hv = gpd.GeoDataFrame({"id": ["HA"], "kind": ["busbar"], "substation_id": ["SA"], "vn_kv": [110.0], "vm_pu": [1.03]},
                          geometry=[P(ba.x - 0.0005, ba.y)], crs=nodes.crs)
    layers["nodes"] = pd.concat([nodes, hv], ignore_index=True)
    layers["transformers"] = gpd.GeoDataFrame(
        {"id": ["TRA"], "hv_node": ["HA"], "lv_node": ["BA"], "sn_kva": [25000.0], "vk_percent": [12.0], "vkr_percent": [0.41],
         "pfe_kw": [14.0], "i0_percent": [0.07], "tap_side": ["hv"], "tap_pos": [-2.0], "tap_neutral": [0.0], "tap_step_percent": [1.5]},
        geometry=[ba], crs=nodes.crs)
    d1 = nodes.loc[nodes["id"] == "D1"].geometry.iloc[0]
    layers["dg"] = gpd.GeoDataFrame({"id": ["PV1"], "node_id": ["D1"], "kind": ["pv"], "p_kw": [1500.0], "profile": ["day"]},
                                    geometry=[d1], crs=nodes.crs)
    return Grid.from_layers(layers)


@pytest.mark.parametrize("at", [NOON, EVENING])
@pytest.mark.parametrize(("opened", "closed"), [((), ()), (("S4",), ("T1",)), ((), ("T1",))])
def test_transformer_and_dg_match_pandapower(ring_with_substation, at, opened, closed):
    g = ring_with_substation
    assert not [p for p in g.problems if p.severity == "error"]
    flow = check_state_flow(g, open_switches=opened, close_switches=closed, times=[at], feeders="all", dg="on")
    net = pp_run(to_pandapower(g, at=at), opened, closed)
    assert len(net.trafo) == 1 and len(net.sgen) == 1 and len(net.ext_grid) == 2  # HA and BB are the infeeds
    dv, dl, ds, _ = compare(g, flow, net, switch_ka(to_pandapower(g, at=at), opened, closed))
    assert dv < 1e-6 and dl < 1e-3 and ds < 1e-3, (dv, dl, ds)
    trafo = dict(zip(flow.branch_ids, flow.loading_pct[:, 0], strict=True))["TRA"]
    assert trafo == pytest.approx(float(net.res_trafo["loading_percent"].iloc[0]), abs=1e-3)


def test_dg_scenarios_differ_where_the_sun_shines(ring_with_substation):
    flow = check_state_flow(ring_with_substation, times=[NOON], feeders="all", dg="both")
    d1 = list(flow.node_ids).index("D1")
    assert flow.vm_pu[d1, 0] > flow.vm_pu[d1, 1]  # PV on lifts the voltage at noon


def test_column_ok_agrees_with_one_time_at_a_time(heavy_ring):
    """Judging many times at once gives, per time, what judging that time alone gives."""
    times = [datetime(2026, 12, 9, h, 0, tzinfo=TZ) for h in (3, 9, 12, 19, 23)]
    limits = Limits(line_loading_pct=112.0, switch_loading_pct=112.0)  # the 12x ring: L1 at 108 % at night, 116 % by day
    mixed = 0
    for opened, closed in (((), ()), (("S4",), ("T1",)), ((), ("T1",))):
        kw = {"open_switches": opened, "close_switches": closed, "limits": limits, "baseline": False, "feeders": "all"}
        many = check_state_flow(heavy_ring, times=times, **kw)
        alone = [check_state_flow(heavy_ring, times=[t], **kw).ok
                 for t in times]
        assert list(many.column_ok()) == alone
        mixed += any(alone) and not all(alone)  # the limit bites at some hours only
        worst = many.column_worst()
        for i, t in enumerate(times):
            one = check_state_flow(heavy_ring, times=[t], **kw)
            assert worst["max_line_loading_pct"][i] == pytest.approx(one.summary()["max_line_loading_pct"], abs=0.01)
            assert worst["min_vm_pu"][i] == pytest.approx(one.summary()["min_vm_pu"], abs=1e-4)
    assert mixed >= 2


def test_baseline_flow_given_once(heavy_ring):
    limits = Limits(line_loading_pct=60.0)
    normal = check_state_flow(heavy_ring, times=[EVENING], feeders="all", limits=limits, baseline=False)
    assert normal.violations  # L1 is above 60 % in the normal state
    state = check_state_flow(heavy_ring, open_switches=["S5"], times=[EVENING], feeders="all", limits=limits, baseline=normal)
    assert state.violations and all(v.pre_existing for v in state.violations) and state.ok
    worse = check_state_flow(heavy_ring, open_switches=["S2"], close_switches=["T1"], times=[EVENING], limits=limits, baseline=normal)
    assert not worse.ok  # F2 picks up D2: its cables go above 60 % where the normal state had them below


def test_dg_larger_than_load_reverses_the_flow_and_names_what_it_breaks(ring_layers_module):
    """20 MW of PV on a 10 kV room whose feeder draws far less: the power flows back to the
    substation; pandapower agrees, and the over-voltage / overload is a violation naming the element."""
    layers = {k: v.copy() for k, v in ring_layers_module.items()}
    nodes = layers["nodes"]
    d1 = nodes.loc[nodes["id"] == "D1"].geometry.iloc[0]
    layers["dg"] = gpd.GeoDataFrame({"id": ["PV1"], "node_id": ["D1"], "kind": ["pv"], "p_kw": [20000.0], "profile": ["day"]},
                                    geometry=[d1], crs=nodes.crs)
    g = Grid.from_layers(layers)
    flow = check_state_flow(g, times=[NOON], feeders="all", dg="on", baseline=False)
    assert flow.converged.all()
    d1_vm = float(flow.vm_pu[list(flow.node_ids).index("D1"), 0])
    assert d1_vm > 1.0  # the voltage rises towards the generator
    net = pp_run(to_pandapower(g, at=NOON))
    assert d1_vm == pytest.approx(float(net.res_bus.loc[net.bus["name"] == "D1", "vm_pu"].iloc[0]), abs=1e-6)
    named = {(v.kind, v.element) for v in flow.violations}
    assert named and all(e for _, e in named)
    assert not flow.ok
