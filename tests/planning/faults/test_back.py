"""The return to the normal state after the repair (planning.faults.back).

Property: replaying every step of the plan (both stages, then the return) from the tripped
state ends in the normal state, and then nothing that has supply in the normal state is dark —
on random synthetic grids and on random cable sections of the demo city (selected by a seeded
draw, not by id: the demo city is rebuilt elsewhere).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis import load_grid
from planning.faults import FaultOptions, restore
from planning.faults.network import section_net
from planning.faults.synthetic import random_grid

from .strategies import grid_specs

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Monaco"))
DEMO = Path(__file__).resolve().parents[3] / "outage_demo" / "monaco.gpkg"



def assert_back_to_normal(grid, r):
    states = list(r.switching_states())
    assert states, "a plan has steps"
    last_step, opened, closed = states[-1]
    assert opened == () and closed == (), f"not the normal state after {last_step.switch}: {opened} {closed}"
    normal_dead = grid.dead_nodes()
    assert grid.dead_nodes(open_switches=opened, close_switches=closed) == normal_dead
    # every customer who lost supply has it back (switching or truck) by the end of the return
    assert set(r.restored_at) >= set(r.customers_out)
    assert all(r.restored_at[c] <= r.return_stage.end for c in r.customers_out)
    assert r.return_stage.still_out == ()
    # the faulted section is dead until the repair is over
    for step, o, c in states:
        if step.time < r.repair.end:
            assert set(r.faulted_nodes) <= grid.dead_nodes(open_switches=o, close_switches=c)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), spec=grid_specs, index=st.integers(0, 100), flow=st.booleans())
def test_after_the_repair_the_plan_returns_to_the_normal_state(seed, spec, index, flow):
    grid = random_grid(seed, spec)
    secs = [s for s in grid.sections() if not s.source]
    r = restore(grid, secs[index % len(secs)].id, now=NOW, options=FaultOptions(power_flow=flow))
    assert_back_to_normal(grid, r)


def test_ring_returns_break_before_make_between_two_substations(ring_grid):
    r = restore(ring_grid, "L34a", now=NOW)
    back = [(s.action, s.switch) for s in r.return_stage.steps]
    # X back from F1 first; E/G are on F2 (another substation): open T1 before closing S4/S5
    assert back[0] == ("close", "S3")
    assert back.index(("open", "T1")) < back.index(("close", "S4"))
    assert r.repair.return_to_normal == tuple(back)
    assert_back_to_normal(ring_grid, r)


@pytest.mark.slow
@pytest.mark.parametrize("when", ["2026-12-18T18:30:00+01:00", "2026-12-18T20:45:00+01:00"])
def test_demo_city_nothing_healthy_dark_after_repair(when):
    if not DEMO.is_file():
        pytest.skip("demo city not built")
    grid = load_grid(DEMO)
    net = section_net(grid)
    cable = sorted(s.id for s in grid.sections() if not s.source and any(net.line_kind[ln] == "cable" for ln in s.lines))
    rng = np.random.default_rng(2026)
    now = datetime.fromisoformat(when)
    for i in rng.choice(len(cable), size=8, replace=False):
        r = restore(grid, cable[int(i)], now=now)
        assert_back_to_normal(grid, r)
