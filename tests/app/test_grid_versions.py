"""Grid versions over the API: upload (validated whole), diff, open outages re-checked,
activation with an effective time; plans, outages and faults name their version.
SQLite and, with TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gis import Grid
from gis.format import write_grid

TZ = ZoneInfo("Europe/Monaco")


def gpkg(grid: Grid, tmp_path: Path, name: str, edit: Any = None) -> bytes:
    layers = grid.layers()
    if edit is not None:
        edit(layers)
    return write_grid(layers, tmp_path / name).read_bytes()


def move_c1_to_d2(layers: dict) -> None:
    layers["customers"].loc[layers["customers"]["id"] == "C1", "node_id"] = "D2"


def upload(client: Any, headers: dict, data: bytes, name: str = "grid.gpkg", note: str = "") -> Any:
    return client.post("/api/grid/versions", data={"file": (io.BytesIO(data), name), "note": note},
                       headers=headers, content_type="multipart/form-data")


def node_of(client: Any, headers: dict, customer: str) -> str:
    doc = client.get("/api/grid/layers/customers", headers=headers).json
    return next(f["properties"]["node_id"] for f in doc["features"] if f["properties"]["id"] == customer)


def plan_l3(client: Any, tokens: Any) -> tuple[int, dict]:
    """A job on L3 two weeks ahead (real time: the re-check looks at outages not yet over)."""
    day = datetime.now(TZ).replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=14)
    job = {"id": "JL3", "equipment": ["L3"], "duration_min": 120, "earliest": day.isoformat(),
           "latest": (day + timedelta(days=3, hours=10)).isoformat()}
    assert client.post("/api/jobs", json=job, headers=tokens["planner"]).status_code == 201
    r = client.post("/api/plans", json={"now": datetime.now(TZ).isoformat()}, headers=tokens["planner"])
    assert r.status_code == 202, r.json
    plan = client.get(f"/api/plans/{r.json['plan']['id']}", headers=tokens["planner"]).json
    assert plan["status"] == "done" and len(plan["outages"]) == 1, plan
    return plan["id"], plan["outages"][0]


def test_the_start_up_grid_is_version_1_and_served(client: Any, tokens: Any) -> None:
    doc = client.get("/api/grid/versions", headers=tokens["viewer"]).json
    assert doc["served"] == 1
    [v] = doc["items"]
    assert (v["id"], v["status"], v["filename"]) == (1, "served", "small_ring")
    assert v["activated_at"] and v["effective_at"]


def test_bad_uploads_are_refused_and_leave_nothing(client: Any, tokens: Any, small_ring: Grid, tmp_path: Path,
                                                  app: Any) -> None:
    admin = tokens["admin"]
    good = gpkg(small_ring, tmp_path, "ok.gpkg", move_c1_to_d2)
    assert upload(client, tokens["planner"], good).status_code == 403
    r = upload(client, admin, b"id,kind\n1,rmu\n", "grid.csv")
    assert r.status_code == 422 and r.json["code"] == "not_geopackage"

    def dangling(layers: dict) -> None:
        layers["lines"].loc[layers["lines"]["id"] == "L9", "to_node"] = "NOWHERE"

    r = upload(client, admin, gpkg(small_ring, tmp_path, "bad.gpkg", dangling))
    assert r.status_code == 422 and r.json["code"] == "grid_invalid"
    assert any(p["code"] == "missing_reference" for p in r.json["details"]), r.json
    assert client.post("/api/grid/versions", headers=admin).status_code == 422  # no file at all
    assert len(client.get("/api/grid/versions", headers=admin).json["items"]) == 1
    folder = Path(app.config["INSTANCE_PATH"]) / "grids"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_upload_diff_flag_and_activate(client: Any, tokens: Any, small_ring: Grid, tmp_path: Path, app: Any) -> None:
    admin, planner = tokens["admin"], tokens["planner"]
    plan_id, outage = plan_l3(client, tokens)
    assert outage["grid_version_id"] == 1 and outage["grid_flags"] is None
    assert client.get(f"/api/plans/{plan_id}", headers=planner).json["grid_version_id"] == 1

    r = upload(client, admin, gpkg(small_ring, tmp_path, "v2.gpkg", move_c1_to_d2), note="C1 re-connected")
    assert r.status_code == 201, r.json
    v2 = r.json
    assert (v2["id"], v2["status"], v2["base_id"], v2["note"]) == (2, "uploaded", 1, "C1 re-connected")
    assert v2["counts"] == {"customers": {"added": 0, "removed": 0, "changed": 1}}
    changes = client.get("/api/grid/versions/2/changes?kind=connection", headers=planner).json
    assert changes["total"] == 1 and changes["items"][0] | {} == {
        "layer": "customers", "id": "C1", "column": "node_id", "kind": "connection", "old": "D1", "new": "D2"}
    [check] = v2["checks"]
    assert check["outage_id"] == outage["id"]
    assert [(f["code"], f["details"]["added_ids"]) for f in check["findings"]] == [("customers_changed", ["C1"])]
    assert upload(client, admin, gpkg(small_ring, tmp_path, "again.gpkg", move_c1_to_d2)).status_code == 409
    assert node_of(client, planner, "C1") == "D1"  # uploaded, not served

    later = (datetime.now(TZ) + timedelta(days=2)).isoformat()
    assert client.post("/api/grid/versions/2/activate", json={"version": v2["version"] + 1},
                       headers=admin).status_code == 409
    assert client.post("/api/grid/versions/2/activate", json={"version": v2["version"]},
                       headers=planner).status_code == 403
    past = (datetime.now(TZ) - timedelta(hours=1)).isoformat()
    r = client.post("/api/grid/versions/2/activate", json={"version": v2["version"], "effective_at": past}, headers=admin)
    assert r.status_code == 422 and r.json["code"] == "effective_in_past"
    r = client.post("/api/grid/versions/2/activate", json={"version": v2["version"], "effective_at": later}, headers=admin)
    assert r.status_code == 200 and r.json["status"] == "scheduled", r.json
    assert node_of(client, planner, "C1") == "D1"  # still the old version until it is effective
    flags = client.get(f"/api/outages/{outage['id']}", headers=planner).json["grid_flags"]
    assert flags["version"] == 2 and flags["findings"][0]["code"] == "customers_changed"

    r = client.post("/api/grid/versions/2/activate", json={"version": r.json["version"]}, headers=admin)
    assert r.status_code == 200 and r.json["status"] == "served"
    assert node_of(client, planner, "C1") == "D2"
    assert client.get("/api/grid/versions", headers=planner).json["served"] == 2
    # new records name the served version; the old plan keeps its own
    f = client.post("/api/faults", json={"section": "R5", "now": datetime.now(TZ).isoformat()}, headers=tokens["dispatcher"])
    assert f.status_code == 201 and f.json["grid_version_id"] == 2
    assert client.get(f"/api/plans/{plan_id}", headers=planner).json["grid_version_id"] == 1


def test_roll_back_to_the_previous_version(client: Any, tokens: Any, small_ring: Grid, tmp_path: Path) -> None:
    admin = tokens["admin"]
    v2 = upload(client, admin, gpkg(small_ring, tmp_path, "v2.gpkg", move_c1_to_d2)).json
    client.post("/api/grid/versions/2/activate", json={"version": v2["version"]}, headers=admin)
    assert node_of(client, admin, "C1") == "D2"
    v1 = client.get("/api/grid/versions/1", headers=admin).json
    r = client.post("/api/grid/versions/1/activate", json={"version": v1["version"]}, headers=admin)
    assert r.status_code == 200 and r.json["status"] == "served"
    assert node_of(client, admin, "C1") == "D1"
    statuses = {v["id"]: v["status"] for v in client.get("/api/grid/versions", headers=admin).json["items"]}
    assert statuses == {1: "served", 2: "previous"}


@pytest.mark.parametrize("ident", [0, 99, 2**40])
def test_unknown_versions_are_404(client: Any, tokens: Any, ident: int) -> None:
    assert client.get(f"/api/grid/versions/{ident}", headers=tokens["viewer"]).status_code == 404


def test_another_process_follows_the_activated_version(make_config: Any, make_tokens: Any, small_ring: Grid,
                                                       tmp_path: Path) -> None:
    """Two apps on one database (two waitress processes): one activates, the other swaps its grid
    at its next check."""
    from app import create_app

    first = create_app(make_config(GRID_VERSION_CHECK_S=0.05), environ={})
    second = create_app(make_config(GRID_VERSION_CHECK_S=0.05), environ={})
    tokens = make_tokens(first)
    a, b = first.test_client(), second.test_client()
    assert node_of(b, tokens["viewer"], "C1") == "D1"
    v2 = upload(a, tokens["admin"], gpkg(small_ring, tmp_path, "v2.gpkg", move_c1_to_d2)).json
    assert a.post("/api/grid/versions/2/activate", json={"version": v2["version"]}, headers=tokens["admin"]).status_code == 200
    import time

    time.sleep(0.1)
    assert node_of(b, tokens["viewer"], "C1") == "D2"
    for app in (first, second):
        app.extensions["db"].engine.dispose()


def test_an_upload_over_its_limit_is_413_naming_the_limit(make_config: Any, make_tokens: Any, small_ring: Grid,
                                                          tmp_path: Path) -> None:
    """The grid upload has its own limit (GRID_UPLOAD_MAX_BYTES), larger than other requests'; over it,
    a 413 names that limit and the served grid stays."""
    from app import create_app

    app = create_app(make_config(GRID_UPLOAD_MAX_BYTES=100_000), environ={})
    tokens = make_tokens(app)
    client = app.test_client()
    data = gpkg(small_ring, tmp_path, "big.gpkg", move_c1_to_d2)
    assert len(data) > 100_000
    r = upload(client, tokens["admin"], data)
    assert r.status_code == 413 and r.json["code"] == "too_large" and "100000 bytes" in r.json["message"], r.json
    assert [v["id"] for v in client.get("/api/grid/versions", headers=tokens["admin"]).json["items"]] == [1]
    assert node_of(client, tokens["admin"], "C1") == "D1"
    app.extensions["db"].engine.dispose()
