"""Maintenance jobs: validation against the grid, CSV import with per-row errors."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job
from gis import Grid
from gis.errors import InputError, NotFoundError

ID_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
CSV_COLUMNS = ("id", "equipment", "duration_min", "earliest", "latest", "crew", "description", "requested_by", "night_work")
REQUIRED = ("id", "equipment", "duration_min", "earliest", "latest")
MAX_ROWS = 20_000
TRUE = {"1", "true", "yes", "y"}
FALSE = {"", "0", "false", "no", "n"}


def check_job(grid: Grid, values: dict[str, Any]) -> list[tuple[str, str]]:
    """Field problems of a job against the grid: [(field, message)]."""
    problems = []
    unknown = [e for e in values.get("equipment", []) if grid.equipment_kind(e) not in ("node", "line", "switch")]
    if unknown:
        problems.append(("equipment", f"unknown equipment: {', '.join(unknown[:10])}"))
    e, la, d = values.get("earliest"), values.get("latest"), values.get("duration_min")
    if e is not None and la is not None:
        if la <= e:
            problems.append(("latest", "latest must be after earliest"))
        elif d is not None and (la - e).total_seconds() < d * 60:
            problems.append(("duration_min", "duration longer than the window earliest..latest"))
    return problems


def validate_job(grid: Grid, values: dict[str, Any]) -> None:
    problems = check_job(grid, values)
    if problems:
        field = problems[0][0]
        exc_cls = NotFoundError if field == "equipment" else InputError
        raise exc_cls(problems[0][1], details={f: m for f, m in problems})


def _aware(text: str, field: str) -> datetime:
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{field}: not an ISO 8601 date-time: {text!r}") from None
    if dt.tzinfo is None:
        raise ValueError(f"{field}: needs a UTC offset (e.g. 2026-12-01T08:00+01:00)")
    return dt


def parse_csv(grid: Grid, data: bytes, *, existing: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parse a jobs CSV; returns (rows, errors) where each error is {row, id, field, message}.

    ``row`` is the line number in the file (header = 1).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the CSV is not UTF-8 (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"CSV header lacks column(s): {', '.join(missing)}", details={"header": header, "required": list(REQUIRED)})
    extra = [c for c in header if c not in CSV_COLUMNS]
    if extra:
        raise InputError(f"unknown CSV column(s): {', '.join(extra)}", details={"allowed": list(CSV_COLUMNS)})
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    try:
        for n, raw in enumerate(reader, start=2):
            if n - 1 > MAX_ROWS:
                raise InputError(f"more than {MAX_ROWS} rows")
            if None in raw:
                errors.append({"row": n, "id": raw.get("id"), "field": None, "message": "more values than columns"})
                continue
            row_errors: list[dict[str, Any]] = []
            jid = (raw.get("id") or "").strip()

            def err(field: str | None, message: str, *, _n: int = n, _jid: str = jid, _errs: list[dict[str, Any]] = row_errors) -> None:
                _errs.append({"row": _n, "id": _jid or None, "field": field, "message": message})

            if not ID_RE.match(jid):
                err("id", "id must be 1-64 letters, digits or _.:-")
            elif jid in seen:
                err("id", "duplicate id in the file")
            elif jid in existing:
                err("id", "a job with this id exists")
            seen.add(jid)
            equipment = [e.strip() for e in (raw.get("equipment") or "").split(";") if e.strip()]
            if not equipment:
                err("equipment", "no equipment")
            values: dict[str, Any] = {"id": jid, "equipment": equipment}
            try:
                d = int((raw.get("duration_min") or "").strip())
                if not 1 <= d <= 60 * 24 * 31:
                    raise ValueError
                values["duration_min"] = d
            except ValueError:
                err("duration_min", f"duration_min must be a whole number of minutes 1..44640, got {raw.get('duration_min')!r}")
            for field in ("earliest", "latest"):
                try:
                    values[field] = _aware(raw.get(field) or "", field)
                except ValueError as exc:
                    err(field, str(exc))
            nw = (raw.get("night_work") or "").strip().lower()
            if nw not in TRUE | FALSE:
                err("night_work", f"night_work must be true/false, got {raw.get('night_work')!r}")
            values["night_work"] = nw in TRUE
            for field, limit in (("crew", 64), ("description", 2000), ("requested_by", 120)):
                v = (raw.get(field) or "").strip()
                if len(v) > limit:
                    err(field, f"{field} longer than {limit} characters")
                values[field] = v or ("" if field != "crew" else None)
            if not row_errors:
                for field, message in check_job(grid, values):
                    err(field, message)
            if row_errors:
                errors.extend(row_errors)
            else:
                rows.append(values)
    except csv.Error as exc:
        raise InputError(f"unreadable CSV: {exc}") from None
    if not rows and not errors:
        raise InputError("the CSV has no rows")
    return rows, errors


def import_rows(session: Session, rows: list[dict[str, Any]]) -> list[str]:
    for values in rows:
        session.add(Job(**values))
    session.flush()
    return [r["id"] for r in rows]


def existing_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Job.id)))
