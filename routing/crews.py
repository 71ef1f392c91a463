"""Crew records: the one schema of a crew roster entry, and the roster file reader.

A roster entry (:class:`CrewRecord`) is what the service stores about a crew and
what ``crews.csv`` holds: ``id,name,depot_id,skills,shift_start,shift_end``
(+ ``active``). Routing's CLI reader (:func:`routing.io.read_crews`), the web
service's API and its demo seed all check crews with it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gis.errors import InputError
from gis.records import (
    ID_PATTERN,
    FieldProblem,
    RecordError,
    Row,
    field_parser,
    optional_text,
    parse_bool,
    parse_id,
    read_csv_table,
    split_list,
    validate_row,
)

__all__ = ["CSV_COLUMNS", "SKILLS", "CrewRecord", "load_crew_records"]

#: The skills a crew can have (a task lists the ones it needs).
SKILLS = ("cable", "overhead", "switching", "generator")
Skill = Literal["cable", "overhead", "switching", "generator"]

HHMM_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def _hhmm(value: Any) -> str:
    """A time of day as ``HH:MM`` (``7:30`` and ``datetime.time`` are accepted)."""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    m = _HHMM.match(value.strip()) if isinstance(value, str) else None
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise InputError(f"expected a time of day HH:MM, got {value!r}")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


class CrewRecord(BaseModel):
    """A crew's roster entry: the one set of rules for crews from files and requests.

    ``depot_id``: where the crew starts and ends its shift (an access-point id);
    ``skills``: a list or a ``;``-separated text of :data:`SKILLS`;
    ``shift_start``/``shift_end``: local times of day ``HH:MM`` (an end at or
    before the start runs past midnight), 07:00-19:00 when not given;
    ``active``: in service (any word :func:`gis.records.parse_bool` reads;
    blank = true). Unknown fields are rejected.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: Annotated[str, field_parser(parse_id)] = Field(pattern=ID_PATTERN)
    name: str = Field(default="", max_length=120)
    depot_id: Annotated[str | None, field_parser(optional_text)] = Field(default=None, max_length=64)
    skills: Annotated[tuple[Skill, ...], field_parser(split_list)] = Field(default=(), max_length=10)
    shift_start: Annotated[str, field_parser(_hhmm)] = Field(default="07:00", pattern=HHMM_PATTERN)
    shift_end: Annotated[str, field_parser(_hhmm)] = Field(default="19:00", pattern=HHMM_PATTERN)
    active: Annotated[bool, field_parser(lambda v: parse_bool(v, default=True))] = True

    def shift(self) -> tuple[time, time]:
        """The shift as local times of day."""
        return time.fromisoformat(self.shift_start), time.fromisoformat(self.shift_end)


CSV_COLUMNS = tuple(CrewRecord.model_fields)


def load_crew_records(
    source: str | Path | bytes | io.TextIOBase, *, extra_columns: Iterable[str] = ()
) -> list[tuple[CrewRecord, dict[str, str]]]:
    """Every crew of a roster CSV (columns :data:`CSV_COLUMNS`, ``id`` required), with
    the cells of ``extra_columns`` (columns the caller reads itself) per crew.

    Raises :class:`~gis.errors.InputError` (``bad_crews``) for a file that cannot
    be used, and :class:`~gis.records.RecordError` (``bad_crews``) listing every
    bad row; nothing is returned half-read.
    """
    extra = tuple(extra_columns)
    what = f"crews file {source}" if isinstance(source, str | Path) else "crews file"
    table = read_csv_table(source, what=what, required=("id",), allowed=CSV_COLUMNS + extra, code="bad_crews")
    out: list[tuple[CrewRecord, dict[str, str]]] = []
    problems: list[FieldProblem] = []
    for row in table.rows:
        fields, extras = split_fields(row.cells, extra)
        try:
            out.append((validate_row(CrewRecord, Row(row.line, fields, row.extra), what="crew"), extras))
        except RecordError as exc:
            problems.extend(exc.problems)
    if problems:
        raise RecordError(problems, what=what, code="bad_crews")
    return out


def split_fields(data: Mapping[str, Any], extra: Iterable[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``data`` split into (record fields, the fields named in ``extra``)."""
    extra = set(extra)
    return {k: v for k, v in data.items() if k not in extra}, {k: v for k, v in data.items() if k in extra}
