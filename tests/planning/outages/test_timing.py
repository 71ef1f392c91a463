"""The one timing rule of a job (``planning.outages.jobs.timing_problem``): hand-worked edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from planning.outages.jobs import NOTICE_LEAD_DAYS, timing_problem

CET = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=CET)


def window(last_start: datetime, duration_min: int = 60) -> tuple[datetime, datetime, int]:
    """A window whose last start is ``last_start`` (earliest a day before it)."""
    return last_start - timedelta(days=1), last_start + timedelta(minutes=duration_min), duration_min


@pytest.mark.parametrize(("last_start", "lead", "code"), [
    (NOW + timedelta(days=7), 7, None),  # exactly the lead: allowed
    (NOW + timedelta(days=7) - timedelta(minutes=1), 7, "notice_too_late"),
    (NOW, 7, "notice_too_late"),  # not past yet, but no notice left
    (NOW - timedelta(minutes=1), 7, "window_past"),
    (NOW - timedelta(days=400), 7, "window_past"),
    (NOW + timedelta(days=2), 2, None),  # a shorter lead
    (NOW + timedelta(minutes=1), 0, None),  # no lead: only the past is refused
    (NOW - timedelta(minutes=1), 0, "window_past"),
])
def test_edges(last_start: datetime, lead: float, code: str | None) -> None:
    e, latest, dur = window(last_start)
    problem = timing_problem(e, latest, dur, now=NOW, notice_lead_days=lead)
    assert (problem[0] if problem else None) == code
    if problem:
        assert problem[2] == "latest"


def test_duration_counts_and_zones_do_not_matter() -> None:
    # latest 8 days away, but 2 days of work: the last start is 6 days away
    latest = NOW + timedelta(days=8)
    assert timing_problem(NOW, latest, 2 * 1440, now=NOW) is not None
    assert timing_problem(NOW, latest, 1440, now=NOW) is None
    # the same instants written in UTC give the same answer
    utc = UTC
    assert timing_problem(NOW.astimezone(utc), latest.astimezone(utc), 1440, now=NOW) is None


def test_default_lead_is_the_seeds_week() -> None:
    assert NOTICE_LEAD_DAYS == 7.0
    e, latest, dur = window(NOW + timedelta(days=6, hours=23))
    assert timing_problem(e, latest, dur, now=NOW) is not None
    problem = timing_problem(e, latest, dur, now=NOW)
    assert problem is not None and "7 days" in problem[1]
