"""Maintenance jobs in the database: record checks, grid checks, CSV import with per-row errors.

The rules of a job are :class:`planning.outages.jobs.JobRecord`'s, the same the
planning CLI applies; this module adds only what needs the grid or the
database: unknown equipment, ids already stored, ids repeated in one file; and the core's
timing rule (:func:`planning.outages.jobs.timing_problem`) at the service's planning time,
so a job whose window is over or too close for the customers' notice is refused on entry.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job
from gis import Grid
from gis.errors import NotFoundError
from gis.records import FieldProblem, RecordError, validate_record
from planning.outages.jobs import JobRecord, read_job_rows, timing_problem

MAX_ROWS = 20_000
#: The fields of a job the API may set (the record's fields).
RECORD_FIELDS = tuple(JobRecord.model_fields)


def job_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """A job's column values from a request body, checked by :class:`JobRecord`
    (raises :class:`~gis.records.RecordError`, HTTP 422)."""
    record = validate_record(JobRecord, data, what="job", typed=True)
    return _values(record)


def _values(record: JobRecord) -> dict[str, Any]:
    return {**record.model_dump(), "equipment": list(record.equipment)}


def unknown_equipment(grid: Grid, equipment: Iterable[str]) -> list[str]:
    return [e for e in equipment if grid.equipment_kind(e) not in ("node", "line", "switch")]


def validate_job(grid: Grid, values: Mapping[str, Any]) -> None:
    """Unknown equipment is :class:`~gis.errors.NotFoundError` (404)."""
    unknown = unknown_equipment(grid, values.get("equipment", []))
    if unknown:
        message = f"unknown equipment: {', '.join(unknown[:10])}"
        raise NotFoundError(message, details={"equipment": message})


#: When a job is entered: ``now`` (aware) and the notice lead in days.
Timing = tuple[datetime, float]


def timing_check(values: Mapping[str, Any], timing: Timing, *, row: int | None = None) -> FieldProblem | None:
    """The core's timing rule for a job's values (``window_past``, ``notice_too_late``) at
    ``timing`` = (now, notice lead in days); None when the job can still be planned."""
    now, lead_days = timing
    problem = timing_problem(values["earliest"], values["latest"], int(values["duration_min"]), now=now,
                             notice_lead_days=lead_days)
    if problem is None:
        return None
    code, message, field = problem
    return FieldProblem(field, code, message, row, values.get("id"))


def check_timing(values: Mapping[str, Any], timing: Timing) -> None:
    """Raise :class:`~gis.records.RecordError` (HTTP 422, ``code`` the rule's) when the job
    can no longer be planned with its notice (see :func:`timing_check`)."""
    found = timing_check(values, timing)
    if found is not None:
        raise RecordError([found], what="job", code=found.code)


def shift_into_future(rows: list[dict[str, Any]], *, now: datetime, lead_days: float) -> int:
    """Move the rows' windows (``earliest``, ``latest``) forward by whole weeks, in place, so that
    the earliest window starts at least a day after ``now`` + the notice lead: a demo month keeps
    its weekdays and times of day whatever day it is loaded. Returns the weeks moved (0 when
    the rows are ahead already or there are none)."""
    if not rows:
        return 0
    first = min(r["earliest"] for r in rows)
    gap = now + timedelta(days=lead_days + 1) - first
    weeks = max(0, math.ceil(gap / timedelta(weeks=1)))
    for r in rows:
        r["earliest"] += timedelta(weeks=weeks)
        r["latest"] += timedelta(weeks=weeks)
    return weeks


def parse_csv(grid: Grid, data: bytes, *, existing: set[str],
              timing: Timing | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parse a jobs CSV; returns (rows, errors), each error ``{row, id, field, code, message}``.

    ``row`` is the line in the file (header = 1). A file that cannot be used at
    all raises :class:`~gis.errors.InputError` (see :func:`planning.outages.jobs.read_job_rows`).
    ``timing`` (now, notice lead in days) checks each row with :func:`timing_check`; None
    leaves the timing to the plan (the demo seed: its calendar is fixed, the plans judge it).
    """
    checked = read_job_rows(data, max_rows=MAX_ROWS)
    problems = list(checked.problems)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line, record in checked.records:
        found = []
        if record.id in seen:
            found.append(FieldProblem("id", "duplicate_id", "duplicate id in the file", line, record.id))
        elif record.id in existing:
            found.append(FieldProblem("id", "id_exists", "a job with this id exists", line, record.id))
        seen.add(record.id)
        unknown = unknown_equipment(grid, record.equipment)
        if unknown:
            found.append(FieldProblem("equipment", "unknown_equipment", f"unknown equipment: {', '.join(unknown[:10])}",
                                      line, record.id))
        values = _values(record)
        late = timing_check(values, timing, row=line) if timing is not None else None
        if late is not None:
            found.append(late)
        problems.extend(found)
        if not found:
            rows.append(values)
    problems.sort(key=lambda p: p.row or 0)
    return rows, [p.to_dict() for p in problems]


def import_rows(session: Session, rows: list[dict[str, Any]]) -> list[str]:
    for values in rows:
        session.add(Job(**values))
    session.flush()
    return [r["id"] for r in rows]


def existing_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Job.id)))
