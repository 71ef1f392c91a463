"""Reliability indices on the small ring, computed by hand (tests/planning/outages/conftest.py).

Customers: F1 has C1, C2, C3, C6, C7 (5), F2 has C4, C5 (2); C1 100 kW, C3 400 kW, C5 200 kW,
C6 20 kW flat; C2 50 kW and C4 80 kW "day" (1.0 from 08:00 to 18:00 on weekdays).
"""

import math
from datetime import datetime

import pytest

from gis import load_grid
from gis.errors import InputError
from planning.reliability import (
    Interruption,
    daily_saidi,
    major_event_threshold,
    reliability_report,
)

from .outages.conftest import RING


def at(text):
    return datetime.fromisoformat(text.replace(" ", "T") + "+01:00")


@pytest.fixture(scope="module")
def grid():
    return load_grid(RING)


EVENTS = [
    Interruption("E0", "planned", at("2026-11-20 10:00"), at("2026-11-20 11:00"), ("C6",)),
    # a fault restored in two stages: C3 back after 30 min, C1 and C2 after 120
    Interruption("E1", "unplanned", at("2026-12-08 10:00"), at("2026-12-08 10:30"), ("C1", "C2", "C3")),
    Interruption("E1", "unplanned", at("2026-12-08 10:30"), at("2026-12-08 12:00"), ("C1", "C2")),
    Interruption("E2", "planned", at("2026-12-15 09:00"), at("2026-12-15 13:00"), ("C4", "C5")),
    Interruption("E3", "unplanned", at("2026-12-20 03:00"), at("2026-12-20 03:03"), ("C5",)),  # momentary
    Interruption("E4", "unplanned", at("2027-01-02 10:00"), at("2027-01-02 11:00"), ("C1",)),  # after the period
]
DEC_MIN = 31 * 24 * 60


def line(df, **keys):
    sel = df
    for k, v in keys.items():
        sel = sel[sel[k] == v]
    (row,) = sel.to_dict("records")
    return row


def report(grid, rows=EVENTS, **kw):
    return reliability_report(grid, rows, start=at("2026-11-01 00:00"), end=at("2027-01-01 00:00"), **kw)


def test_indices_of_a_month_by_hand(grid):
    df, problems = report(grid)
    assert problems == []
    dec = line(df, scope="all", period="2026-12", kind="all")
    assert dec["customers_served"] == 7
    assert dec["ci"] == 5 and dec["cmi"] == 750.0 and dec["events"] == 2
    assert dec["saifi"] == pytest.approx(5 / 7)
    assert dec["saidi_min"] == pytest.approx(750 / 7)
    assert dec["caidi_min"] == pytest.approx(150.0)
    assert dec["momentary_ci"] == 1 and dec["maifi"] == pytest.approx(1 / 7)
    assert dec["asai"] == pytest.approx(1 - 750 / 7 / DEC_MIN)
    assert dec["aihc1_h"] == pytest.approx(750 / 7 / 60)
    assert dec["rs1_pct"] == pytest.approx(100 * (1 - 750 / 7 / DEC_MIN))
    # ENS: C1 100 kW x 2 h + C2 50 kW x 2 h + C3 400 kW x 0.5 h + C4 80 kW x 4 h + C5 200 kW x 4 h
    assert dec["ens_kwh"] == pytest.approx(200 + 100 + 200 + 320 + 800)


def test_planned_and_unplanned_apart(grid):
    df, _ = report(grid)
    unplanned = line(df, scope="all", period="2026-12", kind="unplanned")
    planned = line(df, scope="all", period="2026-12", kind="planned")
    assert (unplanned["ci"], unplanned["cmi"], unplanned["caidi_min"]) == (3, 270.0, pytest.approx(90.0))
    assert (planned["ci"], planned["cmi"], planned["caidi_min"]) == (2, 480.0, pytest.approx(240.0))
    whole = line(df, scope="all", period="all", kind="all")
    assert whole["ci"] == 6 and whole["cmi"] == 810.0  # November's C6 hour joins, January's does not


def test_feeders_count_their_own_customers(grid):
    df, _ = report(grid)
    f1 = line(df, scope="F1", period="2026-12", kind="all")
    f2 = line(df, scope="F2", period="2026-12", kind="all")
    assert (f1["customers_served"], f1["ci"], f1["saidi_min"]) == (5, 3, pytest.approx(54.0))
    assert (f2["customers_served"], f2["ci"], f2["saidi_min"], f2["momentary_ci"]) == (2, 2, pytest.approx(240.0), 1)


def test_major_event_days_taken_out(grid):
    daily = daily_saidi(grid, EVENTS)
    assert daily[at("2026-12-08 00:00").date()] == pytest.approx(270 / 7)
    df, _ = report(grid, med_threshold_min=10.0)
    ex = line(df, scope="all", period="2026-12", kind="all", major_event_days="excluded")
    inc = line(df, scope="all", period="2026-12", kind="all", major_event_days="included")
    assert inc["ci"] == 5 and ex["ci"] == 2  # the fault day (38.6 min) is a major event day
    assert ex["momentary_ci"] == 1  # 20 Dec (0.43 min) is not


def test_the_two_and_a_half_beta_threshold():
    assert major_event_threshold([1.0, math.e, math.e**2, 0.0]) == pytest.approx(math.exp(3.5))
    with pytest.raises(InputError):
        major_event_threshold([0.0, 3.0])


def test_month_lengths_follow_local_time_across_dst(grid):
    rows = [Interruption("M", "unplanned", at("2026-03-10 10:00"), at("2026-03-10 11:00"), ("C1",))]
    df, _ = reliability_report(grid, rows, start=at("2026-03-01 00:00"), end=at("2026-05-01 00:00").replace(
        tzinfo=datetime.fromisoformat("2026-05-01T00:00+02:00").tzinfo), by_feeder=False)
    march = line(df, scope="all", period="2026-03", kind="all")
    april = line(df, scope="all", period="2026-04", kind="all")
    assert march["asai"] == pytest.approx(1 - 60 / 7 / (31 * 24 * 60 - 60))  # 29 March has 23 hours
    assert april["asai"] == 1.0 and april["ci"] == 0


def test_bad_rows_are_named_and_the_rest_counted(grid):
    bad = [
        Interruption("X1", "unplanned", at("2026-12-09 10:00"), at("2026-12-09 11:00"), ("C1", "NOPE")),
        Interruption("X2", "storm", at("2026-12-09 10:00"), at("2026-12-09 11:00"), ("C1",)),
        Interruption("X3", "planned", at("2026-12-09 11:00"), at("2026-12-09 10:00"), ("C1",)),
        Interruption("X4", "planned", datetime(2026, 12, 9, 10), datetime(2026, 12, 9, 11), ("C1",)),
    ]
    df, problems = report(grid, EVENTS + bad)
    assert [(p.record, p.code) for p in problems] == [
        ("X1", "unknown_customer"), ("X2", "bad_kind"), ("X3", "bad_window"), ("X4", "naive_datetime")]
    assert "NOPE" in problems[0].message
    assert line(df, scope="all", period="2026-12", kind="all")["ci"] == 5


def test_a_report_window_must_be_aware_and_forward(grid):
    with pytest.raises(InputError):
        reliability_report(grid, EVENTS, start=at("2027-01-01 00:00"), end=at("2026-12-01 00:00"))
