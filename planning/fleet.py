"""The generator-truck fleet (发电车) shared by planned outages and faults.

One :class:`Generator` type, one record schema (:class:`GeneratorRecord`) and
one CSV loader (:func:`load_generators_csv`, columns ``id,name,kw,depot_id``)
for :mod:`planning.outages` and :mod:`planning.faults` alike.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from gis.errors import InputError
from gis.records import (
    FieldProblem,
    RecordError,
    field_parser,
    optional_text,
    parse_id,
    read_csv_table,
    validate_record,
    validate_row,
)

__all__ = ["CSV_COLUMNS", "Generator", "GeneratorRecord", "load_generators_csv"]

CSV_COLUMNS = ("id", "name", "kw", "depot_id")


@dataclass(frozen=True)
class Generator:
    """A mobile generator truck (发电车): ``kw`` is its rated output in kW; ``depot_id`` where it waits."""

    id: str
    name: str = ""
    kw: float = 0.0
    depot_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kw": self.kw, "depot_id": self.depot_id}


def _positive_kw(value: Any) -> float:
    try:
        kw = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        kw = math.nan
    if not (math.isfinite(kw) and kw > 0):
        raise InputError(f"expected a positive kw (rated output in kW), got {value!r}", code="bad_kw")
    return kw


class GeneratorRecord(BaseModel):
    """A generator truck as it arrives from a CSV row or an options document: the one set of rules."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: Annotated[str, field_parser(parse_id)]
    name: str = Field(default="", max_length=120)
    kw: Annotated[float, field_parser(_positive_kw)]
    depot_id: Annotated[str | None, field_parser(optional_text)] = Field(default=None, max_length=64)

    def to_generator(self) -> Generator:
        return Generator(self.id, self.name, self.kw, self.depot_id)

    @classmethod
    def parse(cls, data: Any, *, what: str = "generator") -> Generator:
        """A :class:`Generator` from a mapping ``{id, name, kw, depot_id}`` (raises :class:`RecordError`)."""
        return validate_record(cls, data, what=what).to_generator()


def load_generators_csv(source: str | Path | bytes | io.TextIOBase) -> tuple[Generator, ...]:
    """The fleet from a CSV with columns ``id,name,kw,depot_id`` (``kw`` in kW; ``name``, ``depot_id`` optional).

    A header without rows is an empty fleet. Raises :class:`~gis.errors.InputError`:
    ``unreadable_file`` when the path cannot be read, otherwise ``bad_generators``
    listing every bad row (a :class:`~gis.records.RecordError`).
    """
    what = f"generators file {source}" if isinstance(source, str | Path) else "generators file"
    table = read_csv_table(source, what=what, required=("id", "kw"), allowed=CSV_COLUMNS, code="bad_generators")
    fleet: list[Generator] = []
    problems: list[FieldProblem] = []
    for row in table.rows:
        try:
            fleet.append(validate_row(GeneratorRecord, row).to_generator())
        except RecordError as exc:
            problems.extend(exc.problems)
    if problems:
        raise RecordError(problems, what=what, code="bad_generators")
    return tuple(fleet)
