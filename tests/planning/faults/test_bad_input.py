"""Bad input to restore(), FaultOptions and the fleet file: clear errors, never a traceback."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gis import InputError, NotFoundError
from planning.faults import FaultOptions, load_generators_csv, restore

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Monaco"))


@pytest.mark.parametrize(
    ("target", "kwargs", "error", "code"),
    [
        ("NOPE", {}, NotFoundError, "unknown_equipment"),
        ("BA", {}, InputError, "busbar_fault"),
        ("F1", {}, InputError, "busbar_fault"),  # a feeder breaker sits on the busbar section
        ("A1", {}, InputError, "not_equipment"),
        ([], {}, InputError, "no_equipment"),
        ("L34a", {"tripped_breaker": "NOPE"}, NotFoundError, "unknown_breaker"),
        ("L34a", {"tripped_breaker": "F2"}, InputError, "breaker_not_upstream"),
    ],
)
def test_bad_restore_input(ring_grid, target, kwargs, error, code):
    with pytest.raises(error) as exc:
        restore(ring_grid, target, now=NOW, **kwargs)
    assert exc.value.code == code


def test_busbar_fault_message_names_the_substation(ring_grid):
    with pytest.raises(InputError, match="substation SA"):
        restore(ring_grid, "BA", now=NOW)


def test_naive_now_is_refused(ring_grid):
    with pytest.raises(InputError) as exc:
        restore(ring_grid, "L34a", now=datetime(2026, 3, 2, 10, 0))
    assert exc.value.code == "naive_datetime"


@pytest.mark.parametrize(
    "fields",
    [
        {"capacity_margin": 1.5},
        {"repair_min": {"cable": -1}},
        {"importance_weights": {"vip": 3}},
        {"indicator_error_rate": 0.0},
        {"remote_switching_s": float("nan")},
        {"generator_threshold_min": "3h"},
    ],
)
def test_invalid_options_are_listed(fields):
    with pytest.raises(InputError) as exc:
        FaultOptions(**fields)
    assert exc.value.code == "invalid_options"


def test_options_merge_defaults():
    o = FaultOptions(repair_min={"cable": 60})
    assert o.repair_minutes("cable") == 60 and o.repair_minutes("overhead") == 150
    assert o.repair_minutes("spaceship") == o.repair_min["default"]


def test_generator_fleet_file(tmp_path):
    p = tmp_path / "generators.csv"
    p.write_text("id,name,kw,depot_id\nG1,Truck 1,500,DEP1\nG2,Truck 2,250,\n", encoding="utf-8")
    fleet = load_generators_csv(p)
    assert [(g.id, g.kw, g.depot_id) for g in fleet] == [("G1", 500.0, "DEP1"), ("G2", 250.0, None)]
    p.write_text("id,name,kw,depot_id\nG1,Truck 1,lots,DEP1\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        load_generators_csv(p)
    with pytest.raises(InputError):
        load_generators_csv(tmp_path / "missing.csv")
