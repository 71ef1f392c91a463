"""The power-flow check of restoration closings (planning.faults.flow), and pandapower as its oracle.

Every switching state of a restoration (both stages and the return to normal) is replayed in
pandapower (``gis.pandapower_io.replay_in_pandapower``) at times of the checked window: no line
above 100 % and no bus outside +-7 % unless the normal state already has that violation (same
element, at one of the replayed times, within the tolerances of ``gis.powerflow.Limits``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from gis import Grid, load_grid
from gis.pandapower_io import replay_in_pandapower, to_pandapower
from gis.powerflow import Limits
from planning.faults import FaultOptions, FaultReport, Restoration, restore
from planning.faults.synthetic import RandomGridSpec, random_grid

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Monaco"))
DEMO = Path(__file__).resolve().parents[3] / "outage_demo" / "monaco.gpkg"
LIMITS = Limits()


def test_closing_refused_by_the_power_flow_names_line_value_and_time(make_ring):
    ring = make_ring
    # L6 (the first cable of F2) carries 20 A: H1 + G1 fit (12.8 A), + E1 E2 (22.5 A) do not,
    # although F2's breaker (300 A) would take them
    grid = ring(with_t2=True, line_ratings_a={"L6": 20.0})
    r = restore(grid, "L34a", now=NOW)
    s2 = r.stages[1]
    closes = [(s.switch, s.feeder) for s in s2.steps if s.action == "close"]
    assert ("T2", "F3") in closes and "S5" not in dict(closes)  # E goes to F3 through the other tie
    why = dict(s2.rejected)["S5"]
    assert why == "power flow: line L6 at 111 % at 10:00"
    assert s2.still_out == ("X1",)
    # without the check, the old answer: S5 onto F2
    plain = restore(grid, "L34a", now=NOW, options=FaultOptions(power_flow=False))
    assert ("S5", "F2") in [(s.switch, s.feeder) for s in plain.stages[1].steps if s.action == "close"]
    assert plain.stages[1].power_flow is None


def test_power_flow_in_the_json_per_stage_and_step(ring_grid):
    j = FaultReport(None, restore(ring_grid, "L34a", now=NOW)).to_json()
    pf = j["power_flow"]
    assert pf["enabled"] and pf["from"] == NOW.isoformat() and pf["limits"]["v_min_pu"] == 0.93
    # window: crew 30 min + 5 manual ops of 15 min (2 isolation switches + 3 back) + 300 min repair
    assert datetime.fromisoformat(pf["to"]) == NOW + timedelta(minutes=30 + 15 * 5 + 300)
    for st in j["stages"]:
        s = st["power_flow"]
        assert s["ok"] and s["max_line_loading_pct"] <= 100 and 0.93 <= s["min_vm_pu"] <= s["max_vm_pu"] <= 1.07
        assert s["checked"]["count"] == pf["times"] and s["limits"] == pf["limits"]
        assert isinstance(st["rejected"], list)
    close = next(s for s in j["stages"][0]["steps"] if s["action"] == "close")
    assert close["power_flow"]["ok"] and close["power_flow"]["max_line"]
    assert j["return_to_normal"]["kind"] == "return"


def test_limits_are_options(make_ring):
    ring = make_ring
    opt = FaultOptions(power_flow_limits={"v_min_pu": 0.95, "line_loading_pct": 80.0})
    assert opt.power_flow_limits == Limits(v_min_pu=0.95, line_loading_pct=80.0)
    assert opt.to_json()["power_flow_limits"]["v_min_pu"] == 0.95
    grid = ring(with_t2=True)
    # L6 at 80 %: 20 A x 0.8 < 22.5 A, so a 25 A cable refuses the transfer at an 80 % limit only
    tight = restore(ring(with_t2=True, line_ratings_a={"L6": 25.0}), "L34a", now=NOW, options=opt)
    assert "S5" in dict(tight.stages[1].rejected)
    assert "S5" not in dict(restore(grid, "L34a", now=NOW).stages[1].rejected)


# -- pandapower replay ---------------------------------------------------------------------------


class Oracle:
    """pandapower results per element for states of one grid (one net, loads set per time)."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.net = to_pandapower(grid)
        self.index = {str(n): int(i) for i, n in self.net.switch["name"].items()}
        self.normal: dict[str, dict[str, float]] = {"line": {}, "low": {}, "high": {}}

    def run(self, opened: tuple[str, ...], closed: tuple[str, ...], at: datetime) -> tuple[dict[str, Any], Any, Any]:
        net, grid = self.net, self.grid
        p_kw = grid.customer_load_kw(at).to_numpy()
        tan = np.tan(np.arccos(grid.power_factor))
        net.load["p_mw"] = p_kw / 1000.0
        net.load["q_mvar"] = p_kw / 1000.0 * tan
        if len(net.sgen):
            dg = grid.dg[grid.dg["in_service"].astype(bool)]
            net.sgen["p_mw"] = dg["p_kw"].to_numpy(dtype=float) * grid.profile_factors([at])[grid.profile_index(dg["profile"]), 0] / 1000.0
        row = replay_in_pandapower(grid, [(opened, closed, [at])], net=net, switch_index=self.index)[0][0]
        ext = set(net.ext_grid["bus"])
        vm = net.res_bus["vm_pu"]
        vm = vm[vm.notna() & ~vm.index.isin(list(ext))]
        vm.index = net.bus.loc[vm.index, "name"].to_numpy()
        ld = net.res_line["loading_percent"].dropna()
        ld.index = net.line.loc[ld.index, "name"].to_numpy()
        return row, ld, vm

    def learn_normal(self, times: list[datetime]) -> None:
        for at in times:
            row, ld, vm = self.run((), (), at)
            assert row["converged"]
            for k, v in ld[ld > LIMITS.line_loading_pct].items():
                self.normal["line"][k] = max(self.normal["line"].get(k, 0.0), float(v))
            for k, v in vm[vm < LIMITS.v_min_pu].items():
                self.normal["low"][k] = min(self.normal["low"].get(k, 9.0), float(v))
            for k, v in vm[vm > LIMITS.v_max_pu].items():
                self.normal["high"][k] = max(self.normal["high"].get(k, 0.0), float(v))

    def new_violations(self, opened: tuple[str, ...], closed: tuple[str, ...], at: datetime) -> list[str]:
        row, ld, vm = self.run(opened, closed, at)
        if not row["converged"]:
            return [f"no solution at {at}"]
        out = []
        eps = 1e-3
        for k, v in ld[ld > LIMITS.line_loading_pct + eps].items():
            if v > self.normal["line"].get(k, -1.0) + LIMITS.tolerance_pct + eps:
                out.append(f"line {k} {v:.1f} % at {at:%H:%M}")
        tol = LIMITS.tolerance_pct / 100.0
        for k, v in vm[vm < LIMITS.v_min_pu - eps].items():
            if k not in self.normal["low"] or v < self.normal["low"][k] - tol - eps:
                out.append(f"bus {k} {v:.3f} pu at {at:%H:%M}")
        for k, v in vm[vm > LIMITS.v_max_pu + eps].items():
            if k not in self.normal["high"] or v > self.normal["high"][k] + tol + eps:
                out.append(f"bus {k} {v:.3f} pu at {at:%H:%M}")
        return out


def checked_times(r: Restoration, every: int = 1) -> list[datetime]:
    pf = r.power_flow
    assert pf is not None
    start, end = datetime.fromisoformat(pf["from"]), datetime.fromisoformat(pf["to"])
    times = [start + timedelta(minutes=15 * i) for i in range(pf["times"]) if start + timedelta(minutes=15 * i) <= end]
    return times[::every]


def replay_states(oracle: Oracle, r: Restoration, times: list[datetime]) -> list[str]:
    states = list(dict.fromkeys((o, c) for _, o, c in r.switching_states()))
    return [f"{o}/{c}: {v}" for at in times for o, c in states for v in oracle.new_violations(o, c, at)]


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_synthetic_restorations_replay_clean_in_pandapower(seed):
    spec = RandomGridSpec(substations=2, feeders_per_substation=2, sections_per_feeder=5, ties=4,
                          feeder_rating_a=(150.0, 500.0), demand_kw=(100.0, 600.0))
    grid = random_grid(seed, spec)
    oracle = Oracle(grid)
    rng = np.random.default_rng(seed)
    secs = [s for s in grid.sections() if not s.source]
    checked = 0
    for i in rng.choice(len(secs), size=3, replace=False):
        r = restore(grid, secs[int(i)].id, now=NOW)
        times = checked_times(r)[:1]  # flat loads: one time says it all
        oracle.learn_normal(times)
        assert replay_states(oracle, r, times) == []
        checked += 1
    assert checked == 3


def demo_sections(grid: Grid, n: int, seed: int) -> list[str]:
    """``n`` random cable sections of the demo city (selected by property, not by id)."""
    from planning.faults.network import section_net

    net = section_net(grid)
    cable = sorted(s.id for s in grid.sections() if not s.source and any(net.line_kind[ln] == "cable" for ln in s.lines))
    rng = np.random.default_rng(seed)
    return [cable[int(i)] for i in rng.choice(len(cable), size=n, replace=False)]


@pytest.fixture(scope="module")
def demo() -> tuple[Grid, Oracle]:
    if not DEMO.is_file():
        pytest.skip("demo city not built")
    grid = load_grid(DEMO)
    return grid, Oracle(grid)


@pytest.mark.slow
@pytest.mark.parametrize("when", ["2026-12-18T18:30:00+01:00", "2026-12-18T20:45:00+01:00"])
def test_demo_city_restorations_replay_clean_in_pandapower(demo, when):
    grid, oracle = demo
    now = datetime.fromisoformat(when)
    for sec in demo_sections(grid, 2, seed=7):
        r = restore(grid, sec, now=now)
        times = checked_times(r, every=8)  # the fault time and every 2 h of the window
        oracle.normal = {"line": {}, "low": {}, "high": {}}
        oracle.learn_normal(times)
        assert replay_states(oracle, r, times) == [], sec
