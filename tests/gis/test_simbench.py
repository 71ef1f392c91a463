"""Every SimBench MV grid and the urban MV/LV grid import, and agree with pandapower on the original net.

Topology: dead customers for sets of switch openings equal pandapower's ``unsupplied_buses``.
Power flow: the project's own AC power flow of the normal state against pandapower's runpp.
SimBench's grids come from the installed package's data (no network).
"""

import random
import warnings

import pandas as pd
import pytest

simbench = pytest.importorskip("simbench")

from gis.format import read_layers, write_grid  # noqa: E402
from gis.grid import Grid, load_grid  # noqa: E402
from gis.pandapower_io import from_pandapower, load_pandapower_net, to_pandapower  # noqa: E402

from .pandapower_oracle import (  # noqa: E402
    grid_vm,
    max_voltage_difference,
    opening_cases,
    pandapower_vm,
    substation_switches,
    topology_mismatches,
    unsupplied_customers_switched,
)

MV = ["1-MV-rural--0-sw", "1-MV-semiurb--0-sw", "1-MV-urban--0-sw", "1-MV-comm--0-sw"]
MVLV = "1-MVLV-urban-all-0-sw"
_CACHE: dict[str, tuple] = {}


def imported(code):
    """(original net, imported grid), once per test session."""
    if code not in _CACHE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = simbench.get_simbench_net(code)
        _CACHE[code] = (net, from_pandapower(net, name=code))
    return _CACHE[code]


@pytest.mark.parametrize("code", [*MV, MVLV])
def test_everything_is_carried(code):
    net, grid = imported(code)
    assert set(grid.customers["id"]) == {f"load:{i}" for i in net.load.index}
    assert len(grid.transformers) == len(net.trafo)
    assert len(grid.dg) == len(net.sgen) + len(net.storage)
    assert grid.dg["p_kw"].sum() == pytest.approx(net.sgen["p_mw"].sum() * 1000.0)
    assert {f"switch:{i}" for i in net.switch.index} == set(grid.switches["id"])
    nodes = grid.nodes.set_index("id")
    (ext_bus,) = net.ext_grid["bus"]
    assert nodes.at[f"bus:{ext_bus}", "vm_pu"] == pytest.approx(float(net.ext_grid["vm_pu"].iloc[0]))
    assert nodes.at[f"bus:{ext_bus}", "kind"] == "busbar"
    lines = grid.lines.set_index("id")
    first = net.line.index[0]
    assert lines.at[f"line:{first}", "rating_a"] == pytest.approx(net.line.at[first, "max_i_ka"] * 1000.0)
    assert lines.at[f"line:{first}", "type"] == net.line.at[first, "std_type"]
    assert lines.at[f"line:{first}", "r_ohm_per_km"] == pytest.approx(net.line.at[first, "r_ohm_per_km"])
    hv_mv = grid.transformers[grid.transformers["substation_id"].notna()]
    assert len(hv_mv) == 2 and set(hv_mv["vn_hv_kv"]) == {110.0}
    assert grid.power_factor == pytest.approx(0.93, abs=1e-4)
    codes = [p.code for p in grid.problems]
    assert codes == ["missing_rating"]  # one grouped warning: busbars at BUSBAR_RATING_A
    assert not any(p.severity == "error" for p in grid.problems)


def test_parallel_transformers_are_inside_the_substation():
    for code in ("1-MV-rural--0-sw", "1-MV-semiurb--0-sw", "1-MV-comm--0-sw"):  # refused before as closed loops
        net, grid = imported(code)
        tr = grid.transformers
        assert tr["substation_id"].notna().all() and len(tr) == 2
        # both feed the MV busbars, closed couplers between them, and the grid validated
        assert len(grid.feeders) == int(((net.switch["et"] == "l") & (net.switch["type"] == "CB")
                                         & net.switch["bus"].isin([2, 3, 4])).sum())


def test_mvlv_distribution_transformers_feed_lv_customers():
    net, grid = imported(MVLV)
    tr = grid.transformers
    mvlv = tr[tr["substation_id"].isna()]
    assert len(mvlv) == 133 and set(mvlv["sn_kva"]) <= {250.0, 400.0, 630.0, 160.0}
    nodes = grid.nodes.set_index("id")
    rooms = nodes[nodes["kind"] == "distribution_room"]
    assert len(rooms) == 133 and set(rooms["vn_kv"]) == {0.4}
    assert (rooms["kva"] > 0).all()
    lv_customers = grid.customers["node_id"].map(nodes["vn_kv"]) == 0.4
    assert int(lv_customers.sum()) == int((net.load["bus"].map(net.bus["vn_kv"]) == 0.4).sum()) > 10000
    # opening a distribution transformer's LV breaker takes out exactly its LV grid
    lv_end = mvlv["lv_node"].iloc[0]  # the junction between the transformer and its LV breaker
    (sw,) = grid.switches["id"][grid.switches["to_node"].eq(lv_end) | grid.switches["from_node"].eq(lv_end)]
    dead = set(grid.affected_customers(open_switches=[sw])["id"])
    assert len(dead) > 10 and all(nodes.at[n, "vn_kv"] == 0.4 for n in grid.customers.set_index("id").loc[list(dead), "node_id"])


@pytest.mark.parametrize("code", MV)
def test_topology_matches_pandapower_on_mv_grids(code):
    net, grid = imported(code)
    cases = opening_cases(net, sets=150)  # every closed switch, substation switches included
    bad, nonempty = topology_mismatches(net, grid, cases)
    assert not bad, bad[:5]
    assert nonempty > 0.9 * len(cases)


@pytest.mark.parametrize("code", ["1-MV-rural--0-sw", "1-MV-urban--0-sw"])
def test_the_bulk_path_matches_pandapower_too(code, monkeypatch):
    """Every state answered by the components pass (gis/components.py) instead of the tree."""
    monkeypatch.setattr("gis.topology.BULK_CHANGES", -1)
    monkeypatch.setattr("gis.topology.BULK_SHARE", 10**9)
    net, grid = imported(code)
    cases = opening_cases(net, sets=100)
    bad, _ = topology_mismatches(net, grid, cases)
    assert not bad, bad[:5]


@pytest.mark.parametrize("code", MV)
def test_switching_inside_the_substation_matches_pandapower(code):
    """Transformer breakers and bus couplers: a busbar section left without a transformer is dead
    with every feeder on it, until a coupler re-feeds it from the other transformer."""
    net, grid = imported(code)
    inner = substation_switches(net, grid)
    sw = net.switch.loc[inner]
    trafo_breakers = [int(i) for i in sw.index[(sw["et"] == "t") & sw["closed"]]]
    couplers = [int(i) for i in sw.index[(sw["et"] == "b") & ~sw["closed"]]] or [None]
    rng = random.Random(7)
    closed_lines = [int(i) for i in net.switch.index[net.switch["closed"] & (net.switch["et"] == "l")]]
    cases = []
    for tb in trafo_breakers:
        for cp in couplers:
            extra = rng.sample(closed_lines, 2)
            cases += [([tb], []), ([tb], [cp]), ([tb, *extra], [cp])] if cp is not None else [([tb], []), ([tb, *extra], [])]
    cases += [(rng.sample(inner, 2), []) for _ in range(20)]
    cases = [(o, [c for c in cl if c is not None]) for o, cl in cases]
    dead_somewhere = 0
    for opened, closed in cases:
        expected = unsupplied_customers_switched(net, opened, closed)
        got = set(grid.affected_customers(open_switches=[f"switch:{s}" for s in opened],
                                          close_switches=[f"switch:{s}" for s in closed])["id"])
        assert got == expected, (opened, closed, len(got), len(expected))
        dead_somewhere += bool(expected)
    assert dead_somewhere > 0  # some cases cut a busbar section off


def test_topology_matches_pandapower_on_the_mvlv_grid():
    net, grid = imported(MVLV)
    cases = opening_cases(net, singles=150, sets=60)
    cases += [[s] for s in substation_switches(net, grid)]
    bad, nonempty = topology_mismatches(net, grid, cases)
    assert not bad, bad[:5]


@pytest.mark.parametrize("code", MV)
def test_power_flow_matches_pandapower_on_the_original_mv_net(code):
    net, grid = imported(code)
    ref = pandapower_vm(net)
    dv, n = max_voltage_difference(ref, grid_vm(grid))
    # each load keeps its own power factor: measured <= 1.4e-11 pu
    assert n == len(net.bus) and dv <= 1e-9, dv
    # pandapower's default T model of the transformers differs by little more (measured <= 3.2e-6)
    assert max_voltage_difference(pandapower_vm(net, trafo_model="t"), grid_vm(grid))[0] <= 5e-6


def test_power_flow_matches_pandapower_on_the_original_mvlv_net():
    net, grid = imported(MVLV)
    dv, n = max_voltage_difference(pandapower_vm(net), grid_vm(grid))
    assert n == len(net.bus) and dv <= 1e-9, dv  # measured 5.9e-11


def test_exported_net_gives_the_same_voltages():
    net, grid = imported("1-MV-comm--0-sw")
    exported = to_pandapower(grid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandapower as pp

        pp.runpp(exported, trafo_model="pi", tolerance_mva=1e-10)
    vm = pd.Series(exported.res_bus["vm_pu"].to_numpy(), index=exported.bus["name"])
    assert max_voltage_difference(pandapower_vm(net), vm)[0] <= 1e-9


@pytest.mark.parametrize("code", ["1-MV-rural--0-sw", "1-MV-comm--0-sw"])
def test_dg_survives_export_and_reimport(code):
    _, grid = imported(code)
    exported = to_pandapower(grid)
    back = from_pandapower(exported, name="back")
    node_of_bus = dict(zip([f"bus:{i}" for i in exported.bus.index], exported.bus["name"], strict=True))

    def units(g, rename=None):
        dg = g.dg
        nodes = dg["node_id"].map(rename) if rename else dg["node_id"]
        return sorted(zip(nodes, dg["kind"], dg["p_kw"].round(6), strict=True))

    assert len(back.dg) == len(grid.dg)
    assert units(back, node_of_bus) == units(grid)
    assert len(back.transformers) == len(grid.transformers)


def test_dg_and_transformers_survive_the_grid_file(tmp_path):
    _, grid = imported("1-MV-rural--0-sw")
    path = write_grid(grid.layers(), tmp_path / "rural.gpkg")
    again = load_grid(path)
    for layer in ("dg", "transformers"):
        a = getattr(grid, layer).drop(columns="geometry").reset_index(drop=True)
        b = getattr(again, layer).drop(columns="geometry").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b[a.columns], check_dtype=False)
    assert again.nodes.set_index("id")["vm_pu"].dropna().to_dict() == grid.nodes.set_index("id")["vm_pu"].dropna().to_dict()
    assert max_voltage_difference(grid_vm(grid), grid_vm(again))[0] < 1e-12
    folder = write_grid(grid.layers(), tmp_path / "rural")
    assert len(Grid.from_layers(read_layers(folder)).dg) == len(grid.dg)


def test_simbench_source_and_bad_code():
    from gis.errors import InputError

    net = load_pandapower_net("simbench:1-MV-comm--0-sw")
    assert len(net.trafo) == 2
    with pytest.raises(InputError):
        load_pandapower_net("simbench:no-such-grid")


def test_transfers_replayed_on_the_original_net():
    """Each tie between two feeders closed with one feeder's breaker opened (the feeder moves to its
    neighbour): the project's power flow against pandapower's on the original SimBench net."""
    from gis.pandapower_io import replay_in_pandapower
    from gis.powerflow import check_state_flow

    from .pandapower_oracle import AT

    net, grid = imported("1-MV-comm--0-sw")
    feeder = grid.node_feeders()
    ties = grid.switches[grid.switches["normally_open"]]
    states = [([feeder[a]], [t]) for t, a, b in zip(ties["id"], ties["from_node"], ties["to_node"], strict=True)
              if feeder.get(a) and feeder.get(b) and feeder[a] != feeder[b]]
    assert len(states) >= 5
    replayed = replay_in_pandapower(grid, [(o, c, [AT]) for o, c in states], net=net)
    for (opened, closed), (ref,) in zip(states, replayed, strict=True):
        worst = check_state_flow(grid, open_switches=opened, close_switches=closed, times=[AT], feeders="all", dg="on",
                                 baseline=False).column_worst()
        assert ref["converged"]
        assert abs(ref["min_vm_pu"] - float(worst["min_vm_pu"][0])) < 5e-6  # measured <= 1.8e-6 (pandapower's T model)
        assert abs(ref["max_line_loading_pct"] - float(worst["max_line_loading_pct"][0])) < 0.01


def test_opening_a_transformer_breaker_moves_the_load_to_the_other_as_pandapower_does():
    """Parallel transformers: with one switched out, the other carries the substation, and the
    power flow of the state (the substation's feeders chosen by themselves) says so like runpp."""
    import copy

    import pandapower as pp

    from gis.powerflow import TRAFO, check_state_flow

    from .pandapower_oracle import AT

    net, grid = imported("1-MV-rural--0-sw")
    sw = net.switch
    (tb, *_) = sw.index[(sw["et"] == "t") & sw["closed"]]
    other = int(net.trafo.index[net.trafo.index != sw.at[tb, "element"]][0])
    flow = check_state_flow(grid, open_switches=[f"switch:{tb}"], times=[AT], dg="on", baseline=False)
    assert flow.converged.all() and set(flow.feeders) == set(grid.feeders["id"])
    ours = pd.Series(flow.loading_pct[:, 0], index=flow.branch_ids)[flow.branch_kind == TRAFO]
    switched = copy.deepcopy(net)
    switched.switch.at[tb, "closed"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(switched, trafo_model="pi", tolerance_mva=1e-10)
    theirs = float(switched.res_trafo.at[other, "loading_percent"])
    assert ours[f"trafo:{other}"] == pytest.approx(theirs, abs=0.05)
    off = int(sw.at[tb, "element"])  # energised from one side only: no-load current, as in pandapower
    assert ours[f"trafo:{off}"] == pytest.approx(float(switched.res_trafo.at[off, "loading_percent"]), abs=0.01)
    normal = check_state_flow(grid, feeders="all", times=[AT], dg="on", baseline=False)
    before = pd.Series(normal.loading_pct[:, 0], index=normal.branch_ids)[f"trafo:{other}"]
    assert theirs > 1.5 * before  # the test is not vacuous: the load moved
