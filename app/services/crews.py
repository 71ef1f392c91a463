"""Crews in the database: their column values from the core's roster record.

The rules of a crew are :class:`routing.crews.CrewRecord`'s, the same routing's
CLI reader applies; the API and the demo seed store what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gis.records import validate_record
from routing.crews import CrewRecord, load_crew_records

#: The fields of a crew the API may set (the record's fields).
RECORD_FIELDS = tuple(CrewRecord.model_fields)


def crew_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """A crew's column values from a request body, checked by :class:`CrewRecord`
    (raises :class:`~gis.records.RecordError`, HTTP 422)."""
    return _values(validate_record(CrewRecord, data, what="crew", typed=True))


def roster_values(path: Path) -> list[dict[str, Any]]:
    """Column values of every crew of a roster CSV (all rows good, or one error listing the bad ones)."""
    return [_values(record) for record, _ in load_crew_records(path)]


def _values(record: CrewRecord) -> dict[str, Any]:
    return {**record.model_dump(), "skills": list(record.skills)}
