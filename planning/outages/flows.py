"""The power-flow verdicts planning needs: is a switching state within limits at these slots?

Wraps :func:`gis.powerflow.check_state_flow` for one planning run. Loads depend on
the slot only through its day type and quarter-hour, so a state is solved once per
distinct (day type, quarter-hour) *key* (at most 288) with DG on and off (off only when
the grid has no DG), and the
verdicts are cached per state and key. Violations the normal state already has
(judged once, over every key) do not fail a state unless it makes them worse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gis.powerflow import Limits, StateFlow, Violation, check_state_flow

if TYPE_CHECKING:
    from planning.outages.timeline import Timeline

KEYS = 3 * 96  # day types x quarter-hours
MISMATCH_PU = 1e-6  # 1 W: plenty for a verdict against limits, and far fewer Newton-Raphson steps


@dataclass(frozen=True)
class KeyVerdict:
    """The verdict of one state at one key: ok, the worst values, and why not when not ok."""

    ok: bool
    max_line_loading_pct: float
    line: str | None
    min_vm_pu: float
    node: str | None
    max_vm_pu: float
    reason: str | None


StateKey = tuple[frozenset[str], frozenset[str]]


class FlowChecker:
    """Cached power-flow verdicts of switching states at planning slots (see module doc)."""

    def __init__(self, tl: Timeline, limits: Limits) -> None:
        self.tl = tl
        self.limits = limits
        self._cache: dict[StateKey, dict[int, KeyVerdict]] = {}
        self._normal: StateFlow | None = None
        self.solves = 0  # power flows run (for the plan's timings)
        dg = tl.grid.dg
        # DG tripped is a scenario only where there is DG to trip
        self.dg_mode = "both" if len(dg) and dg["in_service"].astype(bool).any() else "off"

    def keys(self, slots: np.ndarray) -> np.ndarray:
        """The (day type, quarter-hour) key of each slot."""
        tl = self.tl
        return tl.day_type[slots] * 96 + tl.slot_of_day[slots]

    def _factors(self, keys: np.ndarray) -> np.ndarray:
        return self.tl.day_factors[:, keys // 96, keys % 96]

    @property
    def normal(self) -> StateFlow:
        """The normal state at every key, all feeders: the reference for pre-existing violations."""
        if self._normal is None:
            keys = np.arange(KEYS)
            self._normal = check_state_flow(self.tl.grid, factors=self._factors(keys), labels=list(keys), feeders="all",
                                            dg=self.dg_mode, limits=self.limits, baseline=False, mismatch_pu=MISMATCH_PU, newton=False)
            self.solves += 1
        return self._normal

    def verdicts(self, opened: Iterable[str], closed: Iterable[str], slots: np.ndarray) -> list[KeyVerdict]:
        """One verdict per slot for the state (normal state with ``opened`` opened, ``closed`` closed)."""
        state = (frozenset(opened), frozenset(closed))
        cache = self._cache.setdefault(state, {})
        keys = self.keys(np.asarray(slots, dtype=np.int64))
        missing = np.array(sorted(set(keys.tolist()) - cache.keys()), dtype=np.int64)
        if len(missing):
            cache.update(self._solve(state, missing))
        return [cache[int(k)] for k in keys]

    def slots_ok(self, opened: Iterable[str], closed: Iterable[str], slots: np.ndarray) -> np.ndarray:
        return np.array([v.ok for v in self.verdicts(opened, closed, slots)], dtype=bool)

    def window_ok(self, opened: Iterable[str], closed: Iterable[str], starts: np.ndarray, width: int) -> np.ndarray:
        """Per start: the state is ok at every slot of ``[start, start + width)``."""
        starts = np.asarray(starts, dtype=np.int64)
        if not len(starts):
            return np.zeros(0, dtype=bool)
        slots = np.unique(starts[:, None] + np.arange(width)[None, :])
        ok_slot = dict(zip(slots.tolist(), self.slots_ok(opened, closed, slots).tolist(), strict=True))
        return np.array([all(ok_slot[s + k] for k in range(width)) for s in starts.tolist()], dtype=bool)

    def first_failure(self, opened: Iterable[str], closed: Iterable[str], slots: np.ndarray) -> str | None:
        """Why the state fails at the first failing slot (``"line L1 at 112 % at 18:30 ..."``), or None."""
        for slot, v in zip(np.asarray(slots).tolist(), self.verdicts(opened, closed, slots), strict=True):
            if not v.ok:
                return f"{v.reason} at {self.tl.time_of(int(slot)).isoformat()}"
        return None

    def report(self, opened: Iterable[str], closed: Iterable[str], slots: np.ndarray) -> dict[str, Any]:
        """Worst values of the state over the slots, for the plan JSON."""
        slots = np.asarray(slots, dtype=np.int64)
        vs = self.verdicts(opened, closed, slots)
        tl = self.tl
        ld = [v.max_line_loading_pct if np.isfinite(v.max_line_loading_pct) else -1.0 for v in vs]
        vm = [v.min_vm_pu if np.isfinite(v.min_vm_pu) else 9.0 for v in vs]
        i, k = int(np.argmax(ld)), int(np.argmin(vm))
        solved = max(ld) >= 0
        return {
            "ok": all(v.ok for v in vs),
            "checked_from": tl.time_of(int(slots.min())).isoformat(),
            "checked_to": tl.time_of(int(slots.max())).isoformat(),
            "slots": int(len(slots)),
            "max_line_loading_pct": round(ld[i], 1) if solved else None,
            "line": vs[i].line if solved else None,
            "max_loading_at": tl.time_of(int(slots[i])).isoformat() if solved else None,
            "min_vm_pu": round(vm[k], 4) if solved else None,
            "node": vs[k].node if solved else None,
            "min_vm_at": tl.time_of(int(slots[k])).isoformat() if solved else None,
            "max_vm_pu": round(max(v.max_vm_pu for v in vs), 4) if solved else None,
            "problems": sorted({f"{v.reason} at {tl.time_of(int(s)).isoformat()}" for s, v in zip(slots.tolist(), vs, strict=True) if not v.ok})[:5],
        }

    def _solve(self, state: StateKey, keys: np.ndarray) -> dict[int, KeyVerdict]:
        opened, closed = state
        flow = check_state_flow(self.tl.grid, open_switches=sorted(opened), close_switches=sorted(closed),
                                factors=self._factors(keys), labels=list(keys), dg=self.dg_mode, limits=self.limits,
                                baseline=self.normal, mismatch_pu=MISMATCH_PU, newton=False)
        self.solves += 1
        ok = flow.column_ok()
        worst = flow.column_worst()
        n = len(keys)
        reasons: list[str | None] = [None] * n
        for v, cols in zip(flow.violations, flow.violation_columns, strict=True):
            if v.pre_existing:
                continue
            for c in np.flatnonzero(cols.reshape(-1, n).any(axis=0)):
                if reasons[c] is None:
                    reasons[c] = _reason(v)
        return {
            int(k): KeyVerdict(bool(ok[i]), float(worst["max_line_loading_pct"][i]), _str(worst["max_line"][i]),
                               float(worst["min_vm_pu"][i]), _str(worst["min_vm_node"][i]), float(worst["max_vm_pu"][i]),
                               None if ok[i] else (reasons[i] or "no power-flow solution"))
            for i, k in enumerate(keys.tolist())
        }


def _str(x: Any) -> str | None:
    return None if x is None else str(x)


def _reason(v: Violation) -> str:
    if v.quantity == "converged":
        return "no power-flow solution (voltage collapse)"
    if v.quantity == "vm_pu":
        return f"voltage at {v.element} down to {v.value:.3f} pu (limit {v.limit:.2f})" if v.value < v.limit else (
            f"voltage at {v.element} up to {v.value:.3f} pu (limit {v.limit:.2f})")
    return f"{v.kind} {v.element} loaded up to {v.value:.0f} % (limit {v.limit:.0f} %)"
