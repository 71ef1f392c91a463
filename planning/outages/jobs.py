"""Maintenance jobs: the :class:`Job` model, per-job errors, the job record schema and the CSV loader.

A job asks for some equipment (node, line or switch ids) to be dead for
``duration_min`` minutes somewhere in ``[earliest, latest]`` (timezone-aware).
:class:`JobRecord` is the one set of rules for a job arriving from outside: the
planning CLI's CSV (:func:`load_jobs_csv`), the web service's CSV upload and its
JSON API all check jobs with it. Loading never raises on a bad row: each one
becomes a :class:`JobError` and the good rows are kept.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gis.errors import InputError
from gis.records import (
    ID_PATTERN,
    FieldProblem,
    clean_text,
    field_parser,
    model_problem,
    optional_text,
    parse_aware_datetime,
    parse_bool,
    parse_id,
    read_csv_table,
    split_list,
    strict_int,
    validate_rows,
)

CSV_COLUMNS = ("id", "equipment", "duration_min", "earliest", "latest", "crew", "description", "requested_by", "night_work")
REQUIRED_COLUMNS = ("id", "equipment", "duration_min", "earliest", "latest")
#: The longest job: 31 days, in minutes.
MAX_DURATION_MIN = 60 * 24 * 31


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


def window_problem(earliest: datetime, latest: datetime, duration_min: int) -> tuple[str, str, str] | None:
    """``(code, message, field)`` when ``duration_min`` minutes cannot lie in ``[earliest, latest]``."""
    if latest <= earliest:
        return "bad_window", f"latest ({latest.isoformat()}) is not after earliest ({earliest.isoformat()})", "latest"
    span = (latest - earliest).total_seconds() / 60
    if duration_min > span:
        return "duration_exceeds_window", f"duration {duration_min} min is longer than the window ({span:.0f} min)", "duration_min"
    return None


#: The advance notice customers are owed before a planned outage (days; the seeds ask 7).
NOTICE_LEAD_DAYS = 7.0


def timing_problem(
    earliest: datetime, latest: datetime, duration_min: int, *, now: datetime, notice_lead_days: float = NOTICE_LEAD_DAYS
) -> tuple[str, str, str] | None:
    """``(code, message, field)`` when a job can no longer be planned at ``now``, else None.

    ``window_past``: the last start (``latest`` - ``duration_min`` minutes) is before
    ``now``; ``notice_too_late``: the last start is less than ``notice_lead_days`` days
    after ``now``, so customers cannot be given their notice. All times timezone-aware.
    The one timing rule of a job: the planner applies it at plan time, the web service
    when a job is entered.
    """
    last_start = latest - timedelta(minutes=duration_min)
    if last_start < now:
        return ("window_past", f"the window ends {latest.isoformat()}: too late to do {duration_min} min of work "
                f"from now ({now.isoformat()})", "latest")
    if last_start < now + timedelta(days=notice_lead_days):
        return ("notice_too_late", f"the last possible start ({last_start.isoformat()}) is less than {notice_lead_days:g} "
                f"days after now ({now.isoformat()}): customers cannot be given the advance notice", "latest")
    return None


def _whole_minutes(value: Any) -> int:
    """A whole number of minutes: an integer, a whole float (``60.0``) or such a text."""
    if isinstance(value, bool) or value is None:
        raise InputError(f"expected a whole number of minutes, got {value!r}")
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise InputError(f"not a number: {value!r}") from None
    if isinstance(number, int | np.integer):
        return int(number)
    if not isinstance(number, float | np.floating) or not math.isfinite(number) or number != int(number):
        raise InputError(f"expected a whole number of minutes, got {value!r}")
    return int(number)


def _optional_crew(value: Any) -> str | None:
    text = optional_text(value)
    return None if text is None else clean_text(text)


def _equipment(value: Any) -> tuple[str, ...]:
    ids = split_list(value)
    if not ids:
        raise InputError("names no equipment", code="no_equipment")
    return ids


class JobRecord(BaseModel):
    """A job as it arrives from a CSV row or a request body: the one set of rules.

    ``equipment``: a list of node/line/switch ids or a ``;``-separated text;
    ``duration_min``: whole minutes, 1..44640 (a CSV cell may say ``60`` or ``60.0``;
    JSON needs an integer: ``"60"``, ``60.0`` and ``60.5`` are refused there, see
    :func:`gis.records.validate_record`'s ``typed``); text fields hold no NUL, no
    other control character but tab and line breaks, no unpaired surrogate;
    ``earliest``/``latest``: ISO 8601 with a UTC offset, the window the work must
    lie in; ``night_work``: any word :func:`gis.records.parse_bool` reads, blank
    = false. Unknown fields are rejected. Errors carry the codes of
    ``docs/planning.md`` (``missing_id``, ``bad_duration``, ``naive_datetime``...).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    field_codes: ClassVar[dict[str, tuple[str, str]]] = {
        "equipment": ("no_equipment", "bad_equipment"),
        "duration_min": ("bad_duration", "bad_duration"),
        "earliest": ("bad_datetime", "bad_datetime"),
        "latest": ("bad_datetime", "bad_datetime"),
    }

    id: Annotated[str, field_parser(parse_id)] = Field(pattern=ID_PATTERN)
    equipment: Annotated[tuple[Annotated[str, Field(min_length=1, max_length=64)], ...], field_parser(_equipment)] = Field(
        min_length=1, max_length=50)
    duration_min: Annotated[int, field_parser(_whole_minutes, code="bad_duration", typed=strict_int)] = Field(
        ge=1, le=MAX_DURATION_MIN)
    earliest: Annotated[datetime, field_parser(parse_aware_datetime)]
    latest: Annotated[datetime, field_parser(parse_aware_datetime)]
    crew: Annotated[str | None, field_parser(_optional_crew)] = Field(default=None, max_length=64)
    description: Annotated[str, field_parser(clean_text)] = Field(default="", max_length=2000)
    requested_by: Annotated[str, field_parser(clean_text)] = Field(default="", max_length=120)
    night_work: Annotated[bool, field_parser(lambda v: parse_bool(v, default=False), code="bad_night_work")] = False

    @model_validator(mode="after")
    def _window(self) -> JobRecord:
        problem = window_problem(self.earliest, self.latest, self.duration_min)
        if problem is not None:
            code, message, field = problem
            raise model_problem(code, message, field=field)
        return self

    def to_job(self) -> Job:
        return Job(self.id, self.equipment, self.duration_min, self.earliest, self.latest, self.crew,
                   self.description, self.requested_by, self.night_work)


@dataclass(frozen=True)
class JobRows:
    """A jobs CSV checked row by row: the good records with their line and every problem."""

    records: list[tuple[int, JobRecord]]
    problems: list[FieldProblem]


def read_job_rows(source: str | Path | bytes | io.TextIOBase, *, max_rows: int | None = None) -> JobRows:
    """Every row of a jobs CSV through :class:`JobRecord` (see :func:`load_jobs_csv` for the format).

    Raises :class:`~gis.errors.InputError` for a file that cannot be used at all:
    unreadable (``jobs_not_found``), or not UTF-8, no header, no rows, a required
    column missing, an unknown column, more than ``max_rows`` rows (``bad_jobs_file``).
    """
    table = read_csv_table(source, what="jobs file", required=REQUIRED_COLUMNS, allowed=CSV_COLUMNS,
                           code="bad_jobs_file", unreadable_code="jobs_not_found", max_rows=max_rows, allow_empty=False)
    records, problems = validate_rows(JobRecord, table, what="job")
    return JobRows(records, problems)


def load_jobs_csv(source: str | Path | bytes | io.TextIOBase) -> LoadedJobs:
    """Jobs from CSV: ``id,equipment,duration_min,earliest,latest`` (+ optional ``crew,description,
    requested_by,night_work``); equipment ids separated by ``;``; times ISO 8601 with offset.

    ``source`` is a path, the file's bytes or an open text file (UTF-8, BOM
    allowed); header names may carry spaces and capitals. A file that cannot be
    used at all raises :class:`~gis.errors.InputError` (see :func:`read_job_rows`);
    a bad row becomes one :class:`JobError` (``job`` is the row's id, or ``row N``
    when it has none; the message starts ``line N:`` and lists every problem).
    """
    rows = read_job_rows(source)
    errors: list[JobError] = []
    by_line: dict[int, list[FieldProblem]] = {}
    for p in rows.problems:
        by_line.setdefault(p.row or 0, []).append(p)
    for line, problems in by_line.items():
        who = problems[0].record or f"row {line}"
        errors.append(JobError(who, problems[0].code, f"line {line}: " + "; ".join(p.message for p in problems)))
    return LoadedJobs([r.to_job() for _, r in rows.records], errors)


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
