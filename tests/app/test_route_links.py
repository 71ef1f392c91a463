"""The crew's phone (issue 14): route links (token, QR, SMS, expiry, revocation, scope), the
stop sheet, stop photos, phone times and crew positions. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from test_route_stops import NOW, _stops

from app.models import Dispatch, Fault, Notification, Route, RouteLink, RouteStop, StopPhoto
from app.services import routing as routing_service


@pytest.fixture
def routes(app: Any, tokens: Any) -> dict[str, int]:
    """A done dispatch with a route for K1 and one for K2 (tasks at equipment R2 and D3)."""
    with app.app_context(), app.extensions["db"].session(actor="test") as s:
        tasks = [{"id": "T1-a", "location": "R2"}, {"id": "T1-b", "location": "D3"},
                 {"id": "T2-a", "location": "R5"}, {"id": "T2-b", "location": [7.43, 43.731]}]
        d = Dispatch(status="done", now=NOW, objective="distance", crew_ids=["K1", "K2"], tasks=tasks, dropped=[])
        d.routes.append(Route(crew_id="K1", stops=_stops("T1"), geometry=None,
                              stop_states=[RouteStop(task_id="T1-a"), RouteStop(task_id="T1-b")]))
        d.routes.append(Route(crew_id="K2", stops=_stops("T2"), geometry=None))
        s.add(d)
        s.flush()
        return {"dispatch": d.id, "K1": d.routes[0].id, "K2": d.routes[1].id}


def _link(client: Any, tokens: Any, route: int, **body: Any) -> Any:
    r = client.post(f"/api/routes/{route}/links", json=body, headers=tokens["dispatcher"])
    assert r.status_code == 201, r.json
    return r.json


def _phone(app: Any, url: str) -> tuple[Any, str]:
    """A fresh client (a phone with no login) that opened ``url``; returns it and its CSRF token."""
    c = app.test_client()
    r = c.get(url)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    page = c.get(r.headers["Location"], follow_redirects=True)
    assert page.status_code == 200
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    assert meta
    return c, meta.group(1)


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@pytest.fixture
def csrf_on(app: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = True


def test_link_opens_its_route_only_without_login(app: Any, client: Any, tokens: Any, routes: dict[str, int], csrf_on: None) -> None:
    link = _link(client, tokens, routes["K1"], phone="+377 6 12 34 56 78")
    assert link["state"] == "active" and "/r/" in link["url"]
    assert link["qr_svg"].lstrip().startswith("<svg") and "<script" not in link["qr_svg"]
    token = link["url"].rsplit("/r/", 1)[1]
    with app.app_context(), app.extensions["db"].session() as s:
        row = s.get(RouteLink, link["id"])
        assert row is not None and token not in row.token_hash and len(row.token_hash) == 64  # only a hash is stored
        sms = s.scalar(select(Notification).where(Notification.id == link["sms"]["id"]))
        assert sms is not None and sms.kind == "crew_link" and sms.recipient == "+377612345678" and link["url"] in sms.text_en
    sent = client.post("/api/notifications/send-due", headers=tokens["customer_service"])
    assert sent.status_code == 200 and sent.json["sent"] >= 1
    lines = [json.loads(x) for x in Path(app.config["NOTIFY_FILE"]).read_text(encoding="utf-8").splitlines()]
    assert [(x["phone"], x["kind"]) for x in lines if x["id"] == link["sms"]["id"]] == [("+377612345678", "crew_link")]
    phone, csrf = _phone(app, _path(link["url"]))
    h = {"X-CSRFToken": csrf, "Idempotency-Key": "tap-1"}
    sheet = phone.get(f"/api/routes/{routes['K1']}/sheet")
    assert sheet.status_code == 200 and sheet.json["crew"]["id"] == "K1" and sheet.json["link_expires_at"]
    r = phone.post(f"/api/routes/{routes['K1']}/stops/T1-a", json={"status": "arrived"}, headers=h)
    assert r.status_code == 200 and r.json["stops"][0]["status"] == "arrived"
    again = phone.post(f"/api/routes/{routes['K1']}/stops/T1-a", json={"status": "arrived"}, headers=h)  # a queued report sent twice
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    h = {"X-CSRFToken": csrf}
    assert client.get(f"/api/routes/{routes['K1']}", headers=tokens["dispatcher"]).json["stops"][0]["status"] == "arrived"
    # another crew's route, another crew, other pages: a clear refusal, nothing changed
    for url in (f"/api/routes/{routes['K2']}", f"/api/routes/{routes['K2']}/sheet", "/api/crews/K2", "/api/crews/K1/route",
                f"/api/dispatches/{routes['dispatch']}", "/api/faults"):
        r = phone.get(url)
        assert r.status_code == 403 and r.json["code"] == "route_link_scope", url
    r = phone.post(f"/api/routes/{routes['K2']}/stops/T2-a", json={"status": "arrived"}, headers=h)
    assert r.status_code == 403 and r.json["code"] == "route_link_scope"
    assert phone.get("/crew/K2").status_code == 403 and phone.get("/dispatcher").status_code == 403
    assert "only its own route" in phone.get("/planner").get_data(as_text=True)


def test_expired_revoked_and_forged_links_say_so(app: Any, client: Any, tokens: Any, routes: dict[str, int], csrf_on: None) -> None:
    link = _link(client, tokens, routes["K1"], ttl_min=30, phone="0612345678")
    path = _path(link["url"])
    phone, _ = _phone(app, path)
    assert phone.get(f"/api/routes/{routes['K1']}/sheet").status_code == 200
    with app.app_context(), app.extensions["db"].session() as s:
        row = s.get(RouteLink, link["id"])
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    r = phone.get(f"/api/routes/{routes['K1']}/sheet")
    assert r.status_code == 401 and r.json["code"] == "route_link_expired" and "expired" in r.json["message"]
    page = app.test_client().get(path)
    assert page.status_code == 401 and "expired" in page.get_data(as_text=True)
    # revoked: the open session stops, the pending SMS is cancelled
    link2 = _link(client, tokens, routes["K1"], phone="0612345678")
    phone2, _ = _phone(app, _path(link2["url"]))
    r = client.post(f"/api/route-links/{link2['id']}/revoke", headers=tokens["dispatcher"])
    assert r.status_code == 200 and r.json["state"] == "revoked"
    r = phone2.get(f"/api/routes/{routes['K1']}/sheet")
    assert r.status_code == 401 and r.json["code"] == "route_link_revoked"
    with app.app_context(), app.extensions["db"].session() as s:
        assert s.get(Notification, link2["sms"]["id"]).status == "cancelled"  # type: ignore[union-attr]
    # tampered and foreign tokens
    token = path.rsplit("/", 1)[1]
    for bad in (token[:-2] + ("aa" if not token.endswith("aa") else "bb"), "x", "op_" + "a" * 40):
        r = app.test_client().get(f"/r/{bad}")
        assert r.status_code == 401 and "not a valid route link" in r.get_data(as_text=True)
    listed = client.get(f"/api/routes/{routes['K1']}/links", headers=tokens["dispatcher"]).json["items"]
    assert [x["state"] for x in listed] == ["revoked", "expired"] and all("url" not in x for x in listed)


@pytest.mark.parametrize("body", [{"phone": "call me"}, {"phone": "+1+2345678"}, {"ttl_min": 0}, {"ttl_min": 100000}, {"x": 1}])
def test_bad_link_requests_are_422(client: Any, tokens: Any, routes: dict[str, int], body: Any) -> None:
    r = client.post(f"/api/routes/{routes['K1']}/links", json=body, headers=tokens["dispatcher"])
    assert r.status_code == 422, r.json
    assert client.get(f"/api/routes/{routes['K1']}/links", headers=tokens["dispatcher"]).json["items"] == []


@pytest.mark.parametrize("role", ["crew", "planner", "viewer", "customer_service"])
def test_only_dispatchers_make_links(client: Any, tokens: Any, routes: dict[str, int], role: str) -> None:
    assert client.post(f"/api/routes/{routes['K1']}/links", json={}, headers=tokens[role]).status_code == 403
    assert client.post(f"/api/routes/{routes['K1']}/links", json={}).status_code == 401


def test_steps_strictly_in_order_with_the_phones_time(client: Any, tokens: Any, routes: dict[str, int]) -> None:
    crew, url = tokens["crew"], f"/api/routes/{routes['K1']}/stops/T1-a"
    for status in ("working", "done"):
        r = client.post(url, json={"status": status}, headers=crew)
        assert r.status_code == 409 and r.json["code"] == "stop_out_of_order"
    late = (datetime.now(UTC) - timedelta(minutes=7)).replace(microsecond=0)
    r = client.post(url, json={"status": "arrived", "at": late.isoformat(), "note": "gate locked <b>x</b>"}, headers=crew)
    assert r.status_code == 200
    a = r.json["stops"][0]
    assert datetime.fromisoformat(a["arrived_at"]) == late  # the phone's time is kept
    assert datetime.fromisoformat(a["received"]["arrived"]) - late >= timedelta(minutes=7)  # and when it was received
    assert a["note"] == "gate locked <b>x</b>"
    assert client.post(url, json={"status": "done"}, headers=crew).json["code"] == "stop_out_of_order"
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = client.post(url, json={"status": "working", "at": future}, headers=crew)
    assert r.status_code == 422 and r.json["code"] == "bad_client_time"
    ancient = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    assert client.post(url, json={"status": "working", "at": ancient}, headers=crew).json["code"] == "bad_client_time"
    assert client.get(f"/api/routes/{routes['K1']}", headers=crew).json["stops"][0]["status"] == "arrived"
    assert client.post(url, json={"status": "working"}, headers=crew).status_code == 200
    assert client.post(url, json={"status": "done", "note": "cable joint replaced"}, headers=crew).status_code == 200
    s = client.get(f"/api/routes/{routes['K1']}", headers=tokens["dispatcher"]).json["stops"][0]
    assert s["status"] == "done" and s["note"] == "cable joint replaced"
    assert datetime.fromisoformat(s["arrived_at"]) <= datetime.fromisoformat(s["working_at"]) <= datetime.fromisoformat(s["done_at"])


def _png(size: tuple[int, int] = (8, 6)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "#3366cc").save(buf, format="PNG")
    return buf.getvalue()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (5, 5), "#cc3366").save(buf, format="JPEG")
    return buf.getvalue()


def _upload(client: Any, headers: dict[str, str], route: int, task: str, data: bytes, name: str = "p.jpg", **form: str) -> Any:
    return client.post(f"/api/routes/{route}/stops/{task}/photos", headers=headers,
                       data={"photo": (io.BytesIO(data), name), **form}, content_type="multipart/form-data")


def test_photos_only_real_images_within_the_limit(app: Any, client: Any, tokens: Any, routes: dict[str, int]) -> None:
    crew = tokens["crew"]
    r = _upload(client, crew, routes["K1"], "T1-a", _png(), "meter.png", note="the meter")
    assert r.status_code == 201, r.json
    assert (r.json["content_type"], r.json["width"], r.json["height"], r.json["note"]) == ("image/png", 8, 6, "the meter")
    got = client.get(r.json["url"], headers=tokens["dispatcher"])
    assert got.status_code == 200 and got.mimetype == "image/png" and got.data == _png()
    assert _upload(client, crew, routes["K1"], "T1-a", _jpeg()).json["content_type"] == "image/jpeg"
    bad = {
        "text named .jpg": (b"hello, this is not a photo", "photo_not_image"),
        "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "photo_not_image"),
        "png header, garbage": (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "photo_not_image"),
        "jpeg cut short": (_jpeg()[:20], "photo_not_image"),
        "empty": (b"", "photo_empty"),
    }
    for what, (data, code) in bad.items():
        r = _upload(client, crew, routes["K1"], "T1-a", data)
        assert r.status_code == 422 and r.json["code"] == code, what
    app.config["PHOTO_MAX_BYTES"] = 100
    r = _upload(client, crew, routes["K1"], "T1-a", _png((64, 64)))
    assert r.status_code == 422 and r.json["code"] == "photo_too_large"
    assert _upload(client, crew, routes["K1"], "T1-a", b"x" * 300_000).status_code == 413  # over MAX_CONTENT_LENGTH
    listed = client.get(f"/api/routes/{routes['K1']}/photos", headers=tokens["dispatcher"]).json["items"]
    assert [p["content_type"] for p in listed] == ["image/png", "image/jpeg"]
    # another crew's route and its photos are not the crew's
    assert _upload(client, crew, routes["K2"], "T2-a", _png()).status_code == 404
    assert _upload(client, crew, routes["K1"], "nope", _png()).status_code == 404
    assert client.post(f"/api/routes/{routes['K1']}/stops/T1-a/photos", headers=crew, data={},
                       content_type="multipart/form-data").json["code"] == "photo_missing"
    with app.app_context(), app.extensions["db"].session() as s:
        assert len(s.scalars(select(StopPhoto)).all()) == 2


def test_positions_late_time_kept_bad_ones_refused(app: Any, client: Any, tokens: Any) -> None:
    crew = tokens["crew"]
    late = (datetime.now(UTC) - timedelta(minutes=4)).replace(microsecond=0)
    r = client.post("/api/crews/K1/positions", json={"lon": 7.425, "lat": 43.733, "at": late.isoformat()}, headers=crew)
    assert r.status_code == 201, r.json
    assert datetime.fromisoformat(r.json["at"]) == late and datetime.fromisoformat(r.json["received_at"]) > late
    seen = client.get("/api/crews", headers=tokens["dispatcher"]).json["items"]
    assert next(c for c in seen if c["id"] == "K1")["position"] == {"lon": 7.425, "lat": 43.733, "at": r.json["at"]}
    swapped = client.post("/api/crews/K1/positions", json={"lon": 43.733, "lat": 7.425}, headers=crew)
    assert swapped.status_code == 422 and swapped.json["code"] == "position_swapped"
    far = client.post("/api/crews/K1/positions", json={"lon": 2.35, "lat": 48.85}, headers=crew)  # Paris
    assert far.status_code == 422 and far.json["code"] == "position_outside_area"
    future = client.post("/api/crews/K1/positions", json={"lon": 7.425, "lat": 43.733,
                                                         "at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()}, headers=crew)
    assert future.status_code == 422 and future.json["code"] == "bad_client_time"
    assert len(client.get("/api/crews/K1/positions", headers=crew).json["items"]) == 1


def test_positions_far_from_every_road_are_refused(app: Any, client: Any, tokens: Any) -> None:
    import networkx as nx

    from routing import load_roads

    g = nx.MultiDiGraph(crs="EPSG:4326")
    for i, lon in enumerate((7.420, 7.426, 7.432)):
        g.add_node(i, x=lon, y=43.733)
    for u, v in ((0, 1), (1, 2)):
        for a, b in ((u, v), (v, u)):
            g.add_edge(a, b, length=480.0, travel_time=40.0, highway="residential", name="Rue du Test")
    assert client.get("/api/crews", headers=tokens["crew"]).status_code == 200  # the served grid version is settled
    app.extensions["roads"] = load_roads(g)
    ok = client.post("/api/crews/K1/positions", json={"lon": 7.424, "lat": 43.7335}, headers=tokens["crew"])
    assert ok.status_code == 201 and ok.json["street"] == "Rue du Test" and ok.json["road_distance_m"] < 60
    off = client.post("/api/crews/K1/positions", json={"lon": 7.424, "lat": 43.737}, headers=tokens["crew"])  # ~440 m north
    assert off.status_code == 422 and off.json["code"] == "position_off_road" and off.json["details"]["road_distance_m"] > 400


def test_sheet_names_equipment_switching_and_customers(app: Any, client: Any, tokens: Any) -> None:
    r = client.post("/api/faults", json={"tripped_breaker": "F1"}, headers=tokens["dispatcher"])
    assert r.status_code in (200, 201), r.json
    fault_id = r.json["id"]
    with app.app_context(), app.extensions["db"].session(actor="test") as s:
        fault = s.get(Fault, fault_id)
        assert fault is not None
        tasks = routing_service.tasks_from_fault(fault)
        assert tasks, "the small ring's fault needs crews"
        stops = [{"task_id": t["id"], "name": t["name"], "lon": 7.43, "lat": 43.73, "arrival": NOW.isoformat()} for t in tasks]
        d = Dispatch(status="done", now=NOW, objective="distance", crew_ids=["K1"], tasks=tasks, dropped=[], fault_id=fault_id)
        d.routes.append(Route(crew_id="K1", stops=stops, geometry=None))
        s.add(d)
        s.flush()
        route_id = d.routes[0].id
        expected = {}
        for st in fault.stages:
            for i, step in enumerate(st.steps):
                # a step's customers: those it gives supply back to, else those its stage restores
                expected[f"F{fault_id}-S{st.seq}-{i}"] = {**step, "customers": set(step["restores"] or st.restored_customers)}
        repair = fault.result["repair"]  # type: ignore[index]
    sheet = client.get(f"/api/routes/{route_id}/sheet", headers=tokens["crew"]).json
    assert sheet["crew"] == {"id": "K1", "name": "Crew one"} and sheet["nav_templates"] == []
    for stop in sheet["route"]["stops"]:
        det = stop["details"]
        if stop["task_id"].endswith("-repair"):
            assert det["equipment"]["id"] == repair["node"] and det["customers"]["count"] == len(repair["customers_out"])
            assert det["switching"] == [] and det["repair"]["equipment_kind"] == repair["equipment_kind"]
            continue
        step = expected[stop["task_id"]]
        assert det["equipment"]["id"] == step["node"] and det["equipment"]["name"] == f"Node {step['node']}"
        assert det["equipment"]["kind"] in ("rmu", "distribution_room")
        assert [(x["switch"], x["action"], x["remote"]) for x in det["switching"]] == [(step["switch"], step["action"], False)]
        assert det["customers"]["count"] == len(step["customers"]) > 0
        assert len(det["customers"]["sample"]) == min(5, det["customers"]["count"])
        # the access point is the equipment itself in the small ring (no access columns): 0 m away
        assert det["equipment"]["access_point"]["to_equipment_m"] == 0.0


def test_nav_templates_come_from_the_config(make_config: Any) -> None:
    from app import ConfigError, settings

    good = [{"name": "Amap", "url": "https://uri.amap.com/navigation?to={lon},{lat},{label}&mode=car"}]
    assert settings(make_config(NAV_LINK_TEMPLATES=good), environ={})["NAV_LINK_TEMPLATES"] == good
    assert settings(make_config(), environ={"OUTAGE_NAV_LINK_TEMPLATES": json.dumps(good)})["NAV_LINK_TEMPLATES"] == json.dumps(good)
    for bad in ([{"name": "x", "url": "javascript:alert({lat},{lon})"}], [{"name": "x", "url": "https://a/?q={lat}"}],
                "not json", [{"url": "https://a/{lat},{lon}"}]):
        with pytest.raises(ConfigError, match="NAV_LINK_TEMPLATES"):
            settings(make_config(NAV_LINK_TEMPLATES=bad), environ={})


def test_sheet_shows_the_grids_address_and_access_notes_as_given(app: Any, client: Any, tokens: Any, routes: dict[str, int]) -> None:
    from conftest import SMALL_RING

    from gis import Grid, read_layers

    layers = dict(read_layers(SMALL_RING))
    nodes = layers["nodes"].copy()
    nodes["address"] = None
    nodes["access_notes"] = None
    nodes.loc[nodes["id"] == "R2", ["address", "access_notes"]] = ["1 Rue <i>Grimaldi</i>", "Key at the guard house <img src=x onerror=alert(1)>"]
    nodes.loc[nodes["id"] == "R2", ["access_lon", "access_lat"]] = [7.4241, 43.7321]
    layers["nodes"] = nodes
    assert client.get("/api/crews", headers=tokens["crew"]).status_code == 200  # the served grid version is settled
    app.extensions["grid"] = Grid.from_layers(layers)
    stop = client.get(f"/api/routes/{routes['K1']}/sheet", headers=tokens["crew"]).json["route"]["stops"][0]
    eq = stop["details"]["equipment"]
    assert (eq["id"], eq["name"], eq["kind"]) == ("R2", "Node R2", "rmu")
    assert eq["address"] == "1 Rue <i>Grimaldi</i>" and eq["access_notes"] == "Key at the guard house <img src=x onerror=alert(1)>"
    ap = eq["access_point"]
    assert (ap["lon"], ap["lat"]) == (7.4241, 43.7321)
    # the equipment from its access point, computed by hand: dx, dy in metres, then the compass
    import math
    dy = (eq["lat"] - 43.7321) * 111_320
    dx = (eq["lon"] - 7.4241) * 111_320 * math.cos(math.radians((eq["lat"] + 43.7321) / 2))
    assert ap["to_equipment_m"] == pytest.approx(math.hypot(dx, dy), abs=0.1)
    assert ap["direction"] == ("N", "NE", "E", "SE", "S", "SW", "W", "NW")[int(((math.degrees(math.atan2(dx, dy)) + 360) % 360 + 22.5) // 45) % 8]
    other = client.get(f"/api/routes/{routes['K1']}/sheet", headers=tokens["crew"]).json["route"]["stops"][1]["details"]["equipment"]
    assert other["id"] == "D3" and other["address"] is None and other["access_notes"] is None


def test_crew_page_in_chinese_and_installable(app: Any, client: Any, tokens: Any, routes: dict[str, int]) -> None:
    page = client.get(f"/crew/K1?route={routes['K1']}", headers={**tokens["crew"], "Accept-Language": "zh"}).get_data(as_text=True)
    assert "作业中" in page and "此站的倒闸操作" in page and 'rel="manifest"' in page
    m = client.get("/crew/manifest.webmanifest", headers={"Accept-Language": "zh"})
    assert m.status_code == 200 and m.json["scope"] == "/crew/" and m.json["name"] == "班组路线"
    for icon in m.json["icons"]:
        with client.get(icon["src"]) as r:
            assert r.status_code == 200 and r.mimetype == "image/png"
    sw = client.get("/crew/sw.js")
    assert sw.status_code == 200 and sw.mimetype == "text/javascript" and b"caches" in sw.data
