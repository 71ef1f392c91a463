"""The public outage lookup (issue 13, item 5): no login, published outages only, open
faults with their restoration estimate, nothing personal in any answer, hostile input
answered as a clear 4xx, rate limits as 429 with the reason.

The grid is the small ring with a distinct name, phone, account and address per customer,
so any copy of them in an answer is found by a plain text search.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.models import Fault, FaultStage
from app.pages import lookup as lookup_page
from app.services import faults as faults_service
from app.services.lookup import PUBLIC_OUTAGE_STATUSES, street_of
from gis import read_layers, write_grid

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-20T09:00:00+01:00"
JOB = {"id": "J1", "equipment": ["L7"], "duration_min": 120, "earliest": "2026-12-01T08:00:00+01:00",
       "latest": "2026-12-04T18:00:00+01:00"}
STREETS = ["Rue Discrète", "Rue Discrète", "Avenue Cachée", "Avenue Cachée", "Quai Secret", "Quai Secret", "Rue Discrète"]


@pytest.fixture(scope="module")
def grid_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layers = dict(read_layers(ROOT / "tests" / "data" / "small_ring"))
    c = layers["customers"].copy()
    n = range(1, len(c) + 1)
    c["name"] = [f"Cliente Riservata {i}" for i in n]
    c["phone"] = [f"+999 61 00 7{i:03d}" for i in n]
    c["account"] = [f"77001{i:04d}" for i in n]
    c["address"] = [f"{10 + i} {s}, Monaco" for i, s in zip(n, STREETS, strict=True)]
    layers["customers"] = c
    return write_grid(layers, tmp_path_factory.mktemp("grid") / "lookup")


def private_values(grid_path: Path) -> list[str]:
    """Every name, phone, account, customer id and full address of the grid."""
    c = read_layers(grid_path)["customers"]
    return [*c["name"], *c["phone"], *c["account"], *c["address"], *[f'"{i}"' for i in c["id"]]]


@pytest.fixture
def service(grid_path: Path, make_config: Any, make_tokens: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """(app, anonymous client, tokens) with one plan (J1 on L7); the lookup's clock at NOW."""
    monkeypatch.setattr(lookup_page, "_now", lambda: datetime.fromisoformat(NOW).astimezone(UTC))
    app = create_app(make_config(GRID_PATH=str(grid_path)), environ={})
    tokens = make_tokens(app)
    staff = app.test_client()
    assert staff.post("/api/jobs", json=JOB, headers=tokens["planner"]).status_code == 201
    r = staff.post("/api/plans", json={"now": NOW}, headers=tokens["planner"])
    assert r.status_code == 202, r.json
    yield app, staff, tokens, r.json["plan"]["id"]
    app.extensions["db"].engine.dispose()


def _outage(staff: Any, tokens: Any, plan_id: int) -> dict[str, Any]:
    (o,) = staff.get(f"/api/plans/{plan_id}", headers=tokens["planner"]).json["outages"]
    return staff.get(f"/api/outages/{o['id']}", headers=tokens["planner"]).json


def _affected(staff: Any, tokens: Any, outage_id: int) -> dict[str, str]:
    """account -> supply of the outage's customers, as customer service sees them."""
    rows = staff.get(f"/api/outages/{outage_id}/customers", headers=tokens["customer_service"]).json["items"]
    return {r["account"]: r["supply"] for r in rows}


def test_street_of_drops_house_number_and_town() -> None:
    assert street_of("5 Place du Campanin, Monaco") == "Place du Campanin"
    assert street_of("12bis Rue A") == "Rue A"
    assert street_of("Avenue des Guelfes") == "Avenue des Guelfes"
    assert street_of("") == ""


def test_public_statuses_are_one_constant() -> None:
    assert set(PUBLIC_OUTAGE_STATUSES) == {"confirmed", "published"}


def test_drafts_are_not_public_confirmed_outages_are(service: Any, grid_path: Path) -> None:
    app, staff, tokens, plan_id = service
    o = _outage(staff, tokens, plan_id)
    affected = _affected(staff, tokens, o["id"])
    assert affected, "the job darkens someone"
    account, supply = sorted(affected.items())[0]
    anon = app.test_client()
    r = anon.get("/lookup/account.json", query_string={"account": account})
    assert r.status_code == 200 and r.json["planned"] == []  # still a draft
    assert staff.patch(f"/api/outages/{o['id']}", json={"version": o["version"], "status": "confirmed"},
                       headers=tokens["planner"]).status_code == 200
    # spaces and dashes in a typed account number are ignored
    typed = f"{account[:3]} {account[3:6]}-{account[6:]}"
    r = anon.get("/lookup/account.json", query_string={"account": typed})
    assert r.status_code == 200, r.json
    (p,) = r.json["planned"]
    assert (p["start"], p["end"]) == (o["start"], o["end"])
    assert p["date"] == o["start"][:10] and p["reason"] == "maintenance" and p["supply"] == supply
    layer = read_layers(grid_path)["customers"].set_index("account")
    assert r.json["area"] == street_of(layer.at[account, "address"])
    streets = {street_of(layer.at[a, "address"]) for a in affected}
    assert set(p["area"]["streets"]) == streets
    # a customer the outage does not reach sees nothing planned
    others = sorted(set(layer.index) - set(affected))
    if others:
        r = anon.get("/lookup/account.json", query_string={"account": others[0]})
        assert r.status_code == 200 and r.json["planned"] == []
    # the street and the map click answer the same outage
    r = anon.get("/lookup/street.json", query_string={"street": r.json["area"] if others else next(iter(streets))})
    assert r.status_code == 200
    lon, lat = (float(v) for v in (layer.at[account, "geometry"].x, layer.at[account, "geometry"].y))
    r = anon.get("/lookup/point.json", query_string={"lon": lon, "lat": lat})
    assert r.status_code == 200 and len(r.json["planned"]) == 1
    # cancelled: gone again
    o = _outage(staff, tokens, plan_id)
    staff.patch(f"/api/outages/{o['id']}", json={"version": o["version"], "status": "cancelled"}, headers=tokens["planner"])
    assert anon.get("/lookup/account.json", query_string={"account": account}).json["planned"] == []


def test_street_search_returns_streets_not_customers(service: Any, grid_path: Path) -> None:
    app = service[0]
    anon = app.test_client()
    r = anon.get("/lookup/streets.json", query_string={"q": "discrete"})  # accents and case ignored
    assert r.status_code == 200 and r.json == {"streets": ["Rue Discrète"]}
    r = anon.get("/lookup/streets.json", query_string={"q": "rue avenue"})
    assert r.status_code == 404 and r.json["code"] == "no_streets"
    r = anon.get("/lookup/street.json", query_string={"street": "Rue Discrète"})
    assert r.status_code == 200 and r.json["supply_points"] == STREETS.count("Rue Discrète")
    for body in (anon.get("/lookup/streets.json", query_string={"q": "a"}).get_data(as_text=True), r.get_data(as_text=True)):
        assert not [v for v in private_values(grid_path) if v in body]


def test_fault_shows_status_and_estimated_restoration(service: Any, grid_path: Path) -> None:
    app, staff, tokens, _ = service
    r = staff.post("/api/faults", json={"now": NOW, "tripped_breaker": "F1", "fault_indicators": {"F1": True, "S1": True, "S2": False}},
                   headers=tokens["dispatcher"])
    assert r.status_code == 201, r.json
    fault = r.json
    layer = read_layers(grid_path)["customers"].set_index("id")
    still_out = set(fault["stages"][-1]["still_out"])
    restored_first = set(fault["stages"][0]["restored_customers"])
    anon = app.test_client()
    assert still_out, "the faulted section has customers"
    cid = sorted(still_out)[0]
    body = anon.get("/lookup/account.json", query_string={"account": layer.at[cid, "account"]}).json
    (f,) = body["faults"]
    assert f["status"] == "out" and f["since"] == fault["now"]
    assert f["estimated_restoration"] == fault["repair"]["end"]
    if restored_first:
        rid = sorted(restored_first)[0]
        # at NOW the remote stage has not ended yet: still out, back at the stage's end
        (f,) = anon.get("/lookup/account.json", query_string={"account": layer.at[rid, "account"]}).json["faults"]
        assert f["status"] == "out" and f["estimated_restoration"] == fault["stages"][0]["end"]


def _fault(status: str = "open") -> Fault:
    t0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    f = Fault(status=status, now=t0, result={"repair": {"end": (t0 + timedelta(hours=3)).isoformat()}}, candidates=[])
    f.stages = [
        FaultStage(seq=0, kind="remote", steps=[], restored_customers=["A", "B"], still_out=["C", "D"],
                   data={"end": (t0 + timedelta(minutes=5)).isoformat()}),
        FaultStage(seq=1, kind="manual", steps=[], restored_customers=["C"], still_out=["D"],
                   data={"end": (t0 + timedelta(minutes=50)).isoformat()}),
    ]
    return f


def test_supply_status_hand_computed() -> None:
    t0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    f = _fault()
    at = faults_service.restoration_times(f)
    assert at == {"A": t0 + timedelta(minutes=5), "B": t0 + timedelta(minutes=5), "C": t0 + timedelta(minutes=50),
                  "D": t0 + timedelta(hours=3)}
    s = faults_service.supply_status(f, now=t0 + timedelta(minutes=30))
    assert {k: v[0] for k, v in s.items()} == {"A": "restored", "B": "restored", "C": "out", "D": "out"}
    s = faults_service.supply_status(_fault("restored"), now=t0)
    assert {v[0] for v in s.values()} == {"restored"}


HOSTILE = [
    ("' OR 1=1 --", {400, 422}),
    ("77001000' OR '1'='1", {400, 422}),
    ("<script>alert(1)</script>", {400, 422}),
    ("x" * 10_000, {400, 422}),
    ("%", {400, 422}),
    ("770010001; DROP TABLE outages", {400, 422}),
    ("770019999", {404}),  # a guessed account number of the same shape
    ("C1", {404}),  # a customer id is not an account
    ("", {400, 422}),
]


@pytest.mark.parametrize(("text", "statuses"), HOSTILE)
def test_hostile_account_text_never_leaks(service: Any, grid_path: Path, text: str, statuses: set[int]) -> None:
    anon = service[0].test_client()
    r = anon.get("/lookup/account.json", query_string={"account": text})
    assert r.status_code in statuses, (r.status_code, r.json)
    body = r.get_data(as_text=True)
    assert r.is_json and r.json["code"] and r.json["message"]
    assert "<" not in body and (len(text) < 3 or text[:50] not in body)  # the input is not echoed
    assert not [v for v in private_values(grid_path) if v in body]


@pytest.mark.parametrize("q", ["' OR 1=1 --", "<img src=x onerror=alert(1)>", "y" * 5000, "%_%", "Discrète\x00"])
def test_hostile_street_and_point_text(service: Any, grid_path: Path, q: str) -> None:
    anon = service[0].test_client()
    for url, args in (("/lookup/streets.json", {"q": q}), ("/lookup/street.json", {"street": q}),
                      ("/lookup/point.json", {"lon": q, "lat": "43.7"})):
        r = anon.get(url, query_string=args)
        assert 400 <= r.status_code < 500, (url, r.status_code)
        body = r.get_data(as_text=True)
        assert "<img" not in body and not [v for v in private_values(grid_path) if v in body]
    r = anon.get("/lookup/point.json", query_string={"lon": "nan", "lat": "43.7"})
    assert r.status_code == 422 and r.json["code"] == "bad_point"
    r = anon.get("/lookup/point.json", query_string={"lon": "0", "lat": "0"})
    assert r.status_code == 404 and r.json["code"] == "no_supply_point"


def test_guessing_accounts_is_rate_limited(grid_path: Path, make_config: Any) -> None:
    app = create_app(make_config(GRID_PATH=str(grid_path), LOOKUP_MISS_LIMIT_PER_ADDRESS="3 per minute"), environ={})
    anon = app.test_client()
    codes = [anon.get("/lookup/account.json", query_string={"account": f"1234{i}"}).status_code for i in range(4)]
    assert codes == [404, 404, 404, 429]
    r = anon.get("/lookup/account.json", query_string={"account": "770010001"})  # even a right one, until the window passes
    assert r.status_code == 429 and r.json["code"] == "too_many_requests"
    assert "found nothing" in r.json["message"] and int(r.headers["Retry-After"]) > 0
    app.extensions["db"].engine.dispose()


def test_every_lookup_counts_per_address(grid_path: Path, make_config: Any) -> None:
    app = create_app(make_config(GRID_PATH=str(grid_path), LOOKUP_LIMIT_PER_ADDRESS="2 per minute"), environ={})
    anon = app.test_client()
    codes = [anon.get("/lookup/account.json", query_string={"account": "770010001"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert anon.get("/lookup").status_code == 200  # the page itself is not limited
    app.extensions["db"].engine.dispose()


def test_page_needs_no_login_and_speaks_chinese(service: Any) -> None:
    anon = service[0].test_client()
    r = anon.get("/lookup")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Is my electricity supply affected?" in html
    assert "vendor/leaflet-1.9.4/dist/leaflet.js" in html and "js/pages/lookup.js" in html
    assert "<script>" not in html.replace('<script type="application/json" id="page-config">', "")  # no inline script
    assert "http://" not in html.split("page-config")[0] and "https://" not in html.split("page-config")[0]
    r = anon.get("/lookup", headers={"Accept-Language": "zh-CN"})
    assert "我的供电受影响吗" in r.get_data(as_text=True)
