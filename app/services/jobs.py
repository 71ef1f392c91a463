"""Maintenance jobs in the database: record checks, grid checks, CSV import with per-row errors.

The rules of a job are :class:`planning.outages.jobs.JobRecord`'s, the same the
planning CLI applies; this module adds only what needs the grid or the
database: unknown equipment, ids already stored, ids repeated in one file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job
from gis import Grid
from gis.errors import NotFoundError
from gis.records import FieldProblem, validate_record
from planning.outages.jobs import JobRecord, read_job_rows

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


def parse_csv(grid: Grid, data: bytes, *, existing: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parse a jobs CSV; returns (rows, errors), each error ``{row, id, field, code, message}``.

    ``row`` is the line in the file (header = 1). A file that cannot be used at
    all raises :class:`~gis.errors.InputError` (see :func:`planning.outages.jobs.read_job_rows`).
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
        problems.extend(found)
        if not found:
            rows.append(_values(record))
    problems.sort(key=lambda p: p.row or 0)
    return rows, [p.to_dict() for p in problems]


def import_rows(session: Session, rows: list[dict[str, Any]]) -> list[str]:
    for values in rows:
        session.add(Job(**values))
    session.flush()
    return [r["id"] for r in rows]


def existing_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Job.id)))
