"""pandapower import/export, checked element by element against pandapower's own topology."""

import random
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pandapower.networks as pn
    import pandapower.topology as top

from gis import InputError
from gis.pandapower_io import from_pandapower, to_pandapower

from .pandapower_oracle import grid_vm, max_voltage_difference, pandapower_vm, unsupplied_customers


@pytest.fixture(scope="module")
def oberrhein():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = pn.mv_oberrhein()
    return net, from_pandapower(net, name="mv_oberrhein")


def test_ids_keep_pandapower_elements(oberrhein):
    net, grid = oberrhein
    assert set(grid.customers["id"]) == {f"load:{i}" for i in net.load.index}
    assert {f"line:{i}" for i in net.line.index[net.line["in_service"]]} == set(grid.lines["id"])
    assert {f"switch:{i}" for i in net.switch.index} == set(grid.switches["id"])
    assert len(grid.substations) == len(net.ext_grid)
    assert grid.summary()["ties"] == int((~net.switch["closed"]).sum())


def test_oracle_every_switch_alone_and_random_sets(oberrhein):
    net, grid = oberrhein
    switches = list(net.switch.index)
    rng = random.Random(20261122)
    cases = [[s] for s in switches] + [rng.sample(switches, rng.randint(1, 4)) for _ in range(200)]
    nonempty = 0
    for opened in cases:
        expected = unsupplied_customers(net, opened)
        got = set(grid.affected_customers(open_switches=[f"switch:{s}" for s in opened])["id"])
        assert got == expected, opened
        nonempty += bool(expected)
    assert nonempty > 50  # the comparison is not trivially empty


def test_to_pandapower_gives_the_same_answers(ring):
    net = to_pandapower(ring)
    name_of = dict(enumerate(net.switch["name"]))
    by_name = {v: k for k, v in name_of.items()}
    for opened in (["S1"], ["S4"], ["F1"], ["S1", "S5"]):
        saved = net.switch["closed"].copy()
        net.switch.loc[[by_name[s] for s in opened], "closed"] = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dead = top.unsupplied_buses(net, mg=top.create_nxgraph(net, respect_switches=True))
        net.switch["closed"] = saved
        expected = set(net.load["name"][net.load["bus"].isin(dead)])
        assert set(ring.affected_customers(open_switches=opened)["id"]) == expected


def test_round_trip_through_pandapower(ring):
    back = from_pandapower(to_pandapower(ring), name="back", timezone="Europe/Monaco")
    for opened in (["switch:2"], ["switch:5"]):  # S1 and S4 by position
        assert len(back.affected_customers(open_switches=opened)) > 0
    assert len(back.customers) == len(ring.customers)
    assert back.summary()["ties"] == ring.summary()["ties"]


def test_net_without_geodata_is_refused():
    import pandapower as pp

    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv=10.0)
    with pytest.raises(InputError):
        from_pandapower(net)


def test_substations_transformers_and_set_points(oberrhein):
    net, grid = oberrhein
    nodes = grid.nodes.set_index("id")
    tr = grid.transformers.set_index("id")
    assert set(tr.index) == {f"trafo:{i}" for i in net.trafo.index}
    for t, r in net.trafo.iterrows():
        row = tr.loc[f"trafo:{t}"]
        assert row["substation_id"] is not None and row["sn_kva"] == r["sn_mva"] * 1000.0
        assert (row["tap_pos"], row["tap_step_percent"], row["vk_percent"]) == (r["tap_pos"], r["tap_step_percent"], r["vk_percent"])
        assert nodes.at[f"bus:{r['hv_bus']}", "kind"] == nodes.at[f"bus:{r['lv_bus']}", "kind"] == "busbar"
    for b, vm in zip(net.ext_grid["bus"], net.ext_grid["vm_pu"], strict=True):
        assert nodes.at[f"bus:{b}", "vm_pu"] == vm and nodes.at[f"bus:{b}", "vn_kv"] == 110.0
    assert grid.nominal_kv == 20.0
    assert len(grid.dg) == len(net.sgen) and grid.dg["p_kw"].sum() == 0.0  # every sgen has scaling 0


def test_power_flow_matches_pandapower_on_oberrhein(oberrhein):
    net, grid = oberrhein
    dv, n = max_voltage_difference(pandapower_vm(net), grid_vm(grid))
    assert n == len(net.bus) and dv < 1e-9  # measured 5e-11 (tapped 110/20 kV transformers, load scaling 0.6)
    assert max_voltage_difference(pandapower_vm(net, trafo_model="t"), grid_vm(grid))[0] < 1e-5  # measured 3.2e-6


def small_net():
    """ext grid - 110/10 kV transformer - busbar - breaker - two parallel cables - node with PV, storage, load."""
    import pandapower as pp

    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110.0, geodata=(7.0, 48.0))
    mv = pp.create_bus(net, 10.0, geodata=(7.0, 48.001))
    far = pp.create_bus(net, 10.0, geodata=(7.01, 48.001))
    end = pp.create_bus(net, 10.0, geodata=(7.02, 48.001))
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    pp.create_transformer_from_parameters(net, hv, mv, sn_mva=25.0, vn_hv_kv=110.0, vn_lv_kv=10.0, vk_percent=12.0,
                                          vkr_percent=0.4, pfe_kw=14.0, i0_percent=0.07, tap_side="hv", tap_pos=1,
                                          tap_neutral=0, tap_step_percent=1.5, tap_changer_type="Ratio")
    ln = pp.create_line_from_parameters(net, mv, far, length_km=2.0, r_ohm_per_km=0.2, x_ohm_per_km=0.1, c_nf_per_km=300.0,
                                        max_i_ka=0.3, parallel=2, df=0.9, std_type="MY OWN CABLE")
    pp.create_line_from_parameters(net, far, end, length_km=1.0, r_ohm_per_km=0.3, x_ohm_per_km=0.1, c_nf_per_km=250.0, max_i_ka=0.25)
    pp.create_switch(net, mv, ln, et="l", type="CB", in_ka=0.63)
    pp.create_load(net, end, p_mw=2.0, q_mvar=0.5)
    pp.create_sgen(net, end, p_mw=0.5, type="PV")
    pp.create_storage(net, far, p_mw=-0.2, max_e_mwh=1.0)
    return net


def test_a_small_net_keeps_its_electrical_data():
    net = small_net()
    grid = from_pandapower(net)
    assert [p.code for p in grid.problems] == ["missing_rating"]  # the busbars only; no unknown_line_type
    line = grid.lines.set_index("id").loc["line:0"]
    assert (line["r_ohm_per_km"], line["x_ohm_per_km"], line["c_nf_per_km"]) == (0.1, 0.05, 600.0)
    assert line["rating_a"] == pytest.approx(540.0) and line["type"] == "MY OWN CABLE"
    sw = grid.switches.set_index("id").loc["switch:0"]
    assert (sw["kind"], sw["rating_a"], sw["from_node"]) == ("breaker", 630.0, "bus:1")
    assert len(grid.feeders) == 1
    dg = grid.dg.set_index("id")
    assert dg.loc["sgen:0", ["kind", "p_kw", "node_id"]].tolist() == ["pv", 500.0, "bus:3"]
    assert dg.loc["storage:0", ["kind", "p_kw", "node_id"]].tolist() == ["storage", 200.0, "bus:2"]
    assert grid.power_factor == pytest.approx(2.0 / (2.0**2 + 0.5**2) ** 0.5)
    dv, n = max_voltage_difference(pandapower_vm(net), grid_vm(grid))
    assert n == 4 and dv < 1e-9


def test_a_line_without_rating_is_a_warning_naming_the_default():
    net = small_net()
    net.line.at[1, "max_i_ka"] = float("nan")
    net.line.at[0, "c_nf_per_km"] = float("nan")  # an unknown type that has to fill something is named
    grid = from_pandapower(net)
    by_code = {(p.code, p.layer): p for p in grid.problems}
    assert by_code[("missing_rating", "lines")].ids == ("line:1",)
    assert "default type's ampacity" in by_code[("missing_rating", "lines")].message
    assert by_code[("unknown_line_type", "lines")].ids == ("line:0",)
    params = grid.line_params.set_axis(grid.lines["id"])
    assert grid.lines.set_index("id").at["line:1", "kind"] == "overhead"  # pandapower line type "ol" by default
    assert params.at["line:1", "rating_a"] == 350.0  # 94-AL1/15-ST1A 10.0, the 10 kV overhead default
