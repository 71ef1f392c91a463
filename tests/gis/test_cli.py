"""The CLI's JSON shapes are a contract: checked on the small ring."""

import json
import subprocess
import sys
from pathlib import Path

RING = str(Path(__file__).resolve().parents[1] / "data" / "small_ring")


def run(*args):
    out = subprocess.run([sys.executable, "-m", "gis", *args], capture_output=True, text=True)
    assert "Traceback" not in out.stderr, out.stderr
    return out


def test_affected_json():
    out = run("affected", RING, "--open", "S1", "--json")
    assert out.returncode == 0
    doc = json.loads(out.stdout)
    assert doc == {"customers": ["C1", "C2", "C3", "C7"], "nodes": ["D1", "D2", "R2", "R3", "x1", "x2"], "count": 4}
    doc = json.loads(run("affected", RING, "--open", "S1", "--close", "T1", "--json").stdout)
    assert doc == {"customers": [], "nodes": [], "count": 0}


def test_isolate_json():
    doc = json.loads(run("isolate", RING, "R2", "--json").stdout)
    assert doc == {"switches": ["S1", "S2"], "nodes": ["D1", "D2", "R2", "R3", "x1", "x2"], "customers": ["C1", "C2", "C3", "C7"]}


def test_summary_json_and_table():
    doc = json.loads(run("summary", RING, "--json").stdout)
    assert doc["feeders"] == 2 and doc["ties"] == 1 and doc["substations"] == 2
    assert doc["customers_by_importance"] == {"first": 1, "normal": 5, "second": 1}
    assert doc["layers"]["customers"] == 7
    assert doc["km_of_line"]["cable"] > 1.0
    table = run("summary", RING).stdout
    assert "| feeders | 2 |" in table


def test_validate_json_on_a_good_grid():
    out = run("validate", RING, "--json")
    assert out.returncode == 0
    assert json.loads(out.stdout) == {"valid": True, "problems": []}


def test_bad_requests_exit_1_with_a_message():
    out = run("isolate", RING, "BA", "--json")
    assert out.returncode == 1
    assert json.loads(out.stdout)["error"]["code"] == "source_equipment"
    out = run("affected", RING, "--open", "NOPE")
    assert out.returncode == 1 and "NOPE" in out.stderr
    out = run("summary", "/no/such/grid.gpkg")
    assert out.returncode == 1 and "does not exist" in out.stderr


def test_import_pandapower(tmp_path):
    dest = tmp_path / "oberrhein.gpkg"
    out = run("import-pandapower", "mv_oberrhein", str(dest), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["summary"]["layers"]["customers"] == 147
    doc = json.loads(run("summary", str(dest), "--json").stdout)
    assert doc["substations"] == 2


def test_powerflow_json_and_bad_time():
    out = run("powerflow", RING, "--at", "2026-12-09T19:00+01:00", "--hours", "1", "--all-feeders", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    doc = json.loads(out.stdout)
    assert doc["ok"] and doc["converged"] and len(doc["checked"]) == 4 and doc["columns"] == 8
    assert set(doc["feeders"]) == {"F1", "F2"} and 0.9 < doc["min_vm_pu"] <= 1.0
    bad = run("powerflow", RING, "--at", "yesterday", "--json")
    assert bad.returncode == 1 and json.loads(bad.stdout)["error"]["code"] == "bad_time"


def test_import_pandapower_from_simbench(tmp_path):
    import pytest

    pytest.importorskip("simbench")
    dest = tmp_path / "comm.gpkg"
    out = run("import-pandapower", "simbench:1-MV-comm--0-sw", str(dest), "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)["summary"]
    assert summary["layers"]["customers"] == 98 and summary["layers"]["transformers"] == 2 and summary["layers"]["dg"] == 89
    assert summary["name"] == "simbench:1-MV-comm--0-sw" and summary["feeders"] == 10
    doc = json.loads(run("validate", str(dest), "--json").stdout)
    assert doc["valid"] and [p["code"] for p in doc["problems"]] == ["missing_rating"]
    flow = run("powerflow", str(dest), "--at", "2026-12-09T12:00+01:00", "--all-feeders", "--dg", "on", "--json")
    assert json.loads(flow.stdout)["converged"]
    bad = run("import-pandapower", "simbench:no-such-grid", str(tmp_path / "x.gpkg"), "--json")
    assert bad.returncode == 1 and json.loads(bad.stdout)["error"]["code"] == "bad_pandapower"
