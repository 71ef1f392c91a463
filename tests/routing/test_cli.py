"""``python -m routing ...``: JSON contracts and exit codes (in-process)."""

from __future__ import annotations

import csv
import json

import gpxpy
import networkx as nx
import pytest

from routing.__main__ import main
from tests.routing.conftest import DATA, line_graph


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import osmnx as ox

    d = tmp_path_factory.mktemp("cli")
    # osmnx GraphML: integer node ids (OSM ids)
    g = nx.relabel_nodes(line_graph(), {f"N{i}": 1000 + i for i in range(11)})
    ox.save_graphml(g, d / "roads.graphml")
    with (d / "access.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "lon", "lat", "name"])
        for i in range(11):
            w.writerow([f"N{i}", i * 0.001, 0.0, f"RMU {i}"])
    (d / "crews.csv").write_text(
        "id,name,depot_id,skills,shift_start,shift_end\n"
        "A,Alpha,N0,cable;switching,08:00,17:00\n"
        "B,Bravo,N10,overhead,08:00,17:00\n"
    )
    tasks = [
        {"id": "T1", "location": "N3", "service_min": 10, "weight": 10, "skills": ["cable"]},
        {"id": "T2", "location": [0.008, 0.0], "service_min": 20, "weight": 1},
        {"id": "T3", "location": "N5", "skills": "switching", "after": ["T1"]},
    ]
    (d / "tasks.json").write_text(json.dumps(tasks))
    (d / "points.csv").write_text("id,lon,lat\nN1,,\nX,0.0055,0.0\n")
    return d


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr().out
    return code, out


def test_matrix_json(files, capsys):
    code, out = run(
        capsys,
        "matrix",
        files / "roads.graphml",
        "--access",
        files / "access.csv",
        "--points",
        files / "points.csv",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    # N1 -> 0.0055: 4.5 blocks of 60 s
    assert data["seconds"] == [[0.0, 270.0], [270.0, 0.0]]
    assert data["metres"][0][1] == pytest.approx(450.0)
    assert data["origins"][0]["id"] == "N1"


def test_dispatch_json_and_gpx(files, capsys, tmp_path):
    code, out = run(
        capsys,
        "dispatch",
        files / "roads.graphml",
        "--access",
        files / "access.csv",
        "--crews",
        files / "crews.csv",
        "--tasks",
        files / "tasks.json",
        "--now",
        "2025-03-03T09:00:00+01:00",
        "--time-limit",
        "0.5",
        "--compare-greedy",
        "--geojson",
        tmp_path / "plan.geojson",
        "--json",
    )
    assert code == 0
    plan = json.loads(out)
    assert plan["status"] in ("feasible", "optimal")
    served = {s["task_id"]: r["crew_id"] for r in plan["routes"] for s in r["stops"]}
    assert served == {"T1": "A", "T3": "A", "T2": "B"}
    assert "greedy" in plan and plan["dropped"] == []
    assert json.loads((tmp_path / "plan.geojson").read_text())["type"] == "FeatureCollection"
    (tmp_path / "plan.json").write_text(out)
    code, out = run(capsys, "gpx", tmp_path / "plan.json", "--out", tmp_path / "gpx", "--json")
    assert code == 0
    files_written = json.loads(out)["files"]
    assert len(files_written) == 2
    a = next(f for f in files_written if f.endswith("A.gpx"))
    with open(a) as fh:
        assert [w.name for w in gpxpy.parse(fh).waypoints] == ["RMU 3", "RMU 5"]


def test_solve_vrplib_json(capsys):
    code, out = run(
        capsys,
        "solve-vrplib",
        DATA / "C101.vrp",
        "--time-limit",
        "1",
        "--engine",
        "pyvrp",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["instance"] == "C101"
    assert sorted(c for r in data["routes"] for c in r) == list(range(1, 101))
    assert data["vehicles"] == len(data["routes"])


@pytest.mark.parametrize(
    "argv",
    [
        ["solve-vrplib", "missing.vrp", "--time-limit", "1", "--json"],
        ["solve-vrplib", str(DATA / "C101.vrp"), "--time-limit", "0", "--json"],
        ["matrix", "missing.graphml", "--points", "p.csv", "--json"],
        ["gpx", "missing.json", "--json"],
    ],
)
def test_errors_are_json_with_exit_1(capsys, argv):
    code, out = run(capsys, *argv)
    assert code == 1
    err = json.loads(out)["error"]
    assert err["code"] and err["message"]


def test_dispatch_bad_now(files, capsys):
    code, out = run(
        capsys,
        "dispatch",
        files / "roads.graphml",
        "--crews",
        files / "crews.csv",
        "--tasks",
        files / "tasks.json",
        "--now",
        "tomorrow",
        "--json",
    )
    assert code == 1
    assert "ISO" in json.loads(out)["error"]["message"]


def test_usage_error_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["matrix"])
    assert exc.value.code == 2
