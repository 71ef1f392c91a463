"""Calls-only fault location, the restoration that follows it, and the candidates' one-line summaries.

A feeder F1 built for the purpose, with a crowded room at its head and RMUs below::

    BA =F1=> n1-R1(D1: 200 customers A000..A199)
                 R1 -S2-> p2-R2(D2: B1 B2 B3)
                 R1 -S3-> p3-R3(D3: C1..C4)
                              R3 -S4-> p4-R4(D4: E1 E2 E3)
                              R3 -S5r-> p5-R5(D5: G1 G2) ..T1r (normally open).. R6
    BB =F2=> m1-R6(D6: H1)

``r`` = remote-controlled. Every expected answer is computed here from the grid's
layers with networkx (sections = components of the lines; the supply tree =
a breadth-first tree over the normally-closed switches from the substations),
not by the code under test.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from zoneinfo import ZoneInfo

import networkx as nx
import pytest

from gis import Grid, InputError
from planning.faults import FaultOptions, FaultReport, locate_fault, restore
from planning.faults.reasons import REASON_TEMPLATES
from planning.faults.synthetic import build_grid

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Monaco"))
B_CALLS = ["B1", "B2", "B3"]

POSITIONS = {
    "BA": (0, 4), "n1": (1, 4), "R1": (2, 4), "D1": (2, 6), "p2": (3, 5), "R2": (4, 6), "D2": (4, 7),
    "p3": (3, 3), "R3": (4, 3), "D3": (4, 2), "p4": (5, 3), "R4": (6, 3), "D4": (6, 2), "p5": (5, 4),
    "R5": (7, 4), "D5": (7, 5), "BB": (10, 0), "m1": (10, 1), "R6": (9, 3), "D6": (9, 2),
}


def feeder_grid() -> Grid:
    nodes = [("BA", "busbar", "SA"), ("BB", "busbar", "SB")]
    nodes += [(n, "junction", None) for n in ("n1", "p2", "p3", "p4", "p5", "m1")]
    nodes += [(n, "rmu", None) for n in ("R1", "R2", "R3", "R4", "R5", "R6")]
    nodes += [(n, "distribution_room", None) for n in ("D1", "D2", "D3", "D4", "D5", "D6")]
    lines = [
        ("L1", "n1", "R1", "cable", 400.0), ("L1d", "R1", "D1", "cable", 400.0),
        ("L2", "p2", "R2", "cable", 400.0), ("L2d", "R2", "D2", "cable", 400.0),
        ("L3", "p3", "R3", "cable", 400.0), ("L3d", "R3", "D3", "cable", 400.0),
        ("L4", "p4", "R4", "cable", 400.0), ("L4d", "R4", "D4", "cable", 400.0),
        ("L5", "p5", "R5", "cable", 400.0), ("L5d", "R5", "D5", "cable", 400.0),
        ("L6", "m1", "R6", "cable", 400.0), ("L6d", "R6", "D6", "cable", 400.0),
    ]
    switches = [
        ("F1", "BA", "n1", "breaker", False, True, True, 600.0),
        ("F2", "BB", "m1", "breaker", False, True, True, 600.0),
        ("S2", "R1", "p2", "load_break", False, False, True, None),
        ("S3", "R1", "p3", "load_break", False, False, True, None),
        ("S4", "R3", "p4", "load_break", False, False, True, None),
        ("S5", "R3", "p5", "load_break", False, True, True, None),
        ("T1", "R5", "R6", "load_break", True, True, False, None),
    ]
    customers = [(f"A{i:03d}", "D1", "normal", 5.0, False) for i in range(200)]
    customers += [(f"B{i}", "D2", "normal", 20.0, False) for i in (1, 2, 3)]
    customers += [(f"C{i}", "D3", "normal", 20.0, False) for i in (1, 2, 3, 4)]
    customers += [(f"E{i}", "D4", "normal", 20.0, False) for i in (1, 2, 3)]
    customers += [("G1", "D5", "second", 20.0, False), ("G2", "D5", "normal", 20.0, False)]
    customers += [("H1", "D6", "normal", 20.0, False)]
    addresses = {"B1": "1 Rue des Roses", "B2": "3 Rue des Roses", "A000": "Place du Marché"}
    return build_grid(nodes, lines, switches, customers, name="calls feeder", positions=POSITIONS,
                      addresses=addresses)


@pytest.fixture(scope="module")
def grid() -> Grid:
    return feeder_grid()


class Oracle:
    """Sections and the normal supply tree of a grid, from its layers with networkx."""

    def __init__(self, grid: Grid) -> None:
        g = nx.Graph()
        g.add_nodes_from(grid.nodes["id"])
        g.add_edges_from(zip(grid.lines["from_node"], grid.lines["to_node"], strict=True))
        self.section = {n: frozenset(c) for c in nx.connected_components(g) for n in c}
        closed = nx.Graph()
        for sw in grid.switches.itertuples(index=False):
            if not sw.normally_open:
                closed.add_edge(self.section[sw.from_node], self.section[sw.to_node], switch=sw.id)
        roots = [self.section[n] for n, k in zip(grid.nodes["id"], grid.nodes["kind"], strict=True) if k == "busbar"]
        self.tree = nx.DiGraph()
        for r in roots:
            self.tree.add_edges_from(nx.bfs_edges(closed, r))
        self.switch = {(a, b): closed.edges[a, b]["switch"] for a, b in self.tree.edges}
        self.node_of = dict(zip(grid.customers["id"], grid.customers["node_id"], strict=True))
        self.customers_at: dict[str, list[str]] = {}
        for c, n in self.node_of.items():
            self.customers_at.setdefault(n, []).append(c)

    def common_section(self, customers: list[str]) -> frozenset[str]:
        secs = [self.section[self.node_of[c]] for c in customers]
        lca = secs[0]
        for s in secs[1:]:
            lca = nx.lowest_common_ancestor(self.tree, lca, s)
        return lca

    def supply_switch(self, sec: frozenset[str]) -> str:
        (parent,) = self.tree.predecessors(sec)
        return self.switch[(parent, sec)]

    def customers_below(self, sec: frozenset[str]) -> set[str]:
        nodes = set().union(sec, *nx.descendants(self.tree, sec))
        return {c for n in nodes for c in self.customers_at.get(n, [])}


@pytest.fixture(scope="module")
def oracle(grid: Grid) -> Oracle:
    return Oracle(grid)


def test_three_calls_under_one_rmu_put_its_section_first(grid, oracle):
    loc = locate_fault(grid, calls=B_CALLS, now=NOW)
    expected = oracle.common_section(B_CALLS)
    assert set(loc.best.nodes) == set(expected) == {"p2", "R2", "D2"}
    assert loc.best.outage_device == loc.outage_device == oracle.supply_switch(expected) == "S2"
    assert loc.best.outage_basis == "calls"
    calls = loc.best.evidence["calls"]
    assert (calls["calls_explained"], calls["silent_customers"], calls["calls_elsewhere"]) == (3, 0, 0)
    # the breaker's section would darken 200+ more customers for the same 3 calls: far less likely
    # (dropped below 1/1000 of the best, or far below it)
    assert len(oracle.customers_below(oracle.section["n1"])) == 212
    head = [c for c in loc.candidates if c.outage_device == "F1"]
    assert not head or head[0].score < 1e-3 * loc.best.score
    # every candidate explains at least one call (no "0 call(s) explained")
    assert all(c.evidence["calls"]["calls_explained"] >= 1 for c in loc.candidates)
    assert sum(c.score for c in loc.candidates) == pytest.approx(1.0, abs=1e-3)


def test_calls_under_two_branches_point_at_their_common_upstream_device(grid, oracle):
    calls = ["E1", "G1"]
    loc = locate_fault(grid, calls=calls, now=NOW)
    common = oracle.common_section(calls)
    assert set(common) == {"p3", "R3", "D3"}  # R3 feeds both branches
    assert loc.best.outage_device == oracle.supply_switch(common) == "S3"
    assert set(loc.best.nodes) == set(common)
    assert loc.best.evidence["calls"]["silent_customers"] == len(oracle.customers_below(common)) - 2
    # each branch alone explains one call and leaves the other as a stray report: ranked below
    ranks = {c.outage_device: i for i, c in enumerate(loc.candidates)}
    assert ranks["S3"] < ranks["S4"] and ranks["S3"] < ranks["S5"]
    # the breaker covers both calls too but darkens 200 more customers: after S3, or dropped
    assert ranks.get("F1", len(ranks)) > ranks["S3"]


def test_one_call_points_at_the_smallest_section(grid, oracle):
    loc = locate_fault(grid, calls=["G2"], now=NOW)
    own = oracle.section[oracle.node_of["G2"]]
    assert set(loc.best.nodes) == set(own)
    assert loc.best.outage_device == oracle.supply_switch(own) == "S5"
    # then the devices above it, nearest first: each darkens more customers for the same call
    order = [c.outage_device for c in loc.candidates]
    path = []
    sec = own
    while list(oracle.tree.predecessors(sec)):
        path.append(oracle.supply_switch(sec))
        (sec,) = oracle.tree.predecessors(sec)
    assert path == ["S5", "S3", "F1"]
    assert len(order) >= 2 and order == path[: len(order)]  # the devices above the caller, nearest first


def test_call_likelihood_by_hand(grid, oracle):
    # calls E1 (below S4) and G1 (below S5). Beta(1, b) prior on the share of dark customers who
    # call, b = (1 - p) / p, integrated out; stray calls q each from customers with supply:
    # L(device) = B(k + 1, n - k + b) / B(1, b) * q^(m - k) * (1 - q)^-(n - k)  (constants dropped)
    opts = FaultOptions()
    b = (1 - opts.call_probability) / opts.call_probability
    q = opts.stray_call_probability
    calls = ["E1", "G1"]

    def log_l(device_section: frozenset[str]) -> float:
        below = oracle.customers_below(device_section)
        n, k, m = len(below), len(below & set(calls)), len(calls)
        return (math.lgamma(k + 1) + math.lgamma(n - k + b) - math.lgamma(n + 1 + b) + math.log(b)
                + (m - k) * math.log(q) - (n - k) * math.log1p(-q))

    secs = {oracle.supply_switch(s): s for s in oracle.tree.nodes if list(oracle.tree.predecessors(s))}
    explaining = {d: log_l(s) for d, s in secs.items() if oracle.customers_below(s) & set(calls)}
    assert set(explaining) == {"F1", "S3", "S4", "S5"}
    z = sum(math.exp(v) for v in explaining.values())
    expected = {d: math.exp(v) / z for d, v in explaining.items()}
    best = max(expected.values())
    loc = locate_fault(grid, calls=calls, now=NOW, options=opts)
    got = {c.outage_device: c.score for c in loc.candidates}
    assert set(got) == {d for d, p in expected.items() if p >= 1e-3 * best}
    for d, score in got.items():  # posterior over every device (the dropped ones included)
        assert score == pytest.approx(expected[d], rel=1e-9)


def test_calls_with_a_tripped_breaker_rank_by_exposure_as_before(grid, oracle):
    # with a reported trip the calls only check the extent: every section below F1 by exposure
    loc = locate_fault(grid, tripped_breaker="F1", calls=B_CALLS, now=NOW)
    lengths = dict(zip(grid.lines["id"], grid.lines["length_m"], strict=True))
    kinds = dict(zip(grid.nodes["id"], grid.nodes["kind"], strict=True))
    line_nodes = {ln: (a, b) for ln, a, b in zip(grid.lines["id"], grid.lines["from_node"], grid.lines["to_node"],
                                                  strict=True)}
    below = [s for s in nx.descendants(oracle.tree, oracle.section["BA"])]
    exposure = {}
    for sec in below:
        km = sum(lengths[ln] for ln, (a, _) in line_nodes.items() if a in sec) / 1000.0
        km += 0.1 * sum(1 for n in sec if kinds[n] in ("rmu", "distribution_room", "pole_transformer"))
        exposure[sec] = max(km, 0.05)
    total = sum(exposure.values())
    got = {frozenset(c.nodes): c.score for c in loc.candidates}
    assert set(got) == set(exposure)
    for sec, km in exposure.items():
        assert got[sec] == pytest.approx(km / total, rel=1e-6)
    assert all(c.outage_device == "F1" and c.outage_basis == "tripped" for c in loc.candidates)
    assert all(c.summary.reason.code == "tripped_exposure" for c in loc.candidates)
    # and the restoration recloses the reported breaker, as before (a fault at R3: F1 can feed R1, R2)
    at_r3 = next(c for c in loc.candidates if "R3" in c.nodes)
    res = restore(grid, at_r3, now=NOW, options=FaultOptions(power_flow=False))
    assert res.tripped == "F1" and res.tripped_basis == "reported"
    steps = [s for st in res.stages for s in st.steps]
    f1 = [s for s in steps if s.switch == "F1" and s.action == "close"]
    assert f1 and f1[0].reason.startswith("reclose the tripped breaker")
    assert f1[0].why.code == "step_reclose_tripped" and f1[0].why.texts()["zh-Hans"].startswith("重合跳闸开关")


def test_calls_only_restoration_isolates_and_never_recloses(grid, oracle):
    calls = ["C1", "C2", "C4"]
    loc = locate_fault(grid, calls=calls, now=NOW)
    located = oracle.common_section(calls)
    assert set(loc.best.nodes) == set(located) and loc.best.outage_device == "S3"
    res = restore(grid, loc.best, now=NOW, options=FaultOptions(power_flow=False))
    assert res.tripped == "S3" and res.tripped_basis == "calls"
    # only what hangs below S3 lost supply; the crowded room upstream never did
    assert set(res.customers_out) == oracle.customers_below(located)
    assert not {c for c in res.customers_out if c.startswith(("A", "B"))}
    steps = [s for st in res.stages for s in st.steps]
    protective = set(grid.switches.loc[grid.switches["kind"].isin(["breaker", "fuse"]), "id"])
    assert not [s for s in steps if s.action == "close" and s.switch in protective]
    assert not [s for s in steps if "reclose" in s.reason or "tripped" in s.reason]
    assert not [s for s in steps if s.action == "close" and s.switch == "S3"]  # the located section stays dead
    # the located section is isolated on every side: S3 above it, S4 and S5 below
    opened = [s.switch for s in steps if s.action == "open"]
    assert {"S3", "S4", "S5"} <= set(opened)
    s3 = next(s for s in steps if s.switch == "S3")
    assert "supply was lost below S3" in s3.reason and not s3.remote
    assert s3.why.code == "step_isolate_located" and dict(s3.why.params) == {"switch": "S3"}
    assert all(s.why is not None and s.reason == s.why.text for s in steps)
    # the rest is restored: G (behind S5) over the tie T1 from F2; E has no tie and waits for the repair
    g_side = oracle.customers_below(oracle.section["R5"])
    restored = {c for st in res.stages for c in st.restored_customers}
    assert restored == g_side
    assert any(s.switch == "T1" and s.action == "close" for s in steps)
    assert set(res.stages[-1].still_out) == oracle.customers_below(located) - g_side
    # after the repair everything goes back to normal, S3 included
    back = [(s.action, s.switch) for s in res.return_stage.steps]
    assert ("close", "S3") in back
    *_, (_, still_open, still_closed) = res.switching_states()
    assert (still_open, still_closed) == ((), ())  # replayed from the start: the normal state again
    json.dumps(FaultReport(loc, res).to_json())


def test_remote_device_is_opened_by_telecontrol(grid):
    loc = locate_fault(grid, calls=["G1", "G2"], now=NOW)
    assert loc.best.outage_device == "S5"
    res = restore(grid, loc.best, now=NOW, options=FaultOptions(power_flow=False))
    first = res.stages[0].steps[0]
    assert (first.action, first.switch, first.remote) == ("open", "S5", True)
    assert "no trip reported" in first.reason
    assert not [s for st in res.stages for s in st.steps if s.action == "close" and s.switch == "S5"]


def test_section_without_a_reported_trip_says_the_trip_is_assumed(grid):
    # the dispatcher names a section and nobody reported a trip: a breaker is assumed open,
    # and the step that closes it says so instead of "reclose the tripped breaker"
    res = restore(grid, "D3", now=NOW, options=FaultOptions(power_flow=False))
    assert res.tripped == "F1" and res.tripped_basis == "assumed"
    f1 = [s for st in res.stages for s in st.steps if s.switch == "F1" and s.action == "close"]
    assert f1 and all("no trip was reported" in s.reason and "tripped breaker" not in s.reason for s in f1)
    assert all(s.why.code == "step_close_assumed" for s in f1)
    with pytest.raises(InputError) as exc:
        restore(grid, "D3", now=NOW, outage_device="S2", options=FaultOptions(power_flow=False))
    assert exc.value.code == "outage_device_not_above"


def test_summary_of_a_calls_candidate(grid):
    best = locate_fault(grid, calls=B_CALLS, now=NOW).best
    s = best.summary
    assert s is not None and s.rank == 1
    # the located section's cabinet R2, fed through S2 (an outgoing switch of the RMU R1 upstream)
    assert (s.node, s.node_kind, s.name, s.feeder) == ("R2", "rmu", "Node R2", "F1")
    assert (s.device, s.device_node, s.device_kind, s.remote) == ("S2", "R1", "load_break", False)
    assert s.address == "1 Rue des Roses"  # nearest customer with an address: B1 at D2, next to R2
    assert s.likelihood == best.score
    assert s.reason.code == "calls_explained"
    assert dict(s.reason.params) == {"explained": 3, "calls": 3, "silent": 0, "device": "S2"}
    assert s.reason.text == "explains 3 of 3 call(s); 0 customer(s) below S2 did not call"
    j = best.to_json()
    assert j["rank"] == 1 and j["outage_device"] == "S2" and j["outage_basis"] == "calls"
    assert j["summary"]["where"]["location"] == {"lon": pytest.approx(7.404), "lat": pytest.approx(43.726)}
    assert j["summary"]["text"].startswith("Node R2 below S2, feeder F1 — ")
    assert "explains 3 of 3" in j["summary"]["text"]
    assert "S2" in j["summary"]["texts"]["zh-Hans"] and "来电" in j["summary"]["texts"]["zh-Hans"]
    # details: the full evidence list the long reason is made of
    assert [d["code"] for d in j["details"]] == ["calls"]
    assert j["reason"] == "; ".join(d["text"] for d in j["details"])


def test_summary_names_the_indicators_that_bracket_the_fault(grid):
    loc = locate_fault(grid, fault_indicators={"F1": True, "S3": True, "S4": False, "S5": False}, now=NOW)
    best = loc.best
    assert set(best.nodes) == {"p3", "R3", "D3"}
    r = best.summary.reason
    assert r.code == "indicators_bracket"
    assert dict(r.params) == {"seen": "S3", "clear": ["S4", "S5"]}
    assert r.text == "indicator S3 saw the fault, S4, S5 did not"
    assert r.texts()["zh-Hans"] == "故障指示器S3检测到故障电流，S4、S5未检测到"
    assert best.outage_device is None and best.outage_basis is None
    codes = [d.code for d in best.details]
    assert codes == ["fault_current_seen", "no_fault_current", "indicators_consistent"]
    # a candidate that contradicts a reading says how many agree
    other = next(c for c in loc.candidates if c.evidence["indicators"]["contradict"])
    assert other.summary.reason.code == "indicators_partial"
    assert "indicators_contradict" in [d.code for d in other.details]
    assert [c.summary.rank for c in loc.candidates] == list(range(1, len(loc.candidates) + 1))


def test_every_reason_code_has_both_languages():
    for code, texts in REASON_TEMPLATES.items():
        assert set(texts) == {"en", "zh-Hans"}, code
        en_fields = {f.split(":")[0] for f in _fields(texts["en"])}
        zh_fields = {f.split(":")[0] for f in _fields(texts["zh-Hans"])}
        assert en_fields == zh_fields, code


def _fields(template: str) -> list[str]:
    import string

    return [f for _, f, _, _ in string.Formatter().parse(template) if f]
