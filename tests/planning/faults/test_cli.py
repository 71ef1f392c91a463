"""``python -m planning fault``: the JSON contract and exit codes (in-process through cli.main)."""

from __future__ import annotations

import json

import pytest

from gis import write_grid
from planning.faults.cli import main

NOW = "2026-03-02T10:00:00+01:00"


@pytest.fixture(scope="module")
def grid_dir(ring_grid, tmp_path_factory):
    d = tmp_path_factory.mktemp("ring") / "grid"
    write_grid(ring_grid.layers(), d)
    (d.parent / "generators.csv").write_text("id,name,kw,depot_id\nGEN1,Truck,500,DEP1\n", encoding="utf-8")
    return d


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_section_skips_location(capsys, grid_dir):
    code, out, _ = run(capsys, "--grid", str(grid_dir), "--section", "L34a", "--now", NOW, "--json")
    assert code == 0
    j = json.loads(out)
    assert j["schema_version"] == 1 and j["candidates"] == []
    assert set(j) >= {"candidates", "stages", "repair", "generators", "messages", "metrics"}
    assert [s["kind"] for s in j["stages"]] == ["remote", "manual"]
    assert j["stages"][1]["still_out"] == ["X1"]
    assert j["generators"][0]["generators"] == ["GEN1"]  # generators.csv next to the grid


def test_indicators_locate_then_restore(capsys, grid_dir):
    code, out, _ = run(capsys, "--grid", str(grid_dir), "--fi", "F1=1,S1=1,S2=1,S3=1,S4=0", "--now", NOW, "--json")
    assert code == 0
    j = json.loads(out)
    assert set(j["candidates"][0]["nodes"]) == {"p3", "D34", "q4"}
    assert {"nodes", "score", "reason"} <= set(j["candidates"][0])
    assert j["faulted"]["sections"] == [j["candidates"][0]["section"]]


def test_calls_file_and_breaker(capsys, grid_dir, tmp_path):
    calls = tmp_path / "calls.csv"
    calls.write_text("customer_id,time\nE1,2026-03-02T10:01+01:00\nE2,2026-03-02T10:02+01:00\n", encoding="utf-8")
    code, out, _ = run(capsys, "--grid", str(grid_dir), "--calls", str(calls), "--now", NOW, "--json")
    assert code == 0
    assert json.loads(out)["candidates"][0]["customers"] == ["E1", "E2"]
    code, out, _ = run(capsys, "--grid", str(grid_dir), "--calls", str(calls), "--now", NOW)
    assert code == 0 and "candidate 0: Node R4 below S4, feeder F1 — " in out and "explains 2 of 2 call(s)" in out
    assert "(supply lost below S4)" in out
    code, out, _ = run(capsys, "--grid", str(grid_dir), "--breaker", "F1", "--now", NOW)
    assert code == 0 and "stage remote" in out


@pytest.mark.parametrize(
    ("args", "code_name"),
    [
        (["--breaker", "NOPE"], "unknown_breaker"),
        (["--fi", "T1=1"], "no_fault_indicator"),
        (["--fi", "S1=maybe"], "bad_reading"),
        (["--section", "BA"], "busbar_fault"),
        (["--section", "L34a", "--breaker", "F1"], "bad_usage"),
    ],
)
def test_errors_are_json_with_exit_1(capsys, grid_dir, args, code_name):
    code, out, err = run(capsys, "--grid", str(grid_dir), *args, "--now", NOW, "--json")
    assert code == 1
    assert json.loads(out)["error"]["code"] == code_name
    assert err.startswith("error: ") and "Traceback" not in err


def test_naive_time_and_missing_grid(capsys, grid_dir, tmp_path):
    code, _, err = run(capsys, "--grid", str(grid_dir), "--section", "L34a", "--now", "2026-03-02T10:00")
    assert code == 1 and "offset" in err
    code, _, err = run(capsys, "--grid", str(tmp_path / "none"), "--section", "L34a", "--now", NOW)
    assert code == 1 and "Traceback" not in err


def test_usage_error_exit_2(capsys):
    code, _, _ = run(capsys, "--section", "L34a")
    assert code == 2
