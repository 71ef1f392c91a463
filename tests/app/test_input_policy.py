"""The input policy over HTTP: every hostile entry of tests/hostile.py is a 4xx naming
the field, never a 500, and nothing is stored (rows counted before and after);
exports write phone numbers readably and defuse formulas in job and customer text."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, select

from app.exports import render, to_csv, to_xlsx
from app.models import Crew, Job
from app.services.customers import customers_frame
from gis import Grid, read_layers
from tests.hostile import (
    BAD_DATES,
    BAD_JSON_BODIES,
    BAD_JSON_INTEGERS,
    BAD_TEXT,
    FORMULA_TEXT,
    GOOD_TEXT,
    PHONES,
    csv_files,
    json_body,
)

SMALL_RING = Path(__file__).resolve().parents[1] / "data" / "small_ring"
E, L = "2026-12-01T08:00:00+01:00", "2026-12-03T18:00:00+01:00"
JOB = {"id": "J1", "equipment": ["R2"], "duration_min": 60, "earliest": E, "latest": L}
HEADER = "id,equipment,duration_min,earliest,latest,description"
ROW = f"J1,R2,60,{E},{L},service"


def count(app: Any, model: type) -> int:
    with app.extensions["db"].sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def post_json(client: Any, url: str, body: Any, h: dict[str, str]) -> Any:
    return client.post(url, data=json_body(body), content_type="application/json", headers=h)


@pytest.mark.parametrize("field", ["description", "requested_by", "crew", "id"])
@pytest.mark.parametrize("name", list(BAD_TEXT))
def test_bad_text_in_a_job_is_422_naming_the_field(app: Any, client: Any, tokens: Any, field: str, name: str) -> None:
    r = post_json(client, "/api/jobs", JOB | {field: BAD_TEXT[name]}, tokens["planner"])
    assert r.status_code == 422, (r.status_code, r.json)
    assert field in str(r.json["details"]), r.json
    assert count(app, Job) == 0


@pytest.mark.parametrize("name", list(BAD_TEXT))
def test_bad_text_in_a_job_patch_or_a_crew_is_422(app: Any, client: Any, tokens: Any, name: str) -> None:
    h = tokens["planner"]
    assert post_json(client, "/api/jobs", JOB | {"description": "before"}, h).status_code == 201
    r = client.patch("/api/jobs/J1", data=json_body({"version": 1, "description": BAD_TEXT[name]}),
                     content_type="application/json", headers=h)
    assert r.status_code == 422 and "description" in str(r.json["details"])
    assert client.get("/api/jobs/J1", headers=h).json["description"] == "before"
    r = post_json(client, "/api/crews", {"id": "K9", "name": BAD_TEXT[name]}, tokens["dispatcher"])
    assert r.status_code == 422 and "name" in str(r.json["details"])
    assert count(app, Crew) == 0 or all(c.id != "K9" for c in _crews(app))


def _crews(app: Any) -> list[Any]:
    with app.extensions["db"].sessionmaker() as s:
        return list(s.scalars(select(Crew)))


@pytest.mark.parametrize("name", list(GOOD_TEXT) + list(FORMULA_TEXT))
def test_good_and_formula_text_is_stored_as_written(client: Any, tokens: Any, name: str) -> None:
    text = {**GOOD_TEXT, **FORMULA_TEXT}[name]
    h = tokens["planner"]
    r = post_json(client, "/api/jobs", JOB | {"description": text, "requested_by": text}, h)
    assert r.status_code == 201, r.json
    got = client.get("/api/jobs/J1", headers=h).json
    assert got["description"] == text.strip() and got["requested_by"] == text.strip()


@pytest.mark.parametrize("field", ["earliest", "latest"])
@pytest.mark.parametrize("name", list(BAD_DATES))
def test_dates_out_of_range_are_422(app: Any, client: Any, tokens: Any, field: str, name: str) -> None:
    r = post_json(client, "/api/jobs", JOB | {field: BAD_DATES[name]}, tokens["planner"])
    assert r.status_code == 422 and r.json["details"][0]["field"] == field, r.json
    assert "1900-2200" in r.json["details"][0]["message"]
    assert count(app, Job) == 0


@pytest.mark.parametrize("name", list(BAD_DATES))
def test_marshmallow_dates_out_of_range_are_422(client: Any, tokens: Any, name: str) -> None:
    r = post_json(client, "/api/plans", {"now": BAD_DATES[name]}, tokens["planner"])
    assert r.status_code == 422 and "now" in str(r.json["details"]), (r.status_code, r.json)
    r = client.get(f"/api/notifications?due_before={quote(BAD_DATES[name])}", headers=tokens["customer_service"])
    assert r.status_code == 422 and "due_before" in str(r.json["details"]), (r.status_code, r.json)


@pytest.mark.parametrize("name", list(BAD_JSON_INTEGERS))
def test_json_integers_are_strict(app: Any, client: Any, tokens: Any, name: str) -> None:
    h = tokens["planner"]
    r = post_json(client, "/api/jobs", JOB | {"duration_min": BAD_JSON_INTEGERS[name]}, h)
    assert r.status_code == 422 and r.json["details"][0]["field"] == "duration_min", r.json
    assert count(app, Job) == 0
    assert post_json(client, "/api/jobs", JOB, h).status_code == 201
    r = client.patch("/api/jobs/J1", data=json_body({"version": BAD_JSON_INTEGERS[name], "description": "x"}),
                     content_type="application/json", headers=h)
    assert r.status_code == 422 and "version" in str(r.json["details"]), r.json
    assert client.get("/api/jobs/J1", headers=h).json["description"] == ""


@pytest.mark.parametrize("name", list(BAD_JSON_BODIES))
def test_bad_json_bodies_are_400(app: Any, client: Any, tokens: Any, name: str) -> None:
    r = client.post("/api/jobs", data=BAD_JSON_BODIES[name], content_type="application/json", headers=tokens["planner"])
    assert r.status_code == 400 and r.json["code"] == "bad_request" and r.json["message"], r.json
    assert count(app, Job) == 0


def test_repeated_keys_name_the_key(client: Any, tokens: Any) -> None:
    r = client.post("/api/jobs", data=b'{"id": "J1", "equipment": ["R2"], "id": "J2"}', content_type="application/json",
                    headers=tokens["planner"])
    assert r.status_code == 400 and "'id' appears twice" in r.json["message"]


@pytest.mark.parametrize("name", list(csv_files(HEADER, ROW)))
def test_hostile_job_files_import_nothing(app: Any, client: Any, tokens: Any, name: str) -> None:
    data = csv_files(HEADER, ROW)[name]
    r = client.post("/api/jobs/import", data=data, content_type="text/csv", headers=tokens["planner"])
    assert r.status_code == 422 and r.json["code"] == "bad_jobs_file", (r.status_code, r.json)
    assert "jobs file" in r.json["message"]
    assert count(app, Job) == 0


@pytest.mark.parametrize("name", list(BAD_TEXT))
def test_bad_text_in_paths_and_queries_is_422(client: Any, tokens: Any, name: str) -> None:
    h = tokens["planner"]
    text = quote(BAD_TEXT[name].encode("utf-8", "surrogatepass"))
    for url, field in ((f"/api/jobs/{text}", "job_id"), (f"/api/jobs?status={text}", "status")):
        r = client.get(url, headers=h)
        if "surrogate" in name:  # percent-encoded surrogates are no UTF-8: decoded as U+FFFD, a plain miss
            assert r.status_code in (404, 422), (url, r.status_code)
            continue
        assert r.status_code == 422 and r.json["details"]["field"] == field, (url, r.status_code, r.json)


# ------------------------------------------------------------------ exports

def hostile_frame() -> pd.DataFrame:
    texts = list(FORMULA_TEXT.values())
    phones = list(PHONES.values())
    n = len(texts)
    return pd.DataFrame({
        "id": [f"C{i}" for i in range(n)],
        "name": texts,
        "phone": [phones[i % len(phones)] if i % 2 == 0 else texts[i] for i in range(n)],
        "address": texts[::-1],
        "description": texts,
        "requested_by": texts[1:] + texts[:1],
        "demand_kw": [-1.5 * i for i in range(n)],
    })


def defused(text: str) -> str:
    return "'" + text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_keep_phones_and_numbers_and_defuse_text(fmt: str) -> None:
    df = hostile_frame()
    if fmt == "csv":
        rows = pd.read_csv(io.BytesIO(to_csv(df)), encoding="utf-8-sig", dtype=str, keep_default_na=False)
        got = rows.to_dict(orient="records")
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(df, sheet="customers"))).active
        head, *body = list(sheet.iter_rows())
        got = [{h.value: c.value for h, c in zip(head, row, strict=True)} for row in body]
        for row in body:
            assert all(c.data_type in ("s", "n") for c in row)  # never a formula
            phone = row[2]
            assert phone.data_type == "s" and phone.number_format == "@"
    for i, (want, out) in enumerate(zip(df.to_dict(orient="records"), got, strict=True)):
        for col in ("name", "address", "description", "requested_by"):
            assert out[col] == defused(want[col]), (i, col, out[col])
        if want["phone"] in PHONES.values():
            assert out["phone"] == want["phone"]  # readable, no quote
        else:
            assert out["phone"] == defused(want["phone"])
        assert float(out["demand_kw"]) == want["demand_kw"]
        if fmt == "xlsx":
            assert isinstance(out["demand_kw"], int | float)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_customer_text_from_the_grid_reaches_the_files_defused(fmt: str) -> None:
    """A grid whose customers have formula-like names and addresses and real phone numbers,
    through the customer list the exports write (``customers_frame``) into CSV and XLSX."""
    layers = dict(read_layers(SMALL_RING))
    customers = layers["customers"].copy()
    texts, phones = list(FORMULA_TEXT.values()), list(PHONES.values())
    customers["name"] = [texts[i % len(texts)] for i in range(len(customers))]
    customers["address"] = [texts[(i + 1) % len(texts)] for i in range(len(customers))]
    customers["phone"] = [phones[i % len(phones)] for i in range(len(customers))]
    layers["customers"] = customers
    grid = Grid.from_layers(layers)
    df = customers_frame(grid, list(customers["id"]), with_phones=True)
    data, _ = render(df, fmt, sheet="customers")
    if fmt == "csv":
        got = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False).to_dict(orient="records")
    else:
        head, *body = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
        got = [dict(zip(head, row, strict=True)) for row in body]
    by_id = {str(c["id"]): c for c in customers.to_dict(orient="records")}
    assert len(got) == len(by_id)
    for row in got:
        want = by_id[row["id"]]
        assert row["phone"] == want["phone"]
        assert row["name"] == "'" + want["name"] and row["address"] == "'" + want["address"]
        assert float(row["demand_kw"]) == want["demand_kw"]
