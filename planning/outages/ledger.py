"""The annual plan: a maintenance ledger (预试定检台帐) becomes the year's jobs.

A :class:`LedgerItem` is recurring work on one piece of equipment (every
``interval_months`` since ``last_done``) or one-off work due by a date
(消缺, overhaul: ``due``). :func:`propose_year` finds every occurrence due in
the year and gives each a month:

1. **Due window.** An occurrence due in month *d* may be done from month
   ``max(1, d - interval + 1)`` to *d* (never after it is due); an overdue one
   (due before the year) in its first ``overdue_months`` months (3), which
   restarts its clock. One-off items: January to their due month.
2. **Bundles per feeder** (能合必合 for the year): the occurrences on one
   feeder (normal state) are grouped, earliest due month first, into bundles
   whose windows share at least one month and whose items fall due within
   ``bundle_span_months`` (3) of each other, so one outage can cover them;
   a bundle holds at most ``max_bundle_hours`` crew-hours (a day of work).
3. **Months by season.** Bundles, the most working hours first, take the
   month of their shared window with the lowest cost: the month's relative
   load (``monthly_load``, heavy work in low-load months) plus how far the
   month's working hours would rise above the year's even share.

Each occurrence becomes a :class:`~planning.outages.jobs.Job` whose window is
its bundle's month (working days 08:00–17:00 local are the planner's business;
the window spans the whole month), so the monthly plan merges and places it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from gis import Grid
from gis.errors import InputError
from gis.records import (
    FieldProblem,
    field_parser,
    parse_id,
    read_csv_table,
    validate_rows,
)
from planning.outages.jobs import Job

MONTHS = 12


@dataclass(frozen=True)
class LedgerItem:
    """Maintenance work on ``equipment`` (a node, line or switch id).

    Recurring: ``interval_months`` > 0 and ``last_done`` (a date). One-off: ``due``.
    ``duration_min`` is the working time of one occurrence.
    """

    id: str
    equipment: str
    kind: str
    duration_min: int
    interval_months: int | None = None
    last_done: date | None = None
    due: date | None = None
    skill: str = ""
    crew_size: int = 1
    description: str = ""


LEDGER_COLUMNS = ("id", "equipment", "kind", "duration_min", "interval_months", "last_done", "due", "skill", "crew_size", "description")
LEDGER_REQUIRED = ("id", "equipment", "kind", "duration_min")


class LedgerRecord(BaseModel):
    """A ledger row as it arrives from a CSV file: the one set of rules (dates ``YYYY-MM-DD``;
    ``interval_months`` > 0 where given; unknown columns are refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: Annotated[str, field_parser(parse_id)] = Field(max_length=64)
    equipment: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1, max_length=64)
    duration_min: int = Field(ge=1, le=44640)
    interval_months: int | None = Field(default=None, ge=1, le=1200)
    last_done: date | None = None
    due: date | None = None
    skill: str = Field(default="", max_length=64)
    crew_size: int = Field(default=1, ge=1, le=50)
    description: str = Field(default="", max_length=2000)

    def to_item(self) -> LedgerItem:
        return LedgerItem(self.id, self.equipment, self.kind, self.duration_min, self.interval_months,
                          self.last_done, self.due, self.skill, self.crew_size, self.description)


def load_ledger_csv(source: str | Path | bytes | io.TextIOBase) -> tuple[list[LedgerItem], list[FieldProblem]]:
    """Ledger items from CSV (:data:`LEDGER_COLUMNS`, the first four required) and a problem per
    bad row; a file that cannot be used at all raises :class:`~gis.errors.InputError`
    (``bad_ledger_file``, ``ledger_not_found``)."""
    table = read_csv_table(source, what="ledger file", required=LEDGER_REQUIRED, allowed=LEDGER_COLUMNS,
                           code="bad_ledger_file", unreadable_code="ledger_not_found", allow_empty=False)
    good, problems = validate_rows(LedgerRecord, table, what="ledger item")
    return [r.to_item() for _, r in good], problems


@dataclass(frozen=True)
class Occurrence:
    """One time an item falls due in the year, with its allowed months (1..12) and feeder."""

    item: LedgerItem
    due: date
    first_month: int
    last_month: int
    feeder: str | None


@dataclass
class YearProposal:
    """The year's jobs, each occurrence's month and bundle, the load per month, and the rows left out."""

    year: int
    jobs: list[Job]
    occurrences: list[dict[str, Any]]
    bundles: list[dict[str, Any]]
    months: list[dict[str, Any]]
    problems: list[FieldProblem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "jobs": [j.to_dict() for j in self.jobs],
            "occurrences": self.occurrences,
            "bundles": self.bundles,
            "months": self.months,
            "errors": [p.to_dict() for p in self.problems],
        }


def check_items(grid: Grid, items: Iterable[LedgerItem]) -> tuple[list[LedgerItem], list[FieldProblem]]:
    """The items that can be planned, and one problem per item that cannot (unknown equipment,
    a zero or negative interval, no interval and no due date, a bad duration or crew size)."""
    ok: list[LedgerItem] = []
    bad: list[FieldProblem] = []
    for it in items:
        kind = grid.equipment_kind(it.equipment)
        if kind not in ("node", "line", "switch"):
            bad.append(FieldProblem("equipment", "unknown_equipment", record=it.id, message=f"no node, line or switch {it.equipment!r} in the grid"))
        elif it.interval_months is not None and it.interval_months <= 0:
            bad.append(FieldProblem("interval_months", "bad_interval", record=it.id, message=f"interval_months must be > 0, not {it.interval_months}"))
        elif it.interval_months is not None and it.last_done is None:
            bad.append(FieldProblem("last_done", "missing_last_done", record=it.id, message="a recurring item needs last_done"))
        elif it.interval_months is None and it.due is None:
            bad.append(FieldProblem("due", "no_schedule", record=it.id, message="give interval_months and last_done, or a due date"))
        elif it.duration_min <= 0 or it.crew_size <= 0:
            bad.append(FieldProblem("duration_min", "bad_number", record=it.id, message="duration_min and crew_size must be > 0"))
        else:
            ok.append(it)
    return ok, bad


def occurrences(grid: Grid, items: Iterable[LedgerItem], *, year: int, overdue_months: int = 3) -> list[Occurrence]:
    """Every time a (checked) item falls due up to the end of ``year``, with its due window
    (an item overdue before the year: its first ``overdue_months`` months)."""
    feeders = _equipment_feeders(grid)
    out: list[Occurrence] = []
    for it in items:
        for due in _due_dates(it, year=year):
            if due.year < year:  # overdue: within the first months
                first, last = 1, overdue_months
            else:
                span = it.interval_months or MONTHS
                last = due.month
                first = max(1, last - span + 1)
            out.append(Occurrence(it, due, first, last, feeders.get(it.equipment)))
    return out


def propose_year(
    grid: Grid,
    items: Iterable[LedgerItem],
    *,
    year: int,
    monthly_load: Sequence[float] | None = None,
    balance_weight: float = 1.0,
    max_bundle_hours: float = 16.0,
    overdue_months: int = 3,
    bundle_span_months: int = 3,
) -> YearProposal:
    """The year's jobs from a ledger (module docstring). ``monthly_load``: 12 relative loads of the
    grid (January first; default: the grid's ``meta.monthly_load``, else all equal);
    ``max_bundle_hours``: crew-hours one bundle (one outage's work) may hold, e.g. two crews
    for a working day; ``balance_weight``: cost of one even share of overfill against the
    whole load difference between the busiest and the quietest month; ``overdue_months``: how
    soon overdue work is done (1 = January); ``bundle_span_months``: how far apart the due months
    of one bundle's items may lie."""
    good, problems = check_items(grid, items)
    load = _monthly_load(grid, monthly_load)
    occ = occurrences(grid, good, year=year, overdue_months=overdue_months)
    bundles = _bundles(occ, max_bundle_hours=max_bundle_hours, span_months=bundle_span_months)
    month_of, hours = _assign_months(bundles, load, balance_weight=balance_weight)
    jobs, rows, brows = _jobs(grid, bundles, month_of, year=year)
    months = [
        {"month": f"{year}-{m:02d}", "relative_load": round(load[m - 1], 4), "hours": round(hours[m - 1], 2),
         "jobs": sum(len(b) for b, mm in zip(bundles, month_of, strict=True) if mm == m)}
        for m in range(1, MONTHS + 1)
    ]
    return YearProposal(year, jobs, rows, brows, months, problems)


def _due_dates(it: LedgerItem, *, year: int) -> list[date]:
    """The due dates up to the end of ``year``: an overdue item once (done in January, which
    restarts its clock), then every interval in the year."""
    end = date(year, 12, 31)
    if it.interval_months is None:
        return [it.due] if it.due is not None and it.due <= end else []
    assert it.last_done is not None
    step = it.interval_months
    first = _add_months(it.last_done, step)
    if first.year >= year:
        start, out = it.last_done, []
    else:
        start, out = date(year, 1, 1), [first]
    k = 1
    while (due := _add_months(start, step * k)) <= end:
        out.append(due)
        k += 1
    return out


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, MONTHS)
    year, month = d.year + y, m + 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(d.day, last))


def _equipment_feeders(grid: Grid) -> dict[str, str | None]:
    """Feeder of every node, line (by its first node) and switch (by its from node) in the normal state."""
    nf = grid.node_feeders().to_dict()
    out: dict[str, str | None] = dict(nf)
    for layer, col in ((grid.lines, "from_node"), (grid.switches, "from_node")):
        out.update({str(i): nf.get(n) for i, n in zip(layer["id"], layer[col], strict=True)})
    return out


def _monthly_load(grid: Grid, given: Sequence[float] | None) -> list[float]:
    raw: Any = given if given is not None else grid.meta.get("monthly_load")
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return [1.0] * MONTHS
    values = [float(x) for x in (raw.split(",") if isinstance(raw, str) else raw)]
    if len(values) != MONTHS or not all(math.isfinite(v) and v > 0 for v in values):
        raise InputError("monthly_load needs 12 positive numbers (January first)", code="bad_monthly_load")
    top = max(values)
    return [v / top for v in values]


def _bundles(occ: list[Occurrence], *, max_bundle_hours: float, span_months: int) -> list[list[Occurrence]]:
    """Per feeder, earliest due month first: an occurrence joins the open bundle while the bundle's
    window and its own still share a month, it falls due within ``span_months`` of the bundle's
    first item (work due in December is not pulled into March) and the bundle stays within
    ``max_bundle_hours``."""
    out: list[list[Occurrence]] = []
    by_feeder: dict[str | None, list[Occurrence]] = {}
    for o in occ:
        by_feeder.setdefault(o.feeder, []).append(o)
    for feeder in sorted(by_feeder, key=lambda f: (f is None, f or "")):
        group = sorted(by_feeder[feeder], key=lambda o: (o.last_month, o.first_month, o.item.id))
        current: list[Occurrence] = []
        for o in group:
            lo = max([x.first_month for x in current] + [o.first_month])
            hi = min([x.last_month for x in current] + [o.last_month])
            if current and (lo > hi or o.last_month - current[0].last_month > span_months
                            or _hours([*current, o]) > max_bundle_hours):
                out.append(current)
                current = []
            current.append(o)
        if current:
            out.append(current)
    return out


def _window(bundle: list[Occurrence]) -> tuple[int, int]:
    return max(o.first_month for o in bundle), min(o.last_month for o in bundle)


def _hours(bundle: list[Occurrence]) -> float:
    return sum(o.item.duration_min * o.item.crew_size for o in bundle) / 60.0


def _assign_months(bundles: list[list[Occurrence]], load: list[float], *, balance_weight: float) -> tuple[list[int], list[float]]:
    """The month of each bundle (most crew-hours first) and the crew-hours per month."""
    total = sum(_hours(b) for b in bundles)
    share = total / MONTHS if total else 1.0
    hours = [0.0] * MONTHS
    month_of = [0] * len(bundles)
    for i in sorted(range(len(bundles)), key=lambda i: (-_hours(bundles[i]), _window(bundles[i]))):
        lo, hi = _window(bundles[i])
        h = _hours(bundles[i])

        def cost(m: int, h: float = h) -> tuple[float, int]:
            over = max(0.0, hours[m - 1] + h - share) / share
            return load[m - 1] + balance_weight * over, m

        m = min(range(lo, hi + 1), key=cost)
        month_of[i] = m
        hours[m - 1] += h
    return month_of, hours


def _jobs(grid: Grid, bundles: list[list[Occurrence]], month_of: list[int], *, year: int) -> tuple[list[Job], list[dict[str, Any]], list[dict[str, Any]]]:
    tz = grid.timezone
    jobs: list[Job] = []
    rows: list[dict[str, Any]] = []
    brows: list[dict[str, Any]] = []
    n = 0
    for b_ix, (bundle, m) in enumerate(zip(bundles, month_of, strict=True), start=1):
        first = datetime.combine(date(year, m, 1), time(0, 0), tz)
        last_day = _add_months(date(year, m, 1), 1) - timedelta(days=1)
        last = datetime.combine(last_day, time(23, 59), tz)
        bid = f"B{year}-{b_ix:03d}"
        lo, hi = _window(bundle)
        brows.append({"bundle": bid, "feeder": bundle[0].feeder, "month": f"{year}-{m:02d}", "items": len(bundle),
                      "crew_hours": round(_hours(bundle), 2), "window": [f"{year}-{lo:02d}", f"{year}-{hi:02d}"]})
        for o in bundle:
            n += 1
            jid = f"Y{year}-{n:04d}"
            it = o.item
            text = f"{it.kind}: {it.description}".rstrip(": ") if it.description else it.kind
            jobs.append(Job(jid, (it.equipment,), it.duration_min, first, last, description=text, requested_by=f"ledger {it.id}"))
            rows.append({"job": jid, "item": it.id, "equipment": it.equipment, "kind": it.kind, "due": o.due.isoformat(),
                         "overdue": o.due.year < year, "month": f"{year}-{m:02d}", "bundle": bid, "feeder": o.feeder})
    return jobs, rows, brows
