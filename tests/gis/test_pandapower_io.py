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


@pytest.fixture(scope="module")
def oberrhein():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = pn.mv_oberrhein()
    return net, from_pandapower(net, name="mv_oberrhein")


def pandapower_unsupplied_loads(net, opened):
    saved = net.switch["closed"].copy()
    try:
        net.switch.loc[list(opened), "closed"] = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mg = top.create_nxgraph(net, respect_switches=True)
            dead = top.unsupplied_buses(net, mg=mg)
        return {f"load:{i}" for i in net.load.index[net.load["bus"].isin(dead)]}
    finally:
        net.switch["closed"] = saved


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
        expected = pandapower_unsupplied_loads(net, opened)
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
