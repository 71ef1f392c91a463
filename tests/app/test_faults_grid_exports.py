"""Grid layers, faults (stages, affected customers), exports read back with pandas/openpyxl."""

from __future__ import annotations

import io
import json
from typing import Any

import openpyxl
import pandas as pd

NOW = "2026-12-01T10:00:00+01:00"


def test_layers_are_geojson_with_bbox_filter(client: Any, tokens: Any) -> None:
    h = tokens["viewer"]
    assert client.get("/api/grid/layers", headers=h).json["layers"][0] == "substations"
    r = client.get("/api/grid/layers/nodes", headers=h)
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = r.json
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 20
    lon, lat = fc["features"][0]["geometry"]["coordinates"]
    assert 7.41 < lon < 7.44 and 43.72 < lat < 43.74  # RFC 7946: lon, lat
    # bbox around the F1 row (lat 43.734) only: x from R1 (7.424) to R3 (7.432), y 43.7335..43.7345
    r = client.get("/api/grid/layers/nodes?bbox=7.4235,43.7335,7.4325,43.7345", headers=h)
    assert sorted(f["properties"]["id"] for f in r.json["features"]) == ["R1", "R2", "R3", "x1", "x2"]
    assert client.get("/api/grid/layers/feeders", headers=h).status_code == 404
    for bad in ("1,2,3", "a,b,c,d", "7.5,43,7.4,44", "nan,1,2,3", "0,0,200,1"):
        assert client.get(f"/api/grid/layers/nodes?bbox={bad}", headers=h).status_code == 422, bad
    assert client.get("/api/grid/summary", headers=h).json["feeders"] == 2
    feeders = client.get("/api/grid/feeders", headers=h).json
    assert {f["id"] for f in feeders} == {"F1", "F2"}


def test_customer_phones_only_for_customer_service_and_admin(client: Any, tokens: Any) -> None:
    for role, visible in (("customer_service", True), ("admin", True), ("planner", False), ("viewer", False),
                          ("dispatcher", False), ("crew", False)):
        props = client.get("/api/grid/layers/customers", headers=tokens[role]).json["features"][0]["properties"]
        assert ("phone" in props) is visible, role


def create_fault(client: Any, tokens: Any, **body: Any) -> Any:
    return client.post("/api/faults", json={"now": NOW, **body}, headers=tokens["dispatcher"])


def test_fault_from_indicators_gives_stages(client: Any, tokens: Any) -> None:
    r = create_fault(client, tokens, tripped_breaker="F1", fault_indicators={"F1": True, "S1": True, "S2": False})
    assert r.status_code == 201, r.json
    f = r.json
    # the drawing: fault current passed S1 but not S2 -> section s2 = {x1, R2, D1}
    assert sorted(f["candidates"][0]["nodes"]) == ["D1", "R2", "x1"]
    stages = client.get(f"/api/faults/{f['id']}/stages", headers=tokens["viewer"]).json["stages"]
    assert [s["kind"] for s in stages][:1] == ["remote"]
    restored = {c for s in stages for c in s["restored_customers"]}
    assert {"C1", "C2"}.isdisjoint(restored)  # the faulted section's customers wait for the repair
    custs = client.get(f"/api/faults/{f['id']}/customers", headers=tokens["customer_service"]).json
    assert {c["id"] for c in custs["items"]} == {"C1", "C2", "C3", "C6", "C7"}  # all of F1 lost supply
    assert all("phone" in c for c in custs["items"])
    custs = client.get(f"/api/faults/{f['id']}/customers?importance=first", headers=tokens["planner"]).json
    assert [c["id"] for c in custs["items"]] == ["C3"] and "phone" not in custs["items"][0]
    # messages went to the outbox, both languages
    items = client.get(f"/api/notifications?fault_id={f['id']}", headers=tokens["customer_service"]).json["items"]
    assert items and all(i["text_en"] and i["text_zh"] for i in items)


def test_fault_bad_inputs(client: Any, tokens: Any) -> None:
    assert create_fault(client, tokens).status_code == 422
    assert create_fault(client, tokens, tripped_breaker="NOPE").status_code == 404
    assert create_fault(client, tokens, fault_indicators={"S1": "yes-ish"}).status_code == 422
    assert create_fault(client, tokens, fault_indicators={"ZZ": True}).status_code == 404
    assert create_fault(client, tokens, calls=["C404"]).status_code == 404
    assert create_fault(client, tokens, section="BA").status_code == 422  # busbar: source equipment
    assert client.get("/api/faults", headers=tokens["viewer"]).json["total"] == 0
    assert client.get("/api/faults/99", headers=tokens["viewer"]).status_code == 404


def test_fault_patch_optimistic_lock(client: Any, tokens: Any) -> None:
    created = create_fault(client, tokens, section="R2").json
    fid, version = created["id"], created["version"]
    h = tokens["dispatcher"]
    r = client.patch(f"/api/faults/{fid}", json={"version": version, "status": "restored"}, headers=h)
    assert r.status_code == 200 and r.json["version"] == version + 1
    r = client.patch(f"/api/faults/{fid}", json={"version": version, "status": "closed"}, headers=h)
    assert r.status_code == 409
    assert client.get(f"/api/faults/{fid}", headers=h).json["status"] == "restored"


def test_fault_exports_read_back(client: Any, tokens: Any) -> None:
    fid = create_fault(client, tokens, section="R2").json["id"]
    h = tokens["customer_service"]
    expected = {c["id"] for c in client.get(f"/api/faults/{fid}/customers", headers=h).json["items"]}
    r = client.get(f"/api/faults/{fid}/customers/export?format=csv", headers=h)
    assert r.status_code == 200
    assert r.data.startswith(b"\xef\xbb\xbf")
    assert f'filename="fault-{fid}-customers-2026-12-01.csv"' in r.headers["Content-Disposition"]
    df = pd.read_csv(io.BytesIO(r.data), encoding="utf-8-sig", dtype=str)
    assert set(df["id"]) == expected
    assert "海景公寓" in set(df["name"])  # Chinese text survives
    assert "phone" in df.columns
    r = client.get(f"/api/faults/{fid}/customers/export?format=xlsx", headers=h)
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "id" and {row[0] for row in rows[1:]} == expected
    r = client.get(f"/api/faults/{fid}/customers/export?format=geojson", headers=tokens["viewer"])
    fc = json.loads(r.data)
    assert fc["type"] == "FeatureCollection" and {f["properties"]["id"] for f in fc["features"]} == expected
    assert "phone" not in fc["features"][0]["properties"]
    assert client.get(f"/api/faults/{fid}/customers/export?format=pdf", headers=h).status_code == 422


def test_fault_from_calls_only_explains_the_calls_and_recloses_nothing(client: Any, tokens: Any) -> None:
    # C1 and C2 (room D1, section s2 = {x1, R2, D1} below S1) called; nobody reported a trip
    r = create_fault(client, tokens, calls=["C1", "C2"])
    assert r.status_code == 201, r.json
    best = r.json["candidates"][0]
    assert sorted(best["nodes"]) == ["D1", "R2", "x1"]
    assert (best["rank"], best["outage_device"], best["outage_basis"]) == (1, "S1", "calls")
    reason = best["summary"]["reason"]
    assert reason["code"] == "calls_explained" and reason["params"]["explained"] == reason["params"]["calls"] == 2
    assert best["summary"]["where"]["feeder"] == "F1" and best["summary"]["texts"]["zh-Hans"]
    assert [d["code"] for d in best["details"]] == ["calls"]
    stages = client.get(f"/api/faults/{r.json['id']}/stages", headers=tokens["viewer"]).json["stages"]
    steps = [s for st in stages for s in st["steps"]]
    assert not [s for s in steps if s["action"] == "close" and s["switch"] in ("F1", "F2", "S1")]
    assert not [s for s in steps if "reclose" in s["reason"]]
    custs = client.get(f"/api/faults/{r.json['id']}/customers", headers=tokens["customer_service"]).json
    # only what hangs below S1 lost supply (s2, s3); C6 on the S3 branch near the breaker never did
    assert {c["id"] for c in custs["items"]} == {"C1", "C2", "C3", "C7"}
