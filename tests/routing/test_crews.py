"""routing.crews / routing.io.read_crews: the roster record plus the dispatch columns."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from gis.records import RecordError
from routing.crews import CrewRecord, load_crew_records
from routing.errors import RoutingInputError
from routing.io import read_crews


def test_csv_roster_with_dispatch_columns(tmp_path: Path) -> None:
    p = tmp_path / "crews.csv"
    p.write_text("id,name,depot_id,skills,shift_start,shift_end,lon,lat,available_from,committed,active\n"
                 "A,Alpha,N0,cable,08:00,17:00,,,,,\n"
                 "B,Bravo,,overhead;switching,21:00,5:30,7.42,43.73,2026-12-02T10:30+01:00,T1;T2,yes\n"
                 "C,Charlie,N3,cable,08:00,17:00,,,,,false\n", encoding="utf-8")
    a, b = read_crews(p)  # C is not active
    assert (a.id, a.start, a.shift_start, a.shift_end, a.skills) == ("A", "N0", time(8), time(17), frozenset({"cable"}))
    assert b.start == (7.42, 43.73) and b.shift_end == time(5, 30) and b.committed == ("T1", "T2")
    assert b.available_from == datetime(2026, 12, 2, 10, 30, tzinfo=timezone(timedelta(hours=1)))


def test_json_crews_and_their_errors(tmp_path: Path) -> None:
    p = tmp_path / "crews.json"
    p.write_text(json.dumps([{"id": "A", "depot_id": "N0", "skills": ["cable"], "start": [7.4, 43.7], "end": "N3"}]))
    (a,) = read_crews(p)
    assert a.start == (7.4, 43.7) and a.end == "N3" and (a.shift_start, a.shift_end) == (time(7), time(19))
    p.write_text(json.dumps([{"id": "A", "depot_id": "N0"}, {"id": "B", "depot_id": "N0", "skills": ["flying"]}]))
    with pytest.raises(RoutingInputError, match="crews.json item 2: skills"):
        read_crews(p)
    p.write_text(json.dumps([{"id": "A", "depot_id": "N0", "available_from": "2026-12-02T10:30"}]))
    with pytest.raises(RoutingInputError, match="no UTC offset"):
        read_crews(p)
    p.write_text(json.dumps([{"id": "A"}]))
    with pytest.raises(RoutingInputError, match="^crews.json item 1: no start"):
        read_crews(p)


def test_roster_file_lists_every_bad_row(tmp_path: Path) -> None:
    p = tmp_path / "crews.csv"
    p.write_text("id,depot_id,shift_start,skills\nA,D,08:00,cable\nB,D,8h,cable\nC,D,09:00,flying\n", encoding="utf-8")
    with pytest.raises(RecordError) as exc:
        load_crew_records(p)
    assert exc.value.code == "bad_crews"
    assert [(d["row"], d["id"], d["field"]) for d in exc.value.details] == [(3, "B", "shift_start"), (4, "C", "skills")]
    with pytest.raises(RoutingInputError, match="line 3"):
        read_crews(p)
    with pytest.raises(RoutingInputError, match="cannot read"):
        read_crews(tmp_path / "none.csv")


def test_record_defaults_and_times() -> None:
    r = CrewRecord.model_validate({"id": "K1", "shift_start": "7:05", "active": " N "})
    assert (r.shift_start, r.shift_end, r.active, r.skills, r.depot_id) == ("07:05", "19:00", False, (), None)
    assert r.shift() == (time(7, 5), time(19))
