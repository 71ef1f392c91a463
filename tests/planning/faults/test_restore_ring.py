"""Restoration on the hand-checkable ring of conftest.py: every figure below is computed by hand.

Fault on cable L34a (section X, between RMU 3 and RMU 4); F1 trips; A1 B1 C1 X1 E1 E2 G1 are out.
Stage 1 (remote): the dead region grows from X across the manual S3, S4, S2 up to the remote
S1 and S5, which open (10:01, 10:02); reclosing F1 restores A1 (10:03); closing the remote tie
T1 restores G1 from F2 (10:04). Stage 2 (manual): the crew (30 min after stage 1, 10:34) opens
S3 (10:49) and S4 (11:04), the nearest switches around X; then the remote S5 closes (E1, E2 from
F2 — the second-grade E2 weighs more than B1 + C1) at 11:05 and S1 (B1, C1 from F1) at 11:06.
X1 waits for the cable repair (300 min).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from planning.faults import FaultOptions, Generator, restore

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Monaco"))  # a Monday; loads are flat


def steps(stage):
    return [(s.action, s.switch, s.time.strftime("%H:%M")) for s in stage.steps]


def test_fault_between_rmu3_and_rmu4_exact_stages(ring_grid):
    r = restore(ring_grid, "L34a", now=NOW)
    assert r.tripped == "F1"
    assert r.faulted_sections == ("section:p3",)
    assert set(r.faulted_nodes) == {"p3", "D34", "q4"}
    assert set(r.customers_out) == {"A1", "B1", "C1", "X1", "E1", "E2", "G1"}
    s1, s2 = r.stages
    assert s1.kind == "remote" and s2.kind == "manual"
    assert steps(s1) == [("open", "S1", "10:01"), ("open", "S5", "10:02"), ("close", "F1", "10:03"),
                         ("close", "T1", "10:04")]
    assert set(s1.restored_customers) == {"A1", "G1"}
    assert set(s1.still_out) == {"B1", "C1", "X1", "E1", "E2"}
    assert steps(s2) == [("open", "S3", "10:49"), ("open", "S4", "11:04"), ("close", "S5", "11:05"),
                         ("close", "S1", "11:06")]
    assert [s.remote for s in s2.steps] == [False, False, True, True]
    assert set(s2.restored_customers) == {"B1", "C1", "E1", "E2"}
    assert s2.still_out == ("X1",)
    by_switch = {s.switch: s for s in s1.steps + s2.steps if s.action == "close"}
    assert by_switch["T1"].feeder == "F2" and by_switch["S5"].feeder == "F2"
    assert by_switch["F1"].feeder == "F1" and by_switch["S1"].feeder == "F1"
    assert set(r.final_open) == {"S3", "S4"}
    assert r.final_closed == ("T1",)


def test_every_step_has_the_access_point_of_its_cabinet(ring_grid):
    r = restore(ring_grid, "L34a", now=NOW)
    for stage in r.stages:
        for s in stage.steps:
            assert ring_grid.nodes.set_index("id").at[s.node, "kind"] in ("rmu", "busbar", "distribution_room")
            assert s.location == tuple(round(v, 7) for v in ring_grid.access_point(s.node))
    s3 = next(s for s in r.stages[1].steps if s.switch == "S3")
    assert s3.node == "R3"


def test_feeder_loading_after_each_stage(ring_grid):
    r = restore(ring_grid, "L34a", now=NOW)
    load1 = {f.feeder: f.load_kw for f in r.stages[0].feeder_loading}
    load2 = {f.feeder: f.load_kw for f in r.stages[1].feeder_loading}
    assert load1 == {"F1": 100.0, "F2": 200.0}  # A1 | H1 + G1
    assert load2 == {"F1": 300.0, "F2": 350.0}  # A1 B1 C1 | H1 G1 E1 E2
    f2 = next(f for f in r.stages[1].feeder_loading if f.feeder == "F2")
    assert abs(f2.capacity_kw - 3 ** 0.5 * 10 * 300 * 0.9) < 1e-6


def test_repair_task_and_metrics(ring_grid):
    r = restore(ring_grid, "L34a", now=NOW)
    rep = r.repair
    assert rep.equipment_kind == "cable" and rep.skills == ("cable", "switching")
    assert rep.duration_min == 300.0
    assert rep.node == "D34"
    # the repair starts when X is isolated (S4 open, 11:04) while S5 and S1 are closed
    assert rep.start.strftime("%H:%M") == "11:04" and rep.end.strftime("%H:%M") == "16:04"
    assert set(rep.isolation_switches) == {"S3", "S4"}
    assert rep.customers_out == ("X1",)
    assert [d.faulted for d in rep.dead_areas] == [True]
    m = r.metrics
    final = 6 * 60 + 19  # repair ends 16:04, switching back 15 min: 16:19 = 379 min after the fault
    assert m["ci"] == 7
    assert m["cmi_do_nothing"] == 7 * final
    # A1 3, G1 4, E1 E2 65 each, B1 C1 66 each, X1 381
    assert m["cmi"] == 3 + 4 + 65 * 2 + 66 * 2 + final
    assert [s["customers_restored"] for s in m["stages"]] == [2, 4]
    assert m["by_importance"]["second"][0]["stage"] == "manual"
    assert m["by_importance"]["first"][0]["stage"] == "repair"


def test_generator_rule_three_hours(make_ring):
    fleet = (Generator("G1", "small", 200.0, "DEP1"), Generator("G2", "big", 500.0, "DEP1"),
             Generator("G3", "medium", 400.0, "DEP2"))
    grid = make_ring()
    long = restore(grid, "L34a", now=NOW, options=FaultOptions(generators=fleet))
    assert len(long.generators) == 1
    g = long.generators[0]
    assert g.customer == "X1" and g.generators == ("G3",) and g.kw == 400.0 and g.shortfall_kw == 0
    assert g.depots == ("DEP2",)
    # exactly 3 h is not "more than 3 h"
    short = restore(grid, "L34a", now=NOW, options=FaultOptions(generators=fleet, repair_min={"cable": 180}))
    assert short.generators == ()
    # the threshold is configurable
    strict = restore(grid, "L34a", now=NOW,
                     options=FaultOptions(generators=fleet, repair_min={"cable": 180}, generator_threshold_min=120))
    assert [p.customer for p in strict.generators] == ["X1"]
    # the rule covers every customer, not only important ones; one with its own backup gets none (but is listed)
    ordinary = restore(make_ring(x1_importance="normal"), "L34a", now=NOW, options=FaultOptions(generators=fleet))
    assert [(p.customer, p.generators, p.block) for p in ordinary.generators] == [("X1", ("G3",), "D34")]
    backed = restore(make_ring(x1_backup=True), "L34a", now=NOW, options=FaultOptions(generators=fleet))
    assert backed.generators[0].generators == () and "backup" in backed.generators[0].note
    # a fleet too small: combined trucks and a stated shortfall
    tiny = restore(grid, "L34a", now=NOW, options=FaultOptions(generators=(Generator("G1", "s", 100.0),
                                                                           Generator("G2", "s", 150.0))))
    p = tiny.generators[0]
    assert set(p.generators) == {"G1", "G2"} and p.shortfall_kw == 50.0
    assert any("shortfall" in w for w in tiny.warnings)


def test_capacity_limited_transfer_leaves_e_out_with_reason(make_ring):
    # F2 limit 16 A = 249 kW: H1 + G1 (200 kW) fit, adding E1 + E2 (150 kW) does not
    grid = make_ring(f2_rating_a=16.0)
    r = restore(grid, "L34a", now=NOW)
    assert set(r.stages[0].restored_customers) == {"A1", "G1"}
    assert set(r.stages[1].restored_customers) == {"B1", "C1"}
    assert set(r.stages[1].still_out) == {"X1", "E1", "E2"}
    healthy = [d for d in r.repair.dead_areas if not d.faulted]
    assert len(healthy) == 1 and set(healthy[0].customers) == {"E1", "E2"}
    assert "overload feeder F2" in healthy[0].reason and "S5" in healthy[0].reason
    final = grid.check_state(open_switches=r.final_open, close_switches=r.final_closed, at=NOW)
    assert final.ok


def test_capacity_limited_transfer_takes_the_alternative_tie(make_ring):
    grid = make_ring(f2_rating_a=16.0, with_t2=True)
    r = restore(grid, "L34a", now=NOW)
    closes = [(s.switch, s.feeder) for s in r.stages[1].steps if s.action == "close"]
    assert ("T2", "F3") in closes and all(sw != "S5" for sw, _ in closes)
    assert r.stages[1].still_out == ("X1",)
    f3 = next(f for f in r.stages[1].feeder_loading if f.feeder == "F3")
    assert f3.load_kw == 250.0  # K1 + E1 + E2


def test_capacity_margin_is_applied(make_ring):
    # F2 at 25 A = 390 kW takes E (350 kW in all) without margin, not with a 20 % margin (312 kW)
    grid = make_ring(f2_rating_a=25.0)
    assert restore(grid, "L34a", now=NOW).stages[1].still_out == ("X1",)
    r = restore(grid, "L34a", now=NOW, options=FaultOptions(capacity_margin=0.2))
    assert set(r.stages[1].still_out) == {"X1", "E1", "E2"}


def test_no_remote_switches_gives_an_explained_empty_stage_1(make_ring):
    grid = make_ring(remote=False)
    r = restore(grid, "L34a", now=NOW)
    s1, s2 = r.stages
    assert s1.steps == () and s1.restored_customers == ()
    assert any("no remote-controlled switch" in n for n in s1.notes)
    assert s2.start == NOW + timedelta(minutes=30)
    assert set(s2.restored_customers) == {"A1", "B1", "C1", "E1", "E2", "G1"}
    assert all(not s.remote for s in s2.steps)
    assert "F1" in [s.switch for s in s2.steps if s.action == "close"]


def test_crew_eta_sets_the_manual_stage_and_the_message(ring_grid):
    eta = NOW + timedelta(minutes=12)
    r = restore(ring_grid, "L34a", now=NOW, crew_eta=eta)
    assert r.stages[1].start == eta
    assert r.stages[1].steps[0].time == eta + timedelta(minutes=15)
    dispatch = [m for m in r.messages if m.kind == "crew_dispatch" and m.language == "en"]
    assert {m.recipient for m in dispatch} == {"B1", "C1", "X1", "E1", "E2"}
    assert "10:12" in dispatch[0].text


def test_messages_in_two_languages(ring_grid):
    r = restore(ring_grid, "L34a", now=NOW)
    kinds: dict[tuple[str, str], set[str]] = {}
    for m in r.messages:
        kinds.setdefault((m.kind, m.language), set()).add(m.recipient)
    assert kinds[("fault_start", "en")] == set(r.customers_out) == kinds[("fault_start", "zh-Hans")]
    assert kinds[("stage_restored", "zh-Hans")] == {"A1", "G1", "B1", "C1", "E1", "E2"}
    assert kinds[("restored", "en")] == {"X1"}
    assert kinds[("stage_progress", "en")] == {"B1", "C1", "X1", "E1", "E2"}
    zh = next(m for m in r.messages if m.kind == "fault_start" and m.language == "zh-Hans")
    assert "停电" in zh.text and "2026-03-02 10:00" in zh.text
    assert [m.time for m in r.messages] == sorted(m.time for m in r.messages)
    assert "dispatched" in next(m.text for m in r.messages if m.kind == "crew_dispatch" and m.language == "en")


def test_fault_on_a_switch_isolates_both_sides(ring_grid):
    r = restore(ring_grid, "S3", now=NOW)
    assert set(r.faulted_sections) == {"section:p2", "section:p3"}
    assert set(r.stages[1].still_out) == {"C1", "X1"}
    assert r.repair.equipment_kind == "switch"


def test_to_json_contract_keys(ring_grid):
    j = restore(ring_grid, "L34a", now=NOW).to_json()
    assert set(j) >= {"faulted", "stages", "repair", "generators", "messages", "metrics"}
    st = j["stages"][0]
    assert st["kind"] == "remote" and set(st) >= {"steps", "restored_customers", "still_out", "feeder_loading"}
    assert set(st["steps"][0]) >= {"action", "switch", "remote", "node", "location", "time", "reason"}


def test_overloading_transfer_is_split_to_fit(make_ring):
    # Fault on L1 (section A, first after F1). F2 limit 45 A = 701 kW, carrying H1 (100 kW).
    # Stage 1: T1 alone would pick up B C X E G (750 kW, so 850 kW on F2): too much; opening
    # the remote S5 first leaves G (G1, 100 kW) for T1. Stage 2: closing S5 again would add
    # E X C B (650 kW): too much; opening the manual S3 first (E + X: 450 kW, 650 kW on F2) fits and
    # restores more weight (X1 is first grade) than opening S4 (E only); B and C stay out.
    grid = make_ring(f2_rating_a=45.0)
    r = restore(grid, "L1", now=NOW)
    s1, s2 = r.stages
    assert steps(s1) == [("open", "S1", "10:01"), ("open", "S5", "10:02"), ("close", "T1", "10:03")]
    assert "split" in s1.steps[1].reason
    assert steps(s2) == [("open", "S3", "10:48"), ("close", "S5", "10:49")]
    assert set(s2.restored_customers) == {"E1", "E2", "X1"}
    assert set(s2.still_out) == {"A1", "B1", "C1"}
    f2 = next(f for f in s2.feeder_loading if f.feeder == "F2")
    assert f2.load_kw == 650.0 and f2.load_kw <= f2.limit_kw
    out = next(d for d in r.repair.dead_areas if not d.faulted)
    assert set(out.customers) == {"B1", "C1"} and "overload feeder F2" in out.reason


def test_transfer_needing_two_cuts_is_fitted():
    # Fault in A (right after F1). Below A, hub H (50 kW) feeds B, C, E (100 kW each) through
    # remote S1, S2, S3; remote tie T1 joins H to F2, which carries 100 kW with a 20 A limit
    # (311.8 kW): headroom 211.8 kW. All of H B C E (350 kW) is too much, and every single cut
    # still leaves 250 kW; H plus one branch (150 kW) fits: C, whose customer is second grade.
    from planning.faults.synthetic import build_grid

    nodes = [("BA", "busbar", "SA"), ("BB", "busbar", "SB")]
    nodes += [(n, "junction", None) for n in ("a", "h", "b", "c", "e", "f")]
    nodes += [(n, "rmu", None) for n in ("Ra", "Rh", "Rf")]
    nodes += [(n, "distribution_room", None) for n in ("Da", "Dh", "Db", "Dc", "De", "Df")]
    lines = [("La", "a", "Ra", "cable", None), ("Lad", "Ra", "Da", "cable", None),
             ("Lh", "h", "Rh", "cable", None), ("Lhd", "Rh", "Dh", "cable", None),
             ("Lb", "b", "Db", "cable", None), ("Lc", "c", "Dc", "cable", None), ("Le", "e", "De", "cable", None),
             ("Lf", "f", "Rf", "cable", None), ("Lfd", "Rf", "Df", "cable", None)]
    switches = [("F1", "BA", "a", "breaker", False, True, True, 400.0),
                ("F2", "BB", "f", "breaker", False, True, True, 20.0),
                ("S0", "Ra", "h", "load_break", False, True, True, None),
                ("S1", "Rh", "b", "load_break", False, True, True, None),
                ("S2", "Rh", "c", "load_break", False, True, True, None),
                ("S3", "Rh", "e", "load_break", False, True, True, None),
                ("T1", "Rh", "Rf", "load_break", True, True, False, None)]
    customers = [("CA", "Da", "normal", 10.0, False), ("CH", "Dh", "normal", 50.0, False),
                 ("CB", "Db", "normal", 100.0, False), ("CC", "Dc", "second", 100.0, False),
                 ("CE", "De", "normal", 100.0, False), ("CF", "Df", "normal", 100.0, False)]
    grid = build_grid(nodes, lines, switches, customers, name="two cuts")
    r = restore(grid, "La", now=NOW)
    s1 = r.stages[0]
    assert [(s.action, s.switch) for s in s1.steps] == [("open", "S0"), ("open", "S1"), ("open", "S3"),
                                                         ("close", "T1")]
    assert set(s1.restored_customers) == {"CH", "CC"}
    f2 = next(f for f in s1.feeder_loading if f.feeder == "F2")
    assert f2.load_kw == 250.0
