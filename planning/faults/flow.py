"""Power-flow check of restoration states: an adapter over :func:`gis.powerflow.check_state_flow`.

One :class:`FlowChecker` per fault: the times from the fault to the expected
end of the repair (and switching back) in ``power_flow_step_min`` steps, the
normal state's power flow at those times computed once (every feeder) as the
baseline, and a cache of every state already checked (keyed by the sets of
switches opened and closed against the normal state), so that a state met
again — the same closing evaluated in the next round of the loop — costs
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from gis import Grid
from gis.powerflow import Limits, StateFlow, Violation, check_state_flow


class FlowChecker:
    """AC power flow of switching states over a time window (loads from the grid's profiles).

    ``times`` are aware datetimes; ``limits`` the operating limits; with
    ``enabled=False`` every state passes and nothing is solved.
    """

    def __init__(self, grid: Grid, *, times: list[datetime], limits: Limits, enabled: bool = True) -> None:
        self.grid = grid
        self.times = times
        self.limits = limits
        self.enabled = enabled and bool(times)
        self._cache: dict[tuple[frozenset[str], frozenset[str]], StateFlow] = {}
        self._normal: StateFlow | None = None
        self.solved = 0  # states actually solved (cache misses)

    @classmethod
    def window(cls, grid: Grid, *, start: datetime, end: datetime, step_min: float, limits: Limits,
               enabled: bool = True) -> FlowChecker:
        """A checker at ``start``, ``start + step``, ... up to and including ``end`` (minutes)."""
        step = timedelta(minutes=step_min)
        times = [start]
        while times[-1] + step <= end:
            times.append(times[-1] + step)
        if times[-1] < end:
            times.append(end)
        return cls(grid, times=times, limits=limits, enabled=enabled)

    @property
    def normal(self) -> StateFlow:
        """The normal state's flow on every live feeder at the window's times (the baseline)."""
        if self._normal is None:
            self._normal = check_state_flow(self.grid, times=self.times, feeders="all", limits=self.limits,
                                            baseline=False)
        return self._normal

    def check(self, open_switches: Iterable[str], close_switches: Iterable[str]) -> StateFlow | None:
        """The state's flow (violations the normal state has too are ``pre_existing``); None when disabled."""
        if not self.enabled:
            return None
        key = (frozenset(open_switches), frozenset(close_switches))
        flow = self._cache.get(key)
        if flow is None:
            flow = check_state_flow(self.grid, open_switches=sorted(key[0]), close_switches=sorted(key[1]),
                                    times=self.times, limits=self.limits, baseline=self.normal)
            self._cache[key] = flow
            self.solved += 1
        return flow

    def summary(self, flow: StateFlow | None) -> dict[str, Any] | None:
        """JSON-ready power-flow summary of a state: worst line loading (%), voltages (pu), times, limits."""
        if flow is None:
            return None
        s = flow.summary()
        return {
            "ok": flow.ok,
            "max_line_loading_pct": s.get("max_line_loading_pct"),
            "max_line": s.get("max_line"),
            "max_line_at": s.get("max_line_at"),
            "max_switch_loading_pct": s.get("max_switch_loading_pct"),
            "min_vm_pu": s.get("min_vm_pu"),
            "min_vm_node": s.get("min_vm_node"),
            "max_vm_pu": s.get("max_vm_pu"),
            "max_vm_node": s.get("max_vm_node"),
            "feeders": s["feeders"],
            "checked": {"from": self.times[0].isoformat(), "to": self.times[-1].isoformat(), "count": len(self.times)},
            "limits": self.limits.to_dict(),
            "violations": s["violations"],
            "pre_existing": s["pre_existing"],
        }


def worst_new(flow: StateFlow) -> Violation | None:
    """The new violation (not pre-existing) furthest beyond its limit; a missing solution first."""
    new = [v for v in flow.violations if not v.pre_existing]
    if not new:
        return None

    def excess(v: Violation) -> float:
        if v.quantity == "converged":
            return float("inf")
        if v.quantity == "vm_pu":
            return abs(v.value - v.limit) * 1000.0  # 0.01 pu counts as 10 % points
        return v.value - v.limit

    return max(new, key=excess)


def reason(flow: StateFlow) -> str:
    """Why a state fails, naming the element and value: ``power flow: line L123 at 112 % at 19:15``."""
    v = worst_new(flow)
    if v is None:
        return ""
    at = v.at.strftime("%H:%M") if isinstance(v.at, datetime) else str(v.at)
    dg = " (DG producing)" if v.dg and v.quantity == "vm_pu" and v.value > v.limit else ""
    if v.quantity == "converged":
        return f"power flow: no solution (voltage collapse) at {at}"
    if v.quantity == "vm_pu":
        return f"power flow: node {v.element} at {v.value:.3f} pu at {at} (limit {v.limit:.2f} pu){dg}"
    return f"power flow: {v.kind} {v.element} at {v.value:.0f} % at {at}{dg}"
