"""A plan's customers are stored once (``outage_customers`` rows, no personal data in the database)
and read back the same through the API, the exports, the notices and the outbox, with every
time in the grid's time zone (issue 12, item 4).

The grid is the small ring with a distinct name, phone and address per customer, so a
search of the database for each of them finds any copy. The expected customers come from
the core itself (``plan_outages`` on the same grid and job), the expected personal data
from the grid's layer.
"""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import inspect, select, text

from app import create_app
from app.models import Notification, Outage, OutageCustomer, Plan
from gis import load_grid, read_layers, write_grid
from planning.outages import Job, plan_outages

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-20T09:00:00+01:00"
JOB = {"id": "J1", "equipment": ["L7"], "duration_min": 120, "earliest": "2026-12-01T08:00:00+01:00",
       "latest": "2026-12-04T18:00:00+01:00"}
MONACO = ZoneInfo("Europe/Monaco")


@pytest.fixture(scope="module")
def private_grid_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small ring with a distinct name, phone and address for every customer."""
    layers = dict(read_layers(ROOT / "tests" / "data" / "small_ring"))
    c = layers["customers"].copy()
    n = range(1, len(c) + 1)
    c["name"] = [f"Cliente Riservata {i}" for i in n]
    c["phone"] = [f"+377 6{i:03d} {7000 + i}" for i in n]
    c["address"] = [f"{i} Boulevard Discret" for i in n]
    layers["customers"] = c
    return write_grid(layers, tmp_path_factory.mktemp("grid") / "private")


@pytest.fixture
def planned(private_grid_path: Path, make_config: Any, make_tokens: Any, publish: Any) -> Any:
    """An app on the private grid with one plan run (job J1 on L7), its outage published (notices
    queued): (app, client, tokens, plan id, outage id)."""
    app = create_app(make_config(GRID_PATH=str(private_grid_path)), environ={})
    tokens = make_tokens(app)
    c = app.test_client()
    assert c.post("/api/jobs", json=JOB, headers=tokens["planner"]).status_code == 201
    r = c.post("/api/plans", json={"now": NOW}, headers=tokens["planner"])
    assert r.status_code == 202, r.json
    plan = c.get(f"/api/plans/{r.json['plan']['id']}", headers=tokens["customer_service"]).json
    assert plan["status"] == "done" and len(plan["outages"]) == 1, plan
    publish(c, tokens, plan["outages"][0]["id"], now=NOW)
    yield app, c, tokens, plan["id"], plan["outages"][0]["id"]
    app.extensions["db"].engine.dispose()


def expected(grid_path: Path) -> dict[str, str]:
    """Customer id -> supply, as the core plans the same job on the same grid."""
    grid = load_grid(grid_path)
    job = Job(id="J1", equipment=("L7",), duration_min=120, earliest=datetime.fromisoformat(JOB["earliest"]),
              latest=datetime.fromisoformat(JOB["latest"]))
    (outage,) = plan_outages(grid, [job], now=datetime.fromisoformat(NOW)).to_json()["outages"]
    return {c["id"]: c["supply"] for c in outage["notices"]["customers"]}


def grid_people(grid_path: Path) -> pd.DataFrame:
    return read_layers(grid_path)["customers"].set_index("id")[["name", "phone", "address"]]


def database_text(app: Any) -> str:
    """Every row of every table as text."""
    engine = app.extensions["db"].engine
    out = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            out += [repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"'))]
    return "\n".join(out)


def test_no_personal_data_in_the_database(planned: Any, private_grid_path: Path) -> None:
    app, _, _, plan_id, outage_id = planned
    people = grid_people(private_grid_path)
    with app.app_context(), app.extensions["db"].session() as s:
        result = json.dumps(s.get(Plan, plan_id).result, ensure_ascii=False)
        data = json.dumps(s.get(Outage, outage_id).data, ensure_ascii=False)
        rows = s.scalars(select(OutageCustomer).where(OutageCustomer.outage_id == outage_id)).all()
        assert {r.customer_id: r.supply for r in rows} == expected(private_grid_path)
    everything = database_text(app)
    for cid, (name, phone, address) in people.iterrows():
        for value in (name, phone, address):
            assert value not in result and value not in data, (cid, value)
            assert value not in everything, (cid, value)
    assert '"count": 4' in result  # counts stay


def test_the_same_customers_everywhere(planned: Any, private_grid_path: Path) -> None:
    _, c, tokens, plan_id, oid = planned
    h = tokens["customer_service"]
    want = expected(private_grid_path)
    people = grid_people(private_grid_path)
    items = c.get(f"/api/outages/{oid}/customers", headers=h).json["items"]
    dues = {(i["notice_due"], i["sms_due"]) for i in items}
    assert len(dues) == 1
    notice_due, sms_due = dues.pop()

    def check(rows: list[dict[str, Any]], *, id_key: str = "id", dues: bool = True) -> None:
        assert {r[id_key]: r["supply"] for r in rows} == want
        for r in rows:
            assert r["phone"] == people.at[r[id_key], "phone"]  # files write phone numbers as they are and r["name"] == people.at[r[id_key], "name"]
            if dues:
                assert (r["notice_due"], r["sms_due"]) == (notice_due, sms_due)

    check(items)
    check(pd.read_csv(io.BytesIO(c.get(f"/api/outages/{oid}/customers/export?format=csv", headers=h).data),
                      encoding="utf-8-sig", dtype=str).to_dict(orient="records"))
    sheet = openpyxl.load_workbook(io.BytesIO(c.get(f"/api/outages/{oid}/customers/export?format=xlsx", headers=h).data)).active
    head, *body = list(sheet.iter_rows(values_only=True))
    check([dict(zip(head, row, strict=True)) for row in body])
    fc = json.loads(c.get(f"/api/outages/{oid}/customers/export?format=geojson", headers=h).data)
    check([f["properties"] for f in fc["features"]])
    check(c.get(f"/api/outages/{oid}/notices", headers=h).json["items"], id_key="customer_id")
    check(pd.read_csv(io.BytesIO(c.get(f"/api/outages/{oid}/notices?format=csv", headers=h).data),
                      encoding="utf-8-sig", dtype=str).to_dict(orient="records"), id_key="customer_id")
    plan_rows = pd.read_csv(io.BytesIO(c.get(f"/api/plans/{plan_id}/customers/export?format=csv", headers=h).data),
                            encoding="utf-8-sig", dtype=str).to_dict(orient="records")
    check(plan_rows)
    assert {r["outage_id"] for r in plan_rows} == {str(oid)}
    sheet = openpyxl.load_workbook(io.BytesIO(c.get(f"/api/plans/{plan_id}/customers/export?format=xlsx", headers=h).data)).active
    head, *body = list(sheet.iter_rows(values_only=True))
    check([dict(zip(head, row, strict=True)) for row in body])
    assert {row[head.index("outage_id")] for row in body} == {oid}
    fc = json.loads(c.get(f"/api/plans/{plan_id}/customers/export?format=geojson", headers=h).data)
    check([f["properties"] for f in fc["features"]])
    assert {f["properties"]["outage_id"] for f in fc["features"]} == {oid}
    # the plan's JSON gives the lists back from the rows, phones for customer service only
    (core,) = c.get(f"/api/plans/{plan_id}", headers=h).json["result"]["outages"]
    assert core["customers"] == list(want)  # the core's order
    check(core["notices"]["customers"], dues=False)
    (hidden,) = c.get(f"/api/plans/{plan_id}", headers=tokens["planner"]).json["result"]["outages"]
    assert hidden["customers"] == list(want) and all("phone" not in x for x in hidden["notices"]["customers"])
    # the outbox: a notice and an SMS per customer, due when the notice list says
    outbox = c.get(f"/api/notifications?outage_id={oid}", headers=h).json["items"]
    assert {(n["customer_id"], n["kind"]) for n in outbox} == {(cid, k) for cid in want for k in ("notice", "sms")}
    assert {n["due_at"] for n in outbox if n["kind"] == "notice"} == {notice_due}
    assert {n["due_at"] for n in outbox if n["kind"] == "sms"} == {sms_due}
    assert {n["phone"] for n in outbox} == {people.at[cid, "phone"] for cid in want}


def test_times_are_in_the_grid_zone(planned: Any) -> None:
    app, c, tokens, plan_id, oid = planned
    h = tokens["customer_service"]
    outage = c.get(f"/api/outages/{oid}", headers=h).json
    start = datetime.fromisoformat(outage["start"])
    assert start.utcoffset() == start.astimezone(MONACO).utcoffset() == timedelta(hours=1)
    (core,) = c.get(f"/api/plans/{plan_id}", headers=h).json["result"]["outages"]
    day, clock = re.search(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})–\d{2}:\d{2} \(Europe/Monaco\)", core["notices"]["text"]["en"]).groups()
    assert (day, clock) == (start.strftime("%Y-%m-%d"), start.strftime("%H:%M"))
    csv_rows = pd.read_csv(io.BytesIO(c.get(f"/api/outages/{oid}/notices?format=csv", headers=h).data),
                           encoding="utf-8-sig", dtype=str)
    for value in csv_rows["notice_due"]:
        due = datetime.fromisoformat(value)
        assert value.endswith("+01:00") and due.strftime("%H:%M") == clock  # the text's clock, in the grid's zone
        assert (due + timedelta(days=7)).strftime("%Y-%m-%d") == day
    for value in csv_rows["sms_due"]:
        assert datetime.fromisoformat(value) == start - timedelta(minutes=10) and value.endswith("+01:00")
    sheet = openpyxl.load_workbook(io.BytesIO(c.get(f"/api/outages/{oid}/notices?format=xlsx", headers=h).data)).active
    head, *body = list(sheet.iter_rows(values_only=True))
    assert {row[head.index("notice_due")] for row in body} == set(csv_rows["notice_due"])
    plan = c.get(f"/api/plans/{plan_id}", headers=h).json
    for value in (plan["now"], plan["created_at"], outage["end"]):
        assert datetime.fromisoformat(value).utcoffset() == timedelta(hours=1), value
    assert plan["now"] == NOW
    # the outbox file written by the sender says the same due times
    sent = app.test_cli_runner().invoke(args=["notify", "send-due", "--now", "2026-12-31T00:00:00+01:00"])
    assert sent.exit_code == 0 and "sent 8" in sent.output, sent.output
    lines = [json.loads(x) for x in Path(app.config["NOTIFY_FILE"]).read_text(encoding="utf-8").splitlines()]
    notice_times = {m["due_at"] for m in lines if m["kind"] == "notice"}
    assert notice_times == set(csv_rows["notice_due"])
    with app.app_context(), app.extensions["db"].session() as s:  # stored in UTC
        stored = s.scalars(select(Notification.due_at).where(Notification.kind == "notice")).first()
        assert stored is not None and stored.utcoffset() == timedelta(0)
        assert stored == datetime.fromisoformat(next(iter(notice_times)))


def test_the_map_shows_the_stored_customers(planned: Any, private_grid_path: Path) -> None:
    _, c, tokens, _, oid = planned
    want = expected(private_grid_path)
    roles = {"interrupted": "dead", "short_breaks": "transferred", "generator": "generator"}
    r = c.get(f"/api/outages/{oid}/map", headers=tokens["viewer"])
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = r.json
    points = {f["properties"]["id"]: f["properties"] for f in fc["features"] if f["properties"]["layer"] == "customer"}
    assert {cid: p["role"] for cid, p in points.items()} == {cid: roles[s] for cid, s in want.items()}
    assert all("phone" not in p for p in points.values())
    people = grid_people(private_grid_path)
    assert all(p["name"] == people.at[cid, "name"] for cid, p in points.items())
    # the work zone of L7 (D1, R2, x1) is drawn as work; the block behind S2 re-fed through T1
    work = {f["properties"]["id"] for f in fc["features"] if f["properties"]["role"] == "work" and f["properties"]["layer"] == "equipment"}
    assert work == {"D1", "R2"}
    assert any(f["properties"]["role"] == "transferred" and f["properties"]["layer"] == "line" for f in fc["features"])
    assert fc["summary"]["interrupted_customers"] == sum(s == "interrupted" for s in want.values())
    assert fc["summary"]["short_breaks_customers"] == sum(s == "short_breaks" for s in want.values())
    assert c.get("/api/outages/999/map", headers=tokens["viewer"]).status_code == 404
