"""``python -m routing`` against the hostile catalogue (tests/hostile.py): exit 1 with a JSON
error naming the file and row (or field), never a traceback; a point farther than
``--max-snap-m`` from every road (lon and lat swapped) is refused, not snapped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from routing.__main__ import main
from tests.hostile import BAD_DATES, BAD_TEXT, csv_files
from tests.routing.test_cli import files  # noqa: F401  (the module fixture: roads, access points, crews, tasks)


def run(capsys: Any, *argv: Any) -> tuple[int, dict[str, Any]]:
    code = main([str(a) for a in argv])
    return code, json.loads(capsys.readouterr().out)


def matrix(capsys: Any, files: Path, points: Path, *extra: Any) -> tuple[int, dict[str, Any]]:  # noqa: F811
    return run(capsys, "matrix", files / "roads.graphml", "--access", files / "access.csv", "--points", points, "--json", *extra)


def test_swapped_lon_lat_is_refused_naming_the_row(files: Path, tmp_path: Path, capsys: Any) -> None:  # noqa: F811
    (tmp_path / "p.csv").write_text("id,lon,lat\nA,0.002,0.0\nB,0.0,0.002\n")  # B: 222 m north of the road
    code, doc = matrix(capsys, files, tmp_path / "p.csv", "--max-snap-m", 100)
    assert code == 1 and doc["error"]["code"] == "off_network"
    assert "row 2" in doc["error"]["message"] and doc["error"]["details"]["row"] == 2
    assert doc["error"]["details"]["snap_distance_m"] == pytest.approx(222.4, abs=1)
    code, doc = matrix(capsys, files, tmp_path / "p.csv")  # within the default 250 m
    assert code == 0 and doc["origins"][1]["snap_distance_m"] == pytest.approx(222.4, abs=1)


@pytest.mark.parametrize("name", list(csv_files("id,lon,lat", "X,0.002,0.0")))
def test_broken_points_files_are_exit_1(files: Path, tmp_path: Path, capsys: Any, name: str) -> None:  # noqa: F811
    (tmp_path / "p.csv").write_bytes(csv_files("id,lon,lat", "X,0.002,0.0")[name])
    code, doc = matrix(capsys, files, tmp_path / "p.csv")
    assert code == 1 and str(tmp_path / "p.csv") in doc["error"]["message"], doc


@pytest.mark.parametrize("name", list(csv_files("id,name,depot_id", "A,Alpha,N0")))
def test_broken_crews_files_are_exit_1(files: Path, tmp_path: Path, capsys: Any, name: str) -> None:  # noqa: F811
    (tmp_path / "crews.csv").write_bytes(csv_files("id,name,depot_id", "A,Alpha,N0")[name])
    code, doc = run(capsys, "dispatch", files / "roads.graphml", "--access", files / "access.csv", "--crews",
                    tmp_path / "crews.csv", "--tasks", files / "tasks.json", "--now", "2026-12-02T10:00:00+01:00", "--json")
    assert code == 1 and doc["error"]["message"], doc


@pytest.mark.parametrize("name", list(BAD_TEXT))
def test_bad_text_in_a_tasks_file_names_the_field(files: Path, tmp_path: Path, capsys: Any, name: str) -> None:  # noqa: F811
    tasks = [{"id": "T1", "location": "N3"}, {"id": "T2", "location": "N4", "name": BAD_TEXT[name]}]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    code, doc = run(capsys, "dispatch", files / "roads.graphml", "--access", files / "access.csv", "--crews",
                    files / "crews.csv", "--tasks", tmp_path / "tasks.json", "--now", "2026-12-02T10:00:00+01:00", "--json")
    assert code == 1 and doc["error"]["details"]["field"] == "[1].name", doc


@pytest.mark.parametrize("name", list(BAD_DATES))
def test_dates_out_of_range_are_exit_1(files: Path, tmp_path: Path, capsys: Any, name: str) -> None:  # noqa: F811
    base = ("dispatch", files / "roads.graphml", "--access", files / "access.csv", "--crews", files / "crews.csv")
    code, doc = run(capsys, *base, "--tasks", files / "tasks.json", "--now", BAD_DATES[name], "--json")
    assert code == 1 and "1900-2200" in doc["error"]["message"]
    (tmp_path / "tasks.json").write_text(json.dumps([{"id": "T1", "location": "N3", "window_end": BAD_DATES[name]}]))
    code, doc = run(capsys, *base, "--tasks", tmp_path / "tasks.json", "--now", "2026-12-02T10:00:00+01:00", "--json")
    assert code == 1 and "row 1" in doc["error"]["message"] and "1900-2200" in doc["error"]["message"], doc
