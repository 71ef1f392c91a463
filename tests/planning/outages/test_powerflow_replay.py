"""Every working state a plan hands out passes an AC power flow in pandapower, the oracle.

A month of synthetic jobs (several seeds) is planned on grids the product was not
built for and each state of each valid outage (make-before-break loops, the state
during work at every 15-minute slot, break-before-make gaps, hand-backs) is replayed
in pandapower: no line above 100 %, no bus outside ±7 %, every state converges.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gis import Grid, load_grid
from planning.outages import PlanOptions, plan_outages
from planning.outages.replay import replay_plan
from planning.outages.synthetic import synthetic_jobs

pn = pytest.importorskip("pandapower.networks")

OPTIONS = PlanOptions(solver_time_limit_s=10, solver_workers=1)
DEMO = Path(__file__).resolve().parents[3] / "outage_demo" / "monaco.gpkg"


@pytest.fixture(scope="module")
def oberrhein() -> tuple[object, Grid]:
    from gis.pandapower_io import from_pandapower

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = pn.mv_oberrhein()
    return net, from_pandapower(net, name="mv_oberrhein")


def _month(grid: Grid, n: int, seed: int) -> dict:
    tz = ZoneInfo(str(grid.timezone))
    start = datetime(2027, 3, 1, tzinfo=tz)
    jobs = synthetic_jobs(grid, n, start=start, days=30, seed=seed)
    return plan_outages(grid, jobs, now=datetime(2027, 2, 20, 8, tzinfo=tz), options=OPTIONS).to_json()


@pytest.mark.parametrize("seed", [3, 11])
def test_month_on_mv_oberrhein_replays_clean(oberrhein, seed: int) -> None:
    net, grid = oberrhein
    plan = _month(grid, 40, seed)
    report = replay_plan(grid, plan, net=net)  # the original net, with its own loads
    transfers = sum(len(o["transfers"]) for o in plan["outages"] if o["valid"])
    assert report["states"] >= 40 and report["checked"] >= 200 and transfers > 0
    assert report["violations"] == []
    # the plan's own verdict agrees: each outage reports its states within the limits
    for o in plan["outages"]:
        if o["valid"] and o["power_flow"]["max_line_loading_pct"] is not None:
            assert o["power_flow"]["max_line_loading_pct"] <= 100.0 + 1e-6
            assert o["power_flow"]["min_vm_pu"] >= 0.93 - 1e-6


def test_month_on_the_demo_city_replays_clean() -> None:
    grid = load_grid(DEMO)
    plan = _month(grid, 30, 5)
    report = replay_plan(grid, plan)  # the grid's own export, loads set at each checked time
    transfers = sum(len(o["transfers"]) for o in plan["outages"] if o["valid"])
    assert report["states"] >= 30 and transfers > 0
    assert report["violations"] == []

