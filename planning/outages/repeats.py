"""Repeated interruptions: no customer out too often (降低设备重复停运的机率, seed 000).

The rule (options ``repeat_window_days``, ``repeat_limit``,
``repeat_limit_important``): within any ``repeat_window_days`` a customer may
lose supply at most ``repeat_limit`` times (``repeat_limit_important`` for a
customer of any grade but ``normal``), counting the executed interruptions
of the history (planned and faults, sustained ones: longer than
:data:`planning.reliability.SUSTAINED_MIN`; a staged fault counts once) and
the new outage. A limit of 0 switches the rule off for those customers.

:class:`RepeatHistory` turns the history into, per customer, the slots at which
one more interruption would break the rule; the window search drops those
starts where another start is left (a hard constraint where possible) and
keeps them otherwise, and the plan reports who is at or over the limit before
and after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from planning.reliability import SUSTAINED_MIN, Interruption

if TYPE_CHECKING:
    from planning.outages.timeline import Timeline

class RepeatHistory:
    """Past interruptions per customer (slot positions of the run's Timeline) and the rule's masks."""

    def __init__(self, tl: Timeline, history: Iterable[Interruption]) -> None:
        from planning.outages.timeline import SLOTS_PER_DAY  # (timeline imports this module)

        o = tl.options
        self.window_slots = o.repeat_window_days * SLOTS_PER_DAY
        self.limit = np.where(tl.importance == "normal", o.repeat_limit, o.repeat_limit_important).astype(np.int64)
        first: dict[int, dict[str, float]] = {}
        for r in history:
            if r.minutes <= SUSTAINED_MIN:
                continue
            pos = tl.slot_of(r.start)
            for c in tl.customer_idx(r.customers):
                if c >= 0:
                    ev = first.setdefault(int(c), {})
                    ev[r.event] = min(ev.get(r.event, pos), pos)
        self.past = {c: np.sort(np.fromiter(ev.values(), dtype=float)) for c, ev in first.items()}
        slots = np.arange(tl.n_slots, dtype=float)
        self._masks: dict[int, np.ndarray] = {}
        for c, times in self.past.items():
            if self.limit[c] > 0:
                mask = self._count(times, slots) >= self.limit[c]
                if mask.any():
                    self._masks[c] = mask

    def _count(self, times: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Events of ``times`` in the window ending at each of ``at`` (after at - window, up to at)."""
        return np.searchsorted(times, at, side="right") - np.searchsorted(times, at - self.window_slots, side="right")

    def __bool__(self) -> bool:
        return bool(self._masks)

    def hit(self, idx: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Per start: would interrupting customers ``idx`` there take one of them over its limit?"""
        out = np.zeros(len(starts), dtype=bool)
        for c in idx:
            m = self._masks.get(int(c))
            if m is not None:
                out |= m[starts]
        return out

    def over(self, idx: np.ndarray, start: int) -> list[tuple[int, int]]:
        """(customer, earlier interruptions in the window) of those ``idx`` an outage at ``start`` takes over the limit."""
        return [(int(c), int(self._count(self.past[int(c)], np.array([float(start)]))[0]))
                for c in idx if int(c) in self._masks and self._masks[int(c)][start]]

    def report(self, tl: Timeline, planned: Sequence[tuple[np.ndarray, int]]) -> dict[str, Any]:
        """Customers at or over their limit at ``now`` (the history alone) and over the whole
        plan (history + the plan's outages: each a pair of interrupted customers and start slot)."""
        now = tl.slot_of(tl.now)
        before = {c for c, t in self.past.items() if self.limit[c] > 0 and self._count(t, np.array([now]))[0] >= self.limit[c]}
        events: dict[int, list[float]] = {c: list(t) for c, t in self.past.items()}
        for idx, start in planned:
            for c in idx:
                events.setdefault(int(c), []).append(float(start))
        at_or_over, over = set(), set()
        for c, ts in events.items():
            if self.limit[c] <= 0:
                continue
            t = np.sort(np.asarray(ts))
            peak = int(self._count(t, np.append(t[t >= now], now)).max())  # windows ending from now on
            if peak >= self.limit[c]:
                at_or_over.add(c)
            if peak > self.limit[c]:
                over.add(c)
        name = tl.cust_ids
        return {
            "window_days": tl.options.repeat_window_days,
            "at_or_over_limit_before": len(before),
            "at_or_over_limit_after": len(at_or_over),
            "over_limit_after": len(over),
            "over_limit_customers": sorted(str(name[c]) for c in over)[:100],
        }
