"""Properties of restore() on random synthetic grids (planning.faults.synthetic.random_grid).

Checked independently of the algorithm, with the grid's own queries and networkx:
* after every switching step the faulted section is dead;
* every closing keeps the feeder that picks up load within its limit and parallels no substations;
* nothing more can be restored: every open switch between a dead healthy node and a live one
  would, closed, re-energise the fault, parallel two substations or overload its feeder;
* with unlimited capacity, every healthy node with a path to a busbar that avoids the faulted
  section is live after stage 2.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.faults import restore
from planning.faults.synthetic import RandomGridSpec, random_grid

from .strategies import grid_specs

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Monaco"))

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def replay(result):
    """States (open, closed) after each step, from the tripped state on."""
    open_, closed = [result.tripped], []
    for stage in result.stages:
        for s in stage.steps:
            if s.action == "open":
                open_.append(s.switch)
            elif s.switch in open_:
                open_.remove(s.switch)
            else:
                closed.append(s.switch)
            yield s, list(open_), list(closed)


def pick_section(grid, index):
    secs = [s for s in grid.sections() if not s.source]
    return secs[index % len(secs)]


@SETTINGS
@given(seed=st.integers(0, 10_000), spec=grid_specs, index=st.integers(0, 100))
def test_fault_never_reenergised_and_every_step_safe(seed, spec, index):
    grid = random_grid(seed, spec)
    sec = pick_section(grid, index)
    r = restore(grid, sec.id, now=NOW)
    faulted = set(r.faulted_nodes)
    assert faulted == set(sec.nodes)
    open_, closed = [r.tripped], []
    for step, open_, closed in replay(r):
        dead = grid.dead_nodes(open_switches=open_, close_switches=closed)
        assert faulted <= dead, f"step {step.seq} {step.action} {step.switch} re-energises the fault"
        if step.action == "close":
            chk = grid.check_state(open_switches=open_, close_switches=closed, at=NOW)
            assert not chk.paralleled
            assert step.feeder not in {f for f, _, _ in chk.overloads}
    assert (open_, closed) == (list(r.final_open), list(r.final_closed))


@SETTINGS
@given(seed=st.integers(0, 10_000), spec=grid_specs, index=st.integers(0, 100))
def test_nothing_more_can_be_restored_safely(seed, spec, index):
    grid = random_grid(seed, spec)
    sec = pick_section(grid, index)
    r = restore(grid, sec.id, now=NOW)
    faulted = set(r.faulted_nodes)
    open_, closed = list(r.final_open), list(r.final_closed)
    dead = grid.dead_nodes(open_switches=open_, close_switches=closed)
    sw = grid.switches.set_index("id")
    for s, row in sw.iterrows():
        is_open = s in open_ or (row["normally_open"] and s not in closed)
        if not is_open or ((row["from_node"] in dead) == (row["to_node"] in dead)):
            continue
        o2 = [x for x in open_ if x != s]
        c2 = closed if s in open_ else closed + [s]
        dead2 = grid.dead_nodes(open_switches=o2, close_switches=c2)
        if not faulted <= dead2:
            continue
        chk = grid.check_state(open_switches=o2, close_switches=c2, at=NOW)
        feeder = grid.feeder_of(next(iter(dead - dead2)), open_switches=o2, close_switches=c2)
        assert chk.paralleled or feeder in {f for f, _, _ in chk.overloads}, (
            f"closing {s} would safely restore {sorted(dead - dead2)[:5]}"
        )


@SETTINGS
@given(seed=st.integers(0, 10_000), spec=grid_specs, index=st.integers(0, 100))
def test_unlimited_capacity_restores_every_section_with_a_path_to_a_source(seed, spec, index):
    spec = RandomGridSpec(**{**spec.__dict__, "feeder_rating_a": None})
    grid = random_grid(seed, spec)
    sec = pick_section(grid, index)
    r = restore(grid, sec.id, now=NOW)
    g = nx.Graph(grid.graph)
    g.remove_nodes_from(r.faulted_nodes)
    busbars = set(grid.nodes.loc[grid.nodes["kind"] == "busbar", "id"])
    reachable = set().union(*(nx.node_connected_component(g, b) for b in busbars))
    live = grid.energized(open_switches=r.final_open, close_switches=r.final_closed)
    assert reachable <= live, f"not restored: {sorted(reachable - live)[:10]}"
    out = set(r.stages[1].still_out)
    assert out == {c for c in grid.customers["id"] if grid.customers.set_index("id").at[c, "node_id"] not in live}
