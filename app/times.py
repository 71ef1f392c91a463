"""Times as people and files see them: the grid's local time with its UTC offset.

The database stores every time in UTC (:class:`app.models.UTCDateTime`); the API, the
exports, the notices and the outbox show them in the grid's time zone (``grid.timezone``),
so a notice list says ``2026-12-08T18:00:00+01:00`` where the notice text says
``18:00 (Europe/Monaco)``. These two functions are the one place that conversion is made.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from gis import InputError


def local(value: datetime | None, tz: tzinfo) -> datetime | None:
    """``value`` (timezone-aware, any zone) as the same instant in ``tz``; None stays None.

    A naive datetime is refused (:class:`gis.InputError`): it names no instant.
    """
    if value is None:
        return None
    if value.tzinfo is None:
        raise InputError("times must be timezone-aware", code="naive_datetime", details={"time": value.isoformat()})
    return value.astimezone(tz)


def local_iso(value: datetime | None, tz: tzinfo) -> str | None:
    """``value`` as ISO 8601 in ``tz`` with its offset (``2026-12-08T18:00:00+01:00``); None stays None."""
    at = local(value, tz)
    return at.isoformat() if at is not None else None
