"""Rolling plans: published outages stay where they are (the notices sent must stay true).

A :class:`FixedOutage` is an outage already published or executed: the
window, the equipment it isolates, the feeders it holds (de-energised or
receiving a transfer), its crews, trucks and interrupted customers. The
planner (``plan_outages(..., fixed=...)``):

* leaves out the jobs a fixed outage already does;
* lets a new job **join** a fixed outage when that changes neither its dark
  customers nor its window: the job's equipment lies inside the fixed
  outage's isolated area (the same isolating switches), its crew is not one
  of the fixed outage's, and its own window holds ``duration_min`` inside the
  fixed window;
* otherwise plans **around** it: a start at which a new outage would hold one
  of the fixed outage's feeders or crews during its window is dropped
  (``rejected_starts.fixed_outages``); its trucks are busy in its window (plus
  set-up); its customers count for the repeated-interruption rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from gis.errors import InputError

if TYPE_CHECKING:
    from planning.outages.timeline import Timeline


@dataclass(frozen=True)
class FixedOutage:
    """A published or executed outage (aware datetimes; ids of the grid and the fleet)."""

    id: str
    start: datetime
    end: datetime
    equipment: tuple[str, ...]
    feeders: tuple[str, ...] = ()
    crews: tuple[str, ...] = ()
    generators: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()  # the jobs it already does (not planned again)

    @classmethod
    def from_json(cls, outage: Mapping[str, Any], *, crews: Mapping[str, str | None] | None = None) -> FixedOutage:
        """From one outage of ``Plan.to_json()``; ``crews`` maps its job ids to their crews."""
        try:
            zone = outage["zone"]
            feeders = [*zone.get("feeders", ()), *(t["to_feeder"] for t in outage.get("transfers", ()))]
            return cls(
                id=str(outage["id"]),
                start=datetime.fromisoformat(outage["start"]),
                end=datetime.fromisoformat(outage["end"]),
                equipment=tuple(zone["equipment"]),
                feeders=tuple(dict.fromkeys(str(f) for f in feeders)),
                crews=tuple(sorted({c for j in outage.get("jobs", ()) if (c := (crews or {}).get(j))})),
                generators=tuple(str(g["generator"]) for g in outage.get("generators", ())),
                customers=tuple(str(c) for c in outage.get("customers", ())),
                jobs=tuple(str(j) for j in outage.get("jobs", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"fixed outage {outage.get('id')!r} is not a plan outage: {exc}", code="bad_fixed_outage") from exc


def check_fixed(grid: Any, fixed: Iterable[FixedOutage]) -> tuple[list[FixedOutage], list[tuple[str, str]]]:
    """The fixed outages that still fit the grid, and ``(id, reason)`` for those that do not
    (equipment or feeders no longer in the grid, naive or reversed times)."""
    feeders = set(grid.feeders["id"])
    ok: list[FixedOutage] = []
    bad: list[tuple[str, str]] = []
    for f in fixed:
        gone = [e for e in f.equipment if grid.equipment_kind(e) not in ("node", "line", "switch")]
        if f.start.tzinfo is None or f.end.tzinfo is None or f.end <= f.start:
            bad.append((f.id, "its start and end must be aware datetimes, start before end"))
        elif not f.equipment or gone:
            bad.append((f.id, f"its equipment is not in the grid: {', '.join(gone[:5]) or 'none given'}"))
        elif set(f.feeders) - feeders:
            bad.append((f.id, f"unknown feeder(s) {', '.join(sorted(set(f.feeders) - feeders)[:5])}"))
        else:
            ok.append(f)
    return ok, bad


class FixedSet:
    """The fixed outages of one planning run on its Timeline's slots."""

    def __init__(self, tl: Timeline, fixed: Iterable[FixedOutage]) -> None:
        self.outages = list(fixed)
        self.slots = [(tl.slot_of(f.start), tl.slot_of(f.end)) for f in self.outages]
        self.holds = [{f"feeder:{x}" for x in f.feeders} | {f"crew:{c}" for c in f.crews} for f in self.outages]

    def __bool__(self) -> bool:
        return bool(self.outages)

    def blocked(self, starts: np.ndarray, duration_slots: float, held: list[frozenset[str]]) -> np.ndarray:
        """Per start (slots, with the resources ``held`` there): does the outage overlap a fixed
        outage in time and hold one of its feeders or crews?"""
        out = np.zeros(len(starts), dtype=bool)
        for (a, b), holds in zip(self.slots, self.holds, strict=True):
            overlap = (starts < b) & (starts + duration_slots > a)
            for j in np.flatnonzero(overlap):
                out[j] |= bool(holds & held[j])
        return out

    def busy_trucks(self) -> dict[str, list[tuple[datetime, datetime]]]:
        """Each truck of a fixed outage with the windows it is taken (set-up not included)."""
        out: dict[str, list[tuple[datetime, datetime]]] = {}
        for f in self.outages:
            for g in f.generators:
                out.setdefault(g, []).append((f.start, f.end))
        return out
