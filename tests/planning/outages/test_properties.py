"""Property: on random synthetic grids and jobs, no switching plan returned as valid ever energises
its work zone while earthed or worked on, or parallels two substations — checked by replaying the
plan's JSON steps on the grid with the grid's own queries, independently of the planner's validator."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis import Grid
from planning.outages import PlanOptions, plan_outages
from planning.outages.synthetic import ring_layers, synthetic_jobs


def replay(grid: Grid, outage: dict) -> list[str]:
    """Findings of an independent replay of one outage's steps."""
    normally_open = dict(zip(grid.switches["id"], grid.switches["normally_open"], strict=True))
    opened: set[str] = set()
    closed: set[str] = set()
    earths: set[str] = set()
    working = False
    work = set(outage["zone"]["work_nodes"])
    found = []
    for step in outage["switching_steps"]:
        a, dev = step["action"], step["device"]
        if a in ("open", "close"):
            if normally_open[dev]:
                (closed.add if a == "close" else closed.discard)(dev)
            else:
                (opened.add if a == "open" else opened.discard)(dev)
        elif a == "apply_earth":
            earths.add(dev)
        elif a == "remove_earth":
            earths.discard(dev)
        elif a == "start_work":
            working = True
        elif a == "end_work":
            working = False
        if earths or working:
            live = grid.energized(open_switches=sorted(opened), close_switches=sorted(closed)) & work
            if live:
                found.append(f"{outage['id']} step {step['seq']}: work zone live at {sorted(live)[:3]}")
        par = grid.check_state(open_switches=sorted(opened), close_switches=sorted(closed)).paralleled
        if par:
            found.append(f"{outage['id']} step {step['seq']}: paralleled {par}")
    if opened or closed or earths:
        found.append(f"{outage['id']}: not back to normal")
    return found


@st.composite
def cases(draw):  # noqa: ANN001, ANN201
    layers = ring_layers(
        substations=draw(st.integers(1, 3)),
        rings=draw(st.integers(1, 4)),
        rmus_per_feeder=draw(st.integers(2, 4)),
        rooms_per_rmu=draw(st.integers(1, 2)),
        customers_per_room=draw(st.integers(1, 3)),
        cross_share=draw(st.sampled_from([0.0, 0.5, 1.0])),
        seed=draw(st.integers(0, 10_000)),
    )
    return layers, draw(st.integers(1, 12)), draw(st.integers(0, 10_000)), draw(st.sampled_from([0.0, 0.1, 0.4]))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases())
def test_no_valid_plan_energises_a_work_zone_or_parallels_substations(case) -> None:  # noqa: ANN001
    layers, n_jobs, seed, margin = case
    grid = Grid.from_layers(layers)
    start = datetime(2026, 12, 7, tzinfo=grid.timezone)
    jobs = synthetic_jobs(grid, n_jobs, start=start, days=10, seed=seed, crews=2)
    options = PlanOptions(solver_time_limit_s=2, solver_workers=1, capacity_margin=margin)
    doc = plan_outages(grid, jobs, now=start - timedelta(days=7), options=options).to_json()
    planned = {j for o in doc["outages"] for j in o["jobs"]}
    assert planned | {e["job"] for e in doc["errors"]} == {j.id for j in jobs}
    for o in doc["outages"]:
        assert replay(grid, o) == []  # an invalid outage carries no steps at all
        assert o["valid"] or (o["problems"] and not o["switching_steps"])
