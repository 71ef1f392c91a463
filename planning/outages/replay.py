"""Replay a plan's switching states in pandapower: a second opinion on every state the plan hands out.

:func:`switching_states` walks an outage's ``switching_steps`` (the plan JSON) from
the normal state and lists each distinct switch state with the times at which it
holds: the working state at every 15-minute slot of the work, the transient states
(make-before-break loops, break-before-make gaps, hand-backs) at their step time.
:func:`replay_plan` runs each of them through pandapower
(:func:`gis.pandapower_io.replay_in_pandapower`) and reports every state with a line
above its loading limit or a bus outside the voltage band.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gis import Grid
from gis.powerflow import Limits

SLOT = timedelta(minutes=15)


@dataclass(frozen=True)
class SwitchingState:
    """One state of an outage's switching: switches opened/closed against the normal state."""

    outage: str
    step: int  # seq of the step that made it
    phase: str
    opened: tuple[str, ...]
    closed: tuple[str, ...]
    times: tuple[datetime, ...]


def switching_states(grid: Grid, outage: Mapping[str, Any]) -> list[SwitchingState]:
    """Every distinct state an outage's steps pass through (the normal state excluded)."""
    normally_open = dict(zip(grid.switches["id"], grid.switches["normally_open"].astype(bool), strict=True))
    opened: set[str] = set()
    closed: set[str] = set()
    working = False
    start = datetime.fromisoformat(outage["start"])
    end = datetime.fromisoformat(outage["end"])
    work_times = tuple(_slots(start, end))
    out: dict[tuple[tuple[str, ...], tuple[str, ...]], SwitchingState] = {}
    for st in outage["switching_steps"]:
        action, dev = st["action"], st["device"]
        if action == "start_work":
            working = True
        elif action == "end_work":
            working = False
        if action not in ("open", "close", "start_work") or (action != "start_work" and dev is None):
            continue
        if action == "open":
            (closed.discard(dev) if normally_open[dev] else opened.add(dev))
        elif action == "close":
            (closed.add(dev) if normally_open[dev] else opened.discard(dev))
        if not opened and not closed:
            continue
        key = (tuple(sorted(opened)), tuple(sorted(closed)))
        times = work_times if working else (datetime.fromisoformat(st["at"]),)
        prev = out.get(key)
        merged = tuple(sorted(set(times) | set(prev.times))) if prev else times
        out[key] = SwitchingState(outage["id"], int(st["seq"]), st["phase"], key[0], key[1], merged)
    return list(out.values())


def _slots(start: datetime, end: datetime) -> list[datetime]:
    out, t = [], start
    while t < end:
        out.append(t)
        t += SLOT
    return out or [start]


def replay_plan(
    grid: Grid, plan: Mapping[str, Any], *, limits: Limits | None = None, net: Any = None, switch_index: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """Replay every valid outage's states in pandapower; ``{"states": n, "checked": n, "violations": [...]}``.

    A violation is a state and time where pandapower finds a line above
    ``limits.line_loading_pct``, a transformer above ``limits.trafo_loading_pct``,
    a bus outside ``[v_min_pu, v_max_pu]`` or no solution. ``net``/``switch_index``
    as in :func:`gis.pandapower_io.replay_in_pandapower` (e.g. the original net of an
    imported grid); by default the grid's own export.
    """
    from gis.pandapower_io import replay_in_pandapower

    limits = limits or Limits()
    states = [s for o in plan["outages"] if o["valid"] for s in switching_states(grid, o)]
    results = replay_in_pandapower(grid, [(s.opened, s.closed, s.times) for s in states], net=net, switch_index=switch_index)
    violations = []
    checked = 0
    for s, rows in zip(states, results, strict=True):
        for r in rows:
            checked += 1
            bad = []
            if not r["converged"]:
                bad.append("no solution")
            else:
                if r["max_line_loading_pct"] > limits.line_loading_pct + 1e-6:
                    bad.append(f"line {r['line']} at {r['max_line_loading_pct']:.1f} %")
                if r["max_trafo_loading_pct"] > limits.trafo_loading_pct + 1e-6:
                    bad.append(f"transformer at {r['max_trafo_loading_pct']:.1f} %")
                if r["min_vm_pu"] < limits.v_min_pu - 1e-6:
                    bad.append(f"bus {r['min_vm_bus']} at {r['min_vm_pu']:.3f} pu")
                if r["max_vm_pu"] > limits.v_max_pu + 1e-6:
                    bad.append(f"bus {r['max_vm_bus']} at {r['max_vm_pu']:.3f} pu")
            if bad:
                violations.append({"outage": s.outage, "step": s.step, "phase": s.phase, "opened": list(s.opened),
                                   "closed": list(s.closed), "at": r["at"], "findings": bad, **{k: r.get(k) for k in ("max_line_loading_pct", "min_vm_pu")}})
    return {"states": len(states), "checked": checked, "violations": violations}
