"""Maintenance jobs: the :class:`Job` model, per-job errors, and the CSV loader.

A job asks for some equipment (node, line or switch ids) to be dead for
``duration_min`` minutes somewhere in ``[earliest, latest]`` (timezone-aware).
Loading never raises on a bad row: each one becomes a :class:`JobError` and
the good rows are kept.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from gis.errors import InputError

CSV_COLUMNS = ("id", "equipment", "duration_min", "earliest", "latest", "crew", "description", "requested_by", "night_work")
REQUIRED_COLUMNS = ("id", "equipment", "duration_min", "earliest", "latest")


@dataclass(frozen=True)
class Job:
    """One maintenance request.

    ``equipment``: node/line/switch ids (a ``;``-separated string is split);
    ``duration_min``: working time in minutes; ``earliest``/``latest``: the
    window the work must lie in (aware datetimes); ``crew``: team id (jobs of
    one crew in one outage are done in turn); ``night_work``: may be done
    outside working hours.
    """

    id: str
    equipment: tuple[str, ...]
    duration_min: int
    earliest: datetime
    latest: datetime
    crew: str | None = None
    description: str = ""
    requested_by: str = ""
    night_work: bool = False

    def __post_init__(self) -> None:
        eq = self.equipment
        if isinstance(eq, str):
            eq = tuple(e.strip() for e in eq.split(";") if e.strip())
        else:
            eq = tuple(str(e).strip() for e in eq if str(e).strip())
        object.__setattr__(self, "equipment", eq)
        object.__setattr__(self, "id", str(self.id))
        if self.crew is not None and not str(self.crew).strip():
            object.__setattr__(self, "crew", None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "equipment": list(self.equipment),
            "duration_min": self.duration_min,
            "earliest": self.earliest.isoformat(),
            "latest": self.latest.isoformat(),
            "crew": self.crew,
            "description": self.description,
            "requested_by": self.requested_by,
            "night_work": self.night_work,
        }


@dataclass(frozen=True)
class JobError:
    """Why a job (``job`` = its id, None for the whole request) is not planned."""

    job: str | None
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job, "code": self.code, "message": self.message}


class LoadedJobs(NamedTuple):
    """What :func:`load_jobs_csv` returns: the good jobs and an error per bad row."""

    jobs: list[Job]
    errors: list[JobError]


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


def parse_time(text: str) -> datetime:
    """An ISO 8601 datetime that must carry a UTC offset (``2026-12-01T08:00:00+01:00``)."""
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"not an ISO 8601 datetime: {text!r}", code="bad_datetime") from exc
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise InputError(f"datetime {text!r} has no UTC offset (write e.g. 2026-12-01T08:00:00+01:00)", code="naive_datetime")
    return dt


def load_jobs_csv(source: str | Path | io.TextIOBase) -> LoadedJobs:
    """Jobs from CSV: ``id,equipment,duration_min,earliest,latest,crew,description`` (+ optional
    ``requested_by``, ``night_work``); equipment ids separated by ``;``; times ISO 8601 with offset.

    ``source`` is a path or an open text file. A missing file or missing
    required column raises :class:`~gis.errors.InputError`; a bad row becomes a
    :class:`JobError` (``job`` is the row's id, or ``row N`` when it has none).
    """
    if isinstance(source, str | Path):
        p = Path(source)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(f"cannot read jobs file {p}: {exc}", code="jobs_not_found") from exc
    else:
        text = source.read()
        if text.startswith("\ufeff"):
            text = text[1:]
    reader = csv.DictReader(io.StringIO(text))
    cols = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in cols]
    if missing:
        raise InputError(
            f"jobs CSV lacks column(s) {', '.join(missing)} (expected {','.join(CSV_COLUMNS[:7])})",
            code="bad_jobs_file",
            details={"missing": missing},
        )
    reader.fieldnames = cols
    jobs: list[Job] = []
    errors: list[JobError] = []
    for line, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() if isinstance(v, str) else "" for k, v in row.items() if k is not None}
        jid = row.get("id", "")
        who = jid or f"row {line}"
        try:
            jobs.append(_row_job(row, line))
        except InputError as exc:
            errors.append(JobError(who, exc.code, f"line {line}: {exc.message}"))
    return LoadedJobs(jobs, errors)


def _row_job(row: dict[str, str], line: int) -> Job:
    if not row.get("id"):
        raise InputError("job has no id", code="missing_id")
    if not row.get("equipment"):
        raise InputError("job names no equipment", code="no_equipment")
    dur_text = row.get("duration_min", "")
    try:
        dur = float(dur_text)
    except ValueError:
        raise InputError(f"duration_min is not a number: {dur_text!r}", code="bad_duration") from None
    if not math.isfinite(dur) or dur <= 0 or dur != int(dur):
        raise InputError(f"duration_min must be a positive whole number of minutes, got {dur_text!r}", code="bad_duration")
    earliest = parse_time(row.get("earliest", ""))
    latest = parse_time(row.get("latest", ""))
    nw = row.get("night_work", "").lower()
    if nw not in _TRUE | _FALSE:
        raise InputError(f"night_work must be true/false, got {row.get('night_work')!r}", code="bad_night_work")
    return Job(
        id=row["id"],
        equipment=row["equipment"],  # type: ignore[arg-type]  # split in __post_init__
        duration_min=int(dur),
        earliest=earliest,
        latest=latest,
        crew=row.get("crew") or None,
        description=row.get("description", ""),
        requested_by=row.get("requested_by", ""),
        night_work=nw in _TRUE,
    )


def write_jobs_csv(jobs: Iterable[Job], path: str | Path) -> Path:
    """Write jobs in the format :func:`load_jobs_csv` reads (round-trips)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for j in jobs:
            w.writerow(
                [j.id, ";".join(j.equipment), j.duration_min, j.earliest.isoformat(), j.latest.isoformat(),
                 j.crew or "", j.description, j.requested_by, "true" if j.night_work else "false"]
            )
    return p
