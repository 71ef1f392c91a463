"""The pages blueprint on a minimal Flask app (no service): pages, map script, map data."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from pages_app import XSS_NAMES, pages_app  # type: ignore[import-not-found]

PAGES = ["/planner", "/dispatcher", "/crew/K1", "/service"]


def asset_urls(page_html: str) -> list[str]:
    return re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page_html)


@pytest.mark.parametrize("path", PAGES)
def test_each_page_renders_with_local_assets_only(client, path: str) -> None:  # type: ignore[no-untyped-def]
    r = client.get(path)
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    urls = asset_urls(body)
    assert any(u == "/static/vendor/leaflet-1.9.4/dist/leaflet.js" for u in urls)
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "<script>" not in body  # no inline script: the CSP is script-src 'self'
    script_url = next(u for u in urls if u.startswith("/pages/map/"))
    js = client.get(script_url)
    assert js.status_code == 200 and js.mimetype == "text/javascript"
    assert "OutageMap.setup" in js.get_data(as_text=True)
    assert "https://" not in js.get_data(as_text=True).replace("https://www.openstreetmap.org/copyright", "")


def test_page_config_is_json_for_the_scripts(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/planner").get_data(as_text=True)
    raw = re.search(r'<script type="application/json" id="page-config">(.*?)</script>', body, re.S)
    assert raw
    cfg = json.loads(raw.group(1))
    assert cfg["page"] == "planner" and cfg["data"]["zone"] == "/pages/data/zone.geojson"
    assert cfg["labels"]["first"] == "First grade"
    assert cfg["timezone"] == "Europe/Monaco"  # the small ring's meta: times shown on the grid's clock


def test_map_script_in_an_unknown_language_or_page_is_404(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/pages/map/planner.js?lang=xx").status_code == 404
    assert client.get("/pages/map/nope.js").status_code == 404


def test_grid_layers_and_customers_by_url(client) -> None:  # type: ignore[no-untyped-def]
    fc = client.get("/pages/data/grid/switches.geojson").get_json()
    assert {f["properties"]["id"] for f in fc["features"]} == {"F1", "F2", "S1", "S2", "S3", "S4", "S5", "T1"}
    assert client.get("/pages/data/grid/secrets.geojson").status_code == 404
    cust = client.get("/pages/data/customers.geojson")
    assert cust.mimetype == "application/geo+json"
    assert len(cust.get_json()["features"]) == 7
    assert "phone" not in cust.get_data(as_text=True)
    cols = client.get("/pages/data/customers.columns.json").get_json()
    assert cols["count"] == 7 and len(cols["lon"]) == 7


def test_big_payloads_are_gzipped_and_cacheable(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/pages/map/planner.js?lang=en", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("Content-Encoding") == "gzip"
    assert b"OutageMap.setup" in gzip.decompress(r.data)
    again = client.get("/pages/map/planner.js?lang=en", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


def test_zone_preview_and_its_errors(client) -> None:  # type: ignore[no-untyped-def]
    fc = client.get("/pages/data/zone.geojson?equipment=R2").get_json()
    assert fc["summary"]["dead_customers"] == 2
    missing = client.get("/pages/data/zone.geojson")
    assert missing.status_code == 400 and missing.get_json()["code"] == "missing_equipment"
    unknown = client.get("/pages/data/zone.geojson?equipment=NOPE")
    assert unknown.status_code == 404 and "NOPE" in unknown.get_json()["message"]
    busbar = client.get("/pages/data/zone.geojson?equipment=BA")
    assert busbar.status_code == 422 and busbar.get_json()["code"] == "source_equipment"


def test_state_overlay_and_its_errors(client) -> None:  # type: ignore[no-untyped-def]
    fc = client.get("/pages/data/state.geojson?open=S1,S2&close=T1").get_json()
    dead = {f["properties"]["id"] for f in fc["features"] if f["properties"].get("layer") == "customer"}
    assert dead == {"C1", "C2"}  # s2 cut off on both sides; s3 back from F2 through T1
    assert fc["summary"]["transferred_customers"] == 2
    whole = client.get("/pages/data/state.geojson?open=S1&close=T1").get_json()
    assert whole["summary"] == {"dead_customers": 0, "transferred_customers": 4, "dead_nodes": 0}  # s2 and s3 via S2
    assert client.get("/pages/data/state.geojson?open=S1&close=S1").status_code == 422
    assert client.get("/pages/data/state.geojson?open=ZZ").status_code == 404


def test_load_curve_of_a_flat_customer(client) -> None:  # type: ignore[no-untyped-def]
    data = client.get("/pages/data/load.json?customers=C3&date=2026-11-23").get_json()
    assert len(data["times"]) == 96 and data["times"][0].startswith("2026-11-23T00:00:00+01:00")  # Europe/Monaco
    (series,) = data["series"]
    assert series["id"] == "C3" and series["importance"] == "first"
    assert series["kw"] == [400.0] * 96  # profile "flat" (factor 1.0) x demand 400 kW
    assert client.get("/pages/data/load.json?customers=C3&date=23/11/2026").status_code == 400
    assert client.get("/pages/data/load.json?customers=NOPE").status_code == 404


def test_hostile_names_reach_the_browser_only_as_json(xss_grid) -> None:  # type: ignore[no-untyped-def]
    client = pages_app(xss_grid).test_client()
    for path in PAGES:
        body = client.get(path).get_data(as_text=True)
        for name in XSS_NAMES.values():
            assert name not in body
    raw = client.get("/pages/data/customers.geojson").get_data(as_text=True)
    names = {f["properties"]["id"]: f["properties"]["name"] for f in json.loads(raw)["features"]}
    assert names["C1"] == XSS_NAMES["C1"]  # data intact, shown with textContent by the page
    js = client.get("/pages/map/planner.js?lang=en").get_data(as_text=True)
    assert "<img" not in js and "</script" not in js.lower()


def test_pages_in_simplified_chinese(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/planner", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "停电计划" in body and "新建工作" in body
    assert '<html lang="zh">' in body
    cfg = json.loads(re.search(r'id="page-config">(.*?)</script>', body, re.S).group(1))  # type: ignore[union-attr]
    assert cfg["locale"] == "zh" and cfg["labels"]["first"] == "一级"
    script_url = re.search(r'src="(/pages/map/planner\.js[^"]*)"', body).group(1)  # type: ignore[union-attr]
    assert "lang=zh" in script_url
    js = client.get(script_url.replace("&amp;", "&")).get_data(as_text=True)
    assert json.dumps("全部用户")[1:-1] in js  # layer names, JSON-escaped in the map script
    en = client.get("/planner", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Outage planning" in en and "停电计划" not in en


def test_zh_catalog_is_complete_and_compiled() -> None:
    from pathlib import Path

    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    lc = Path(__file__).resolve().parents[2] / "app" / "translations" / "zh" / "LC_MESSAGES"
    with (lc / "messages.po").open("rb") as f:
        po = read_po(f, locale="zh")
    with (lc / "messages.mo").open("rb") as f:
        mo = read_mo(f)
    ids = [m.id for m in po if m.id]
    assert ids
    assert [i for i in ids if not po[i].string] == []
    assert {i: mo[i].string for i in ids if i in mo} == {i: po[i].string for i in ids}  # .mo compiled from this .po


def test_no_road_layer_without_a_road_network(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/pages/data/grid/roads.geojson").status_code == 404
    assert "roads.geojson" not in client.get("/pages/map/planner.js?lang=en").get_data(as_text=True)


def test_every_planning_error_code_has_a_label_in_both_languages(client) -> None:  # type: ignore[no-untyped-def]
    """The codes of docs/planning.md's error table: the planner page shows each in the page's language."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "planning.md").read_text(encoding="utf-8")
    table = doc.split("### Error codes", 1)[1].split("\n\n", 2)[1]
    codes = {c for line in table.splitlines() if line.startswith("| `") for c in re.findall(r"`([a-z_]+)`", line.split("|")[1])}
    assert {"peak_hours_conflict", "not_scheduled", "window_past"} <= codes
    for lang, expect_chinese in (("en", False), ("zh-CN", True)):
        body = client.get("/planner", headers={"Accept-Language": lang}).get_data(as_text=True)
        labels = json.loads(re.search(r'id="page-config">(.*?)</script>', body, re.S).group(1))["labels"]  # type: ignore[union-attr]
        missing = sorted(c for c in codes if f"err_{c}" not in labels)
        assert missing == [], missing
        assert all(bool(re.search(r"[\u4e00-\u9fff]", labels[f"err_{c}"])) == expect_chinese for c in codes)


def test_load_curve_dates_out_of_range_are_400(client) -> None:  # type: ignore[no-untyped-def]
    for day in ("0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01"):
        r = client.get(f"/pages/data/load.json?customers=C3&date={day}")
        assert r.status_code == 400 and r.get_json()["code"] == "bad_date", (day, r.status_code)
