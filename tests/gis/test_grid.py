"""Hand-computed answers on the small ring (see tests/data/make_small_ring.py)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import networkx as nx
import pandas as pd
import pytest

from gis import Grid, InputError, NotFoundError

MONACO = ZoneInfo("Europe/Monaco")
F1_SECTIONS = {"n1", "R1", "x1", "R2", "D1", "x2", "R3", "D2", "z1", "D5"}
F2_SECTIONS = {"m1", "R6", "D4", "y1", "R5", "D3", "y2", "R4"}


def test_normal_state_everything_energised(ring):
    assert ring.energized() == set(ring.nodes["id"])
    assert ring.affected_customers().empty
    assert all(ring.feeder_of(n) == "F1" for n in F1_SECTIONS)
    assert all(ring.feeder_of(n) == "F2" for n in F2_SECTIONS)
    assert ring.feeder_of("BA") is None  # a busbar is a source, not on a feeder


def test_customer_without_node_is_joined_to_nearest_room(ring):
    c7 = ring.customers.set_index("id").loc["C7"]
    assert c7["node_id"] == "D2"


def test_opening_a_trunk_switch_kills_everything_downstream(ring):
    assert ring.dead_nodes(open_switches=["S1"]) == {"x1", "R2", "D1", "x2", "R3", "D2"}
    cust = ring.affected_customers(open_switches=["S1"])
    assert sorted(cust["id"]) == ["C1", "C2", "C3", "C7"]
    assert set(cust["feeder"]) == {"F1"}
    assert list(cust.columns) == ["id", "name", "importance", "demand_kw", "node_id", "feeder", "lon", "lat"]


def test_closing_the_tie_restores_through_the_other_feeder(ring):
    assert ring.affected_customers(open_switches=["S1"], close_switches=["T1"]).empty
    assert ring.feeder_of("R2", open_switches=["S1"], close_switches=["T1"]) == "F2"
    assert ring.feeder_of("R1", open_switches=["S1"], close_switches=["T1"]) == "F1"


def test_whole_feeder_carried_by_the_neighbour(ring):
    feeders = ring.customer_feeders(open_switches=["F1"], close_switches=["T1"])
    assert set(feeders) == {"F2"}
    assert sorted(ring.affected_customers(open_switches=["F1"])["id"]) == ["C1", "C2", "C3", "C6", "C7"]


def test_node_feeders(ring):
    normal = ring.node_feeders()
    assert {n for n, f in normal.items() if f == "F1"} == F1_SECTIONS
    assert {n for n, f in normal.items() if f == "F2"} == F2_SECTIONS
    assert normal["BA"] is None and normal["BB"] is None
    moved = ring.node_feeders(open_switches=["S1"], close_switches=["T1"])
    assert moved["R2"] == "F2" and moved["R1"] == "F1"
    assert ring.node_feeders(open_switches=["S1"])["R2"] is None


def test_nested_cuts(ring):
    # S1 and S2 open: s2 and s3 dead; closing T1 restores s3 only
    dead = ring.dead_nodes(open_switches=["S1", "S2"], close_switches=["T1"])
    assert dead == {"x1", "R2", "D1"}
    # breaker open plus a switch below it: everything on F1 dead, once
    assert ring.dead_nodes(open_switches=["F1", "S2"]) == F1_SECTIONS


def test_opening_a_tie_or_unknown_switch(ring):
    assert ring.dead_nodes(open_switches=["T1"]) == set()
    with pytest.raises(NotFoundError):
        ring.energized(open_switches=["nope"])
    with pytest.raises(InputError):
        ring.energized(open_switches=["S1"], close_switches=["S1"])
    with pytest.raises(NotFoundError):
        ring.feeder_of("nope")


def test_isolate_node_opens_nearest_switches_on_every_side(ring):
    iso = ring.isolate("R2")
    assert iso.switches == ("S1", "S2")
    assert iso.ties == ()
    assert iso.work_nodes == {"x1", "R2", "D1"}
    assert iso.nodes == {"x1", "R2", "D1", "x2", "R3", "D2"}
    assert sorted(iso.customers) == ["C1", "C2", "C3", "C7"]
    assert sorted(iso.work_customers) == ["C1", "C2"]


def test_isolate_line_and_switch(ring):
    iso = ring.isolate("L3")
    assert iso.switches == ("S2",)
    assert iso.ties == ("T1",)
    assert iso.work_nodes == {"x2", "R3", "D2"}
    iso = ring.isolate("S2")  # a switch needs both of its sides dead
    assert iso.switches == ("S1",)
    assert iso.work_nodes == {"x1", "R2", "D1", "x2", "R3", "D2"}
    iso = ring.isolate(["L3", "L7"])  # several pieces of equipment: one zone
    assert iso.switches == ("S1",)
    assert iso.ties == ("T1",)


def test_isolate_is_minimal(ring):
    """No smaller set of switches de-energises the equipment (brute force on the ring)."""
    from itertools import combinations

    normally_closed = [s for s, o in zip(ring.switches["id"], ring.switches["normally_open"], strict=True) if not o]
    for equipment, node in (("R2", "R2"), ("L3", "R3"), ("L11", "D5"), ("L5", "R5")):
        iso = ring.isolate(equipment)
        best = min(
            len(ring.dead_nodes(open_switches=list(c)))
            for k in range(1, 4)
            for c in combinations(normally_closed, k)
            if node in ring.dead_nodes(open_switches=list(c))
        )
        assert len(iso.nodes) == best
        assert node in iso.nodes


def test_isolate_rejects_sources_and_unknowns(ring):
    for eq in ("BA", "F1"):
        with pytest.raises(InputError) as exc:
            ring.isolate(eq)
        assert exc.value.code == "source_equipment"
    with pytest.raises(NotFoundError):
        ring.isolate("ghost")
    with pytest.raises(InputError):
        ring.isolate("C1")  # a customer is not equipment


def test_tie_options_after_isolation(ring):
    iso = ring.isolate("R2")
    opts = ring.tie_options(iso.nodes - iso.work_nodes, open_switches=iso.switches)
    assert len(opts) == 1
    o = opts[0]
    assert (o.switch, o.dead_node, o.live_node, o.feeder) == ("T1", "R3", "R4", "F2")
    assert o.nodes == {"x2", "R3", "D2"}
    assert sorted(o.customers) == ["C3", "C7"]
    # nothing to offer when the far side is dead too
    assert ring.tie_options(iso.nodes - iso.work_nodes, open_switches=[*iso.switches, "F2"]) == []


def test_sections(ring):
    secs = {frozenset(s.nodes): s for s in ring.sections()}
    assert len(secs) == 9
    s2 = secs[frozenset({"x1", "R2", "D1"})]
    assert s2.switches == ("S1", "S2")
    assert s2.feeder == "F1" and not s2.source and s2.customers == 2
    assert s2.supply_switch == "S1"
    assert secs[frozenset({"BA"})].supply_switch is None
    assert secs[frozenset({"BA"})].source
    assert ring.section_of("L7") == ring.section_of("D1") == s2.id


def test_check_state(ring):
    paralleled = ring.check_state(close_switches=["T1"])
    assert paralleled.paralleled == (("T1", "SA", "SB"),)
    assert not paralleled.ok
    assert ring.check_state(open_switches=["S1"], close_switches=["T1"]).ok
    # F2 (300 A -> 4677 kW) carrying all 880 kW fits; with a 90 % margin (468 kW) it does not
    at = datetime(2026, 12, 1, 10, tzinfo=MONACO)
    assert ring.check_state(open_switches=["F1"], close_switches=["T1"], at=at).ok
    over = ring.check_state(open_switches=["F1"], close_switches=["T1"], at=at, margin=0.9)
    assert [o[0] for o in over.overloads] == ["F2"]
    assert over.overloads[0][1] == pytest.approx(880.0)
    only_f1 = ring.check_state(open_switches=["F1"], close_switches=["T1"], at=at, margin=0.9, feeders=["F1"])
    assert only_f1.overloads == ()


def test_loads_follow_profiles_and_local_time(ring):
    weekday_noon = datetime(2026, 12, 1, 12, tzinfo=MONACO)  # a Tuesday
    night = datetime(2026, 12, 1, 2, tzinfo=MONACO)
    sunday_noon = datetime(2026, 12, 6, 12, tzinfo=MONACO)
    assert ring.customer_load_kw(weekday_noon)["C2"] == pytest.approx(50.0)
    assert ring.customer_load_kw(night)["C2"] == pytest.approx(10.0)
    assert ring.customer_load_kw(sunday_noon)["C2"] == pytest.approx(25.0)
    # 11:00 UTC is 12:00 in Monaco in winter
    assert ring.customer_load_kw(datetime(2026, 12, 1, 11, tzinfo=ZoneInfo("UTC")))["C2"] == pytest.approx(50.0)
    loads = ring.feeder_load_kw(weekday_noon)
    assert loads["F1"] == pytest.approx(100 + 50 + 400 + 20 + 30)
    assert loads["F2"] == pytest.approx(80 + 200)
    with pytest.raises(InputError):
        ring.customer_load_kw(datetime(2026, 12, 1, 12))


def test_feeders_table(ring):
    f = ring.feeders.set_index("id")
    assert f.at["F1", "capacity_kw"] == pytest.approx(3**0.5 * 10 * 400 * 0.9)
    assert f.at["F2", "substation_id"] == "SB"
    assert f.at["F1", "customers"] == 5 and f.at["F2", "customers"] == 2
    assert f.at["F1", "tie_switches"] == ("T1",)


def test_graph_matches_layers(ring):
    g = ring.graph
    assert g.number_of_nodes() == len(ring.nodes)
    assert g.number_of_edges() == len(ring.lines) + len(ring.switches)
    closed = nx.MultiGraph((a, b) for a, b, d in g.edges(data=True) if not d.get("normally_open"))
    assert nx.is_forest(closed)


def test_access_points_default_to_node(ring):
    lon, lat = ring.access_point("R2")
    node = ring.nodes.set_index("id").loc["R2"]
    assert (lon, lat) == (node.geometry.x, node.geometry.y)
    assert set(ring.access_points()) == {"R1", "R2", "R3", "R4", "R5", "R6", "D1", "D2", "D3", "D4", "D5"}


@pytest.fixture()
def ring_with_parallel_transformers(ring_layers):
    """The small ring with substation A fed from a 110 kV busbar HA through two transformers in
    parallel, each with its breaker (Q1, Q2) onto busbar BA; BB stays an infeed of its own."""
    import geopandas as gpd
    from shapely.geometry import Point as P

    layers = {k: v.copy() for k, v in ring_layers.items()}
    nodes = layers["nodes"]
    ba = nodes.loc[nodes["id"] == "BA"].geometry.iloc[0]
    extra = gpd.GeoDataFrame(
        {"id": ["HA", "TA1", "TA2"], "kind": ["busbar", "junction", "junction"], "substation_id": ["SA"] * 3,
         "vn_kv": [110.0, 10.0, 10.0], "vm_pu": [1.02, None, None]},
        geometry=[P(ba.x - 0.001, ba.y), P(ba.x - 0.0005, ba.y + 0.0002), P(ba.x - 0.0005, ba.y - 0.0002)], crs=nodes.crs)
    layers["nodes"] = pd.concat([nodes, extra], ignore_index=True)
    layers["transformers"] = gpd.GeoDataFrame(
        {"id": ["TR1", "TR2"], "hv_node": ["HA", "HA"], "lv_node": ["TA1", "TA2"], "sn_kva": [25000.0] * 2, "substation_id": ["SA"] * 2},
        geometry=[ba, ba], crs=nodes.crs)
    sw = layers["switches"]
    breakers = gpd.GeoDataFrame(
        {"id": ["Q1", "Q2"], "kind": ["breaker"] * 2, "from_node": ["TA1", "TA2"], "to_node": ["BA", "BA"], "normally_open": [False] * 2},
        geometry=[ba, ba], crs=sw.crs)
    layers["switches"] = pd.concat([sw, breakers], ignore_index=True)
    return Grid.from_layers(layers)


@pytest.mark.parametrize("path", ["tree", "bulk"])
def test_parallel_transformers_are_a_legal_mesh_and_switching_them_counts(ring_with_parallel_transformers, path, monkeypatch):
    if path == "bulk":  # every state by the components pass (gis/components.py)
        monkeypatch.setattr("gis.topology.BULK_CHANGES", -1)
        monkeypatch.setattr("gis.topology.BULK_SHARE", 10**9)
    g = ring_with_parallel_transformers
    assert not [p for p in g.problems if p.severity == "error"]
    assert set(g.feeders["id"]) == {"F1", "F2"}  # the transformer breakers start no feeder
    f1 = {"C1", "C2", "C3", "C6", "C7"}  # every customer of BA's only feeder
    assert set(g.affected_customers(open_switches=["Q1"])["id"]) == set()  # TR2 carries on
    assert set(g.affected_customers(open_switches=["Q1", "Q2"])["id"]) == f1  # BA cut off: F1 dark
    assert g.feeder_of("D1", open_switches=["Q1", "Q2"]) is None
    # the tie back-feeds F1 (and busbar BA through F1's breaker) from F2
    both_out = {"open_switches": ["Q1", "Q2"], "close_switches": ["T1"]}
    assert set(g.affected_customers(**both_out)["id"]) == set()
    assert g.feeder_of("D1", **both_out) == "F2"
    # one transformer switched out changes no customer's feeder; closing it back is no mesh
    assert g.feeder_of("D1", open_switches=["Q1"]) == "F1"
    assert g.check_state(open_switches=["Q1"]).meshes == ()
