"""An outage planned on one grid version, re-checked against the next.

A new grid version may remove the equipment a job works on, remove or re-rate a switch
the switching sheet operates, change a switch's normal state, or re-connect customers so
that the work zone darkens others. :func:`recheck_outage` names each such finding, so an
unexecuted outage is flagged for re-planning instead of being silently re-read against
the new grid. Pure: grids and the outage's stored steps in, findings out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gis import Grid
from gis.diff import GridDiff

#: How many customer ids a ``customers_changed`` finding lists (the counts are always whole).
LISTED = 50

#: Device layers a switching step or a job may name.
_EQUIPMENT_LAYERS = ("switches", "lines", "nodes", "transformers")


@dataclass(frozen=True)
class Finding:
    """One reason the outage no longer holds: ``code`` (equipment_removed, equipment_changed,
    device_removed, device_changed, customers_changed) and its details."""

    code: str
    message: str
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


def work_state(steps: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """The switches open and closed during the work: ``(open, close)`` after the outage's
    ``transfer`` and ``isolate`` steps (``action`` open/close on ``device``), in step order."""
    state: dict[str, str] = {}
    for st in steps:
        device, action = st.get("device"), st.get("action")
        if st.get("phase") in ("transfer", "isolate") and device and action in ("open", "close"):
            state.pop(str(device), None)
            state[str(device)] = str(action)
    return [d for d, a in state.items() if a == "open"], [d for d, a in state.items() if a == "close"]


def recheck_outage(
    old: Grid, new: Grid, *, equipment: Iterable[str], steps: Sequence[Mapping[str, Any]], diff: GridDiff
) -> list[Finding]:
    """What changed for one outage from ``old`` to ``new`` (``diff`` = ``diff_grids(old, new)``).

    ``equipment``: the ids its jobs work on; ``steps``: its switching steps (``device``,
    ``action``, ``phase``). The customers compared are those dark in the working state
    (after the transfer and isolate steps) on each grid; devices gone from ``new`` are left
    out of its state and reported. An empty list: the outage holds on ``new`` as planned.
    """
    findings: list[Finding] = []
    removed = {i for layer in _EQUIPMENT_LAYERS for i in diff.removed.get(layer, [])}
    changed = {c.id: c for c in diff.changed if c.layer in _EQUIPMENT_LAYERS and c.kind != "attribute"}
    for eq in dict.fromkeys(str(e) for e in equipment):
        if eq in removed:
            findings.append(Finding("equipment_removed", f"the job's equipment {eq} is not in the new grid", {"id": eq}))
        elif eq in changed:
            c = changed[eq]
            findings.append(Finding("equipment_changed", f"{eq}: {c.column} {c.old} -> {c.new}", c.to_json()))
    opened, closed = work_state(steps)
    devices = list(dict.fromkeys(str(st["device"]) for st in steps if st.get("device")))
    for dev in devices:
        if dev in removed:
            findings.append(Finding("device_removed", f"switching step device {dev} is not in the new grid", {"id": dev}))
        elif dev in changed:
            c = changed[dev]
            findings.append(Finding("device_changed", f"switching step device {dev}: {c.column} {c.old} -> {c.new}",
                                    c.to_json()))
    before = _dark(old, opened, closed)
    after = _dark(new, opened, closed)
    if before != after:
        gained, lost = sorted(after - before), sorted(before - after)
        findings.append(Finding(
            "customers_changed",
            f"the work zone darkens {len(gained)} customer(s) more and {len(lost)} fewer on the new grid",
            {"added": len(gained), "removed": len(lost), "added_ids": gained[:LISTED], "removed_ids": lost[:LISTED]},
        ))
    return findings


def _dark(grid: Grid, opened: list[str], closed: list[str]) -> set[str]:
    have = set(grid.switches["id"].astype(str))
    cust = grid.affected_customers(open_switches=[s for s in opened if s in have],
                                   close_switches=[s for s in closed if s in have])
    return set(cust["id"].astype(str))
