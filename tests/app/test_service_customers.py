"""Customer service's customer table (issue 13, item 4): the caller search by name, address,
phone digits and account; per customer restored / still out with the (estimated)
restoration time for a fault and the window for a planned outage; exports that hold
exactly the rows and columns the list gives for the same filter."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from app import create_app
from app.services.customers import search_customers
from gis import read_layers, write_grid

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-20T09:00:00+01:00"
JOB = {"id": "J1", "equipment": ["L7"], "duration_min": 120, "earliest": "2026-12-01T08:00:00+01:00",
       "latest": "2026-12-04T18:00:00+01:00"}


def test_search_customers_hand_cases() -> None:
    df = pd.DataFrame({
        "id": ["C1", "C2", "C3"], "account": ["7700100011", "7700100029", ""],
        "name": ["Résidence Les Pins", "Café du Port", "Villa 42"], "phone": ["+999 61 23 45 67", "+999 70 00 11 22", ""],
        "address": ["1 Rue A, Monaco", "2 Quai B", "3 Rue A"],
    })

    def found(q: str | None) -> list[str]:
        return list(search_customers(df, q)["id"])

    assert found(None) == found("  ") == ["C1", "C2", "C3"]
    assert found("61 23") == ["C1"]  # phone digits typed with spaces
    assert found("(61) 2345-67") == ["C1"]
    assert found("7700100029") == ["C2"]  # account
    assert found("rue a") == ["C1", "C3"]  # every word, any case
    assert found("café port") == ["C2"] and found("cafe port") == []  # words as typed
    assert found("42") == ["C3"]  # two digits: not a phone search, a word in the name
    assert found("' OR 1=1 --") == [] and found("<b>") == []


@pytest.fixture(scope="module")
def grid_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layers = dict(read_layers(ROOT / "tests" / "data" / "small_ring"))
    c = layers["customers"].copy()
    n = range(1, len(c) + 1)
    c["phone"] = [f"+999 61 00 7{i:03d}" for i in n]
    c["account"] = [f"77001{i:04d}" for i in n]
    c["address"] = [f"{10 + i} Rue Discrète" for i in n]
    layers["customers"] = c
    return write_grid(layers, tmp_path_factory.mktemp("grid") / "service")


@pytest.fixture
def service(grid_path: Path, make_config: Any, make_tokens: Any) -> Any:
    app = create_app(make_config(GRID_PATH=str(grid_path)), environ={})
    tokens = make_tokens(app)
    yield app, app.test_client(), tokens
    app.extensions["db"].engine.dispose()


def _csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _xlsx(data: bytes) -> pd.DataFrame:
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
    return pd.DataFrame(rows[1:], columns=rows[0])


def _as_text(items: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{k: "" if r[k] is None else str(r[k]) for k in columns} for r in items], columns=columns)


def test_fault_customers_restored_or_out_and_export_matches_screen(service: Any) -> None:
    app, c, tokens = service
    cs = tokens["customer_service"]
    r = c.post("/api/faults", json={"now": NOW, "tripped_breaker": "F1", "fault_indicators": {"F1": True, "S1": True, "S2": False}},
               headers=tokens["dispatcher"])
    assert r.status_code == 201, r.json
    fault = r.json
    body = c.get(f"/api/faults/{fault['id']}/customers", headers=cs).json
    rows = {i["id"]: i for i in body["items"]}
    # the fault is in the past (NOW): every stage and the repair have ended -> all restored
    restored_at = {cid: st["end"] for st in fault["stages"] for cid in st["restored_customers"]}
    for cid, row in rows.items():
        assert row["supply_status"] == "restored"
        assert row["restoration"] == restored_at.get(cid, fault["repair"]["end"])
    assert body["restored"] == len(rows) and body["still_out"] == 0
    # a caller gives her phone number with other spacing: found, alone
    cid = sorted(rows)[0]
    digits = rows[cid]["phone"].replace(" ", "")[-7:]
    spaced = " ".join([digits[:3], digits[3:5], digits[5:]])
    found = c.get(f"/api/faults/{fault['id']}/customers", query_string={"q": spaced}, headers=cs).json
    assert [i["id"] for i in found["items"]] == [cid] and found["total"] == 1
    # the export with the same filter and columns holds exactly what the list shows
    columns = ["account", "name", "phone", "address", "importance", "supply_status", "restoration"]
    args = {"q": "rue discrète", "importance": "normal,first", "columns": ",".join(columns)}
    listed = c.get(f"/api/faults/{fault['id']}/customers", query_string=args, headers=cs).json["items"]
    assert listed and all(i["importance"] in ("normal", "first") for i in listed) and set(listed[0]) == set(columns)
    csv = c.get(f"/api/faults/{fault['id']}/customers/export", query_string={**args, "format": "csv"}, headers=cs)
    assert csv.status_code == 200
    pd.testing.assert_frame_equal(_csv(csv.data), _as_text(listed, columns))
    # a column the role may not see (viewer: no phones) or that does not exist: 422 with the reason
    r = c.get(f"/api/faults/{fault['id']}/customers", query_string={"columns": "name,phone"}, headers=tokens["viewer"])
    assert r.status_code == 422 and r.json["code"] == "unknown_column"
    r = c.get(f"/api/faults/{fault['id']}/customers", query_string={"importance": "vip"}, headers=cs)
    assert r.status_code == 422


def test_outage_customers_window_and_xlsx_matches_screen(service: Any) -> None:
    app, c, tokens = service
    cs = tokens["customer_service"]
    assert c.post("/api/jobs", json=JOB, headers=tokens["planner"]).status_code == 201
    r = c.post("/api/plans", json={"now": NOW}, headers=tokens["planner"])
    (o,) = c.get(f"/api/plans/{r.json['plan']['id']}", headers=cs).json["outages"]
    o = c.get(f"/api/outages/{o['id']}", headers=cs).json
    items = c.get(f"/api/outages/{o['id']}/customers", headers=cs).json["items"]
    assert items and all((i["window_start"], i["window_end"]) == (o["start"], o["end"]) for i in items)
    account = items[-1]["account"]
    columns = ["account", "name", "phone", "supply", "window_start", "window_end"]
    args = {"q": account, "columns": ",".join(columns)}
    listed = c.get(f"/api/outages/{o['id']}/customers", query_string=args, headers=cs).json["items"]
    assert [i["account"] for i in listed] == [account]
    x = c.get(f"/api/outages/{o['id']}/customers/export", query_string={**args, "format": "xlsx"}, headers=cs)
    assert x.status_code == 200
    pd.testing.assert_frame_equal(_xlsx(x.data), _as_text(listed, columns))
