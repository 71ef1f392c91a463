"""``python -m planning`` against the hostile catalogue (tests/hostile.py): exit 1 with an
error naming the file, option or row, never a traceback; a bad row is a job error naming
its line and field while the good rows are planned."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from planning.__main__ import main
from tests.hostile import BAD_DATES, BAD_TEXT, HUGE_NUMBERS, csv_files

from .outages.conftest import RING

NOW = "2026-11-20T08:00:00+01:00"
E, L = "2026-12-01T08:00:00+01:00", "2026-12-05T18:00:00+01:00"
HEADER = "id,equipment,duration_min,earliest,latest,description"
ROW = f"J1,R2,60,{E},{L},service"


def plan(capsys: Any, jobs: Path, *extra: str, grid: Path = RING, now: str = NOW) -> tuple[int, dict[str, Any]]:
    code = main(["plan", "--grid", str(grid), "--jobs", str(jobs), "--now", now, "--time-limit", "5", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", list(csv_files(HEADER, ROW)))
def test_broken_jobs_files_are_exit_1(tmp_path: Path, capsys: Any, name: str) -> None:
    (tmp_path / "jobs.csv").write_bytes(csv_files(HEADER, ROW)[name])
    code, doc = plan(capsys, tmp_path / "jobs.csv")
    assert code == 1 and doc["error"]["code"] == "bad_jobs_file" and "jobs file" in doc["error"]["message"], doc


@pytest.mark.parametrize("name", list(BAD_TEXT))
def test_bad_text_in_a_cell_is_exit_1_naming_the_line(tmp_path: Path, capsys: Any, name: str) -> None:
    text = f"{HEADER}\n{ROW}\nJ2,R2,60,{E},{L},{BAD_TEXT[name]}\n"
    (tmp_path / "jobs.csv").write_bytes(text.encode("utf-8", "surrogatepass"))
    code, doc = plan(capsys, tmp_path / "jobs.csv")
    assert code == 1 and doc["error"]["code"] == "bad_jobs_file"
    message = doc["error"]["message"]
    assert "line 3" in message or "not UTF-8" in message, message  # a surrogate cannot be UTF-8


@pytest.mark.parametrize("field", ["earliest", "latest"])
@pytest.mark.parametrize("name", list(BAD_DATES))
def test_dates_out_of_range_are_row_errors(tmp_path: Path, capsys: Any, field: str, name: str) -> None:
    bad = ROW.replace("J1", "J2", 1).replace(E if field == "earliest" else L, BAD_DATES[name])
    (tmp_path / "jobs.csv").write_text(f"{HEADER}\n{ROW}\n{bad}\n")
    code, doc = plan(capsys, tmp_path / "jobs.csv")
    assert code == 0 and [o["jobs"] for o in doc["outages"]] == [["J1"]]
    (err,) = [e for e in doc["errors"] if e["job"] == "J2"]
    assert err["code"] == "bad_datetime" and err["message"].startswith(f"line 3: {field}:"), err


@pytest.mark.parametrize("name", list(BAD_DATES))
def test_now_out_of_range_is_exit_1(tmp_path: Path, capsys: Any, name: str) -> None:
    (tmp_path / "jobs.csv").write_text(f"{HEADER}\n{ROW}\n")
    code, doc = plan(capsys, tmp_path / "jobs.csv", now=BAD_DATES[name])
    assert code == 1 and doc["error"]["code"] == "bad_datetime" and "1900-2200" in doc["error"]["message"]


@pytest.mark.parametrize("name", list(HUGE_NUMBERS))
def test_a_grid_with_implausible_loads_is_exit_1_naming_them(tmp_path: Path, capsys: Any, name: str) -> None:
    grid = tmp_path / "grid"
    shutil.copytree(RING, grid)
    doc = json.loads((grid / "customers.geojson").read_text())
    doc["features"][0]["properties"]["demand_kw"] = HUGE_NUMBERS[name]
    (grid / "customers.geojson").write_text(json.dumps(doc))
    (tmp_path / "jobs.csv").write_text(f"{HEADER}\n{ROW}\n")
    code, out = plan(capsys, tmp_path / "jobs.csv", grid=grid)
    assert code == 1 and out["error"]["code"] == "grid_invalid"
    cid = doc["features"][0]["properties"]["id"]
    assert "customers.demand_kw" in out["error"]["message"]
    assert any(cid in p["ids"] for p in out["error"]["details"]), out["error"]


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_options_file_not_utf8_is_exit_1(tmp_path: Path, capsys: Any, encoding: str) -> None:
    (tmp_path / "jobs.csv").write_text(f"{HEADER}\n{ROW}\n")
    (tmp_path / "options.json").write_bytes('{"name": "caf\u00e9"}'.encode(encoding))
    code, doc = plan(capsys, tmp_path / "jobs.csv", "--options", str(tmp_path / "options.json"))
    assert code == 1 and doc["error"]["code"] == "bad_options" and "UTF-8" in doc["error"]["message"]
