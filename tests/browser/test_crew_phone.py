"""The crew's phone (issue 14), in a real browser on a 390x844 phone viewport: the dispatcher
makes a route link (QR code + SMS), the crew opens it with no login, sees the equipment, the
access point and navigation links, reports Arrived -> Working -> Done in order, loses signal
(a report made offline is queued and replayed when it is back), and the dispatcher's API sees
the progress and the phone's position."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from browser_helpers import Service, login, wait_map, watch
from playwright.sync_api import expect
from test_pages_browser import assert_clean, shot, xss_server  # noqa: F401 (a fixture)


def _dispatcher_token(service: Service) -> dict[str, str]:
    from sqlalchemy import select

    from app.auth import issue_token
    from app.models import User

    app = service.app
    with app.app_context(), app.extensions["db"].session(actor="browser-tests") as s:
        u = s.scalar(select(User).where(User.username == "dispatcher-user"))
        return {"Authorization": f"Bearer {issue_token(s, u)}"}


def _fault_with_routes(service: Service, api: Any, h: dict[str, str]) -> dict[str, Any]:
    grid = service.app.extensions["grid"]
    breaker = str(grid.feeders.sort_values("customers", ascending=False).iloc[0]["id"])
    f = api.post("/api/faults", json={"tripped_breaker": breaker}, headers=h)
    assert f.status_code in (200, 201), f.json
    d = api.post("/api/dispatches", json={"fault_id": f.json["id"]}, headers=h)
    assert d.status_code == 202, d.json
    got = api.get(f"/api/dispatches/{d.json['dispatch']['id']}", headers=h).json
    assert got["status"] == "done", got
    return got


def _forget(service: Service, dispatch: dict[str, Any]) -> None:
    """Delete the fault and dispatch this test made (the service is shared by the session's tests,
    and the dispatcher page opens the newest fault)."""
    from sqlalchemy import delete

    from app.models import CrewPosition, Dispatch, Fault

    app = service.app
    with app.app_context(), app.extensions["db"].session(actor="browser-tests") as s:
        d = s.get(Dispatch, dispatch["id"])
        if d is not None:
            s.delete(d)
            s.flush()
        f = s.get(Fault, dispatch["fault_id"])
        if f is not None:
            s.delete(f)
        s.execute(delete(CrewPosition))


def test_crew_opens_the_qr_link_and_works_its_stops_offline_too(browser: Any, service: Service) -> None:
    api = service.app.test_client()
    h = _dispatcher_token(service)
    dispatch = _fault_with_routes(service, api, h)
    try:
        _walk(browser, service, api, h, dispatch)
    finally:
        _forget(service, dispatch)


def _walk(browser: Any, service: Service, api: Any, h: dict[str, str], dispatch: dict[str, Any]) -> None:
    route = next(r for r in dispatch["routes"] if len(r["stops"]) >= 2)

    # the dispatcher's page: the route's phone link as a QR code, and an SMS in the outbox
    desk = browser.new_context(viewport={"width": 1400, "height": 900})
    page = desk.new_page()
    w = watch(page)
    login(page, service, "dispatcher-user")
    page.goto(service.url + "/dispatcher")
    wait_map(page, "dispatcher")
    item = page.locator(f'#route-share-list li[data-route="{route["id"]}"]')
    expect(item).to_be_visible(timeout=30000)
    item.locator("input.route-phone").fill("+377 6 00 00 00 01")
    item.locator("button.send-link").click()
    expect(item.locator("img.route-qr")).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth > 0", item.locator("img.route-qr").element_handle())  # the SVG draws
    url = item.locator("a.route-link").get_attribute("href")
    assert url and url.startswith(service.url + "/r/")
    expect(item.locator(".route-sms")).to_contain_text("+377")
    outbox = api.get("/api/notifications?kind=crew_link", headers=h).json["items"]
    assert len(outbox) == 1 and url in outbox[0]["text_en"] and outbox[0]["status"] == "pending"
    assert_clean(w)

    # the crew's phone: no login, its position from the phone's GPS
    first = route["stops"][0]
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                geolocation={"latitude": first["road_lat"], "longitude": first["road_lon"]},
                                permissions=["geolocation"])
    cpage = phone.new_page()
    cw = watch(cpage)
    cpage.goto(url)
    assert f"/crew/{route['crew_id']}" in cpage.url and "/login" not in cpage.url
    wait_map(cpage, "crew")
    cpage.wait_for_function("() => window.CrewPage && CrewPage.swReady === true", timeout=20000)
    stop = cpage.locator(f'#stops li[data-task="{first["task_id"]}"]')
    expect(stop.locator(".stop-equipment")).to_be_visible()
    sheet = api.get(f"/api/routes/{route['id']}/sheet", headers=h).json
    det = next(s for s in sheet["route"]["stops"] if s["task_id"] == first["task_id"])["details"]
    eq = det["equipment"]
    expect(stop.locator(".stop-equipment")).to_contain_text(eq["id"])
    expect(stop.locator(".stop-equipment")).to_contain_text(eq["name"])
    expect(stop.locator(".stop-access-point")).to_contain_text(f"{round(eq['access_point']['to_equipment_m'])} m")
    if eq["access_point"]["street"]:
        expect(stop.locator(".stop-access-point")).to_contain_text(eq["access_point"]["street"])
    if det["switching"]:
        expect(stop.locator(".stop-switching li").first).to_contain_text(det["switching"][0]["switch"])
    assert stop.locator("a.nav-geo").get_attribute("href").startswith("geo:")
    apple = stop.locator("a.nav-apple").get_attribute("href")
    assert apple.startswith("https://maps.apple.com/?daddr=") and f"{eq['access_point']['lat']:.6f}" in apple
    # Arrived -> Working -> Done, only the next step can be pressed
    expect(stop.locator("button.stop-working")).to_be_disabled()
    expect(stop.locator("button.stop-done")).to_be_disabled()
    for step in ("arrived", "working", "done"):
        stop.locator(f"button.stop-{step}").click()
        expect(stop).to_have_attribute("data-status", step)
        expect(stop).to_have_attribute("data-server-status", step, timeout=10000)
        if step == "arrived":
            cpage.evaluate("() => window.scrollTo(0, 0)")
            shot(cpage, "crew")
    expect(stop.locator("button.stop-done")).to_be_disabled()

    # no signal: the next stop's Arrived is kept on the phone, then sent when the signal is back
    second = cpage.locator(f'#stops li[data-task="{route["stops"][1]["task_id"]}"]')
    phone.set_offline(True)
    second.locator("button.stop-arrived").click()
    expect(second).to_have_attribute("data-status", "arrived")
    expect(cpage.locator("#crew-sync")).to_have_attribute("data-queued", "1")
    cpage.wait_for_timeout(500)
    on_server = api.get(f"/api/routes/{route['id']}", headers=h).json["stops"][1]
    assert on_server["status"] == "planned"
    cpage.wait_for_timeout(1500)  # the phone's time of the report is before it reaches the server
    phone.set_offline(False)
    expect(second).to_have_attribute("data-server-status", "arrived", timeout=20000)
    expect(cpage.locator("#crew-sync")).to_have_attribute("data-queued", "0")
    got = api.get(f"/api/dispatches/{dispatch['id']}", headers=h).json
    stops = next(r for r in got["routes"] if r["id"] == route["id"])["stops"]
    assert [s["status"] for s in stops[:2]] == ["done", "arrived"]
    arrived, received = datetime.fromisoformat(stops[1]["arrived_at"]), datetime.fromisoformat(stops[1]["received"]["arrived"])
    assert (received - arrived).total_seconds() >= 1.5  # the phone's time was kept

    # the dispatcher sees the phone's position
    crews = api.get("/api/crews", headers=h).json["items"]
    pos = next(c for c in crews if c["id"] == route["crew_id"])["position"]
    assert pos is not None and abs(pos["lat"] - first["road_lat"]) < 1e-5 and abs(pos["lon"] - first["road_lon"]) < 1e-5

    # a reload without signal still shows the route (the service worker's cache)
    phone.set_offline(True)
    cpage.reload()
    expect(cpage.locator(f'#stops li[data-task="{first["task_id"]}"]')).to_have_attribute("data-status", "done", timeout=20000)
    phone.set_offline(False)

    # the dispatcher withdraws the link: the phone is told so
    links = api.get(f"/api/routes/{route['id']}/links", headers=h).json["items"]
    assert api.post(f"/api/route-links/{links[0]['id']}/revoke", headers=h).status_code == 200
    cpage.goto(url)
    expect(cpage.locator("#link-error")).to_contain_text("withdrawn")
    assert cw.external() == [] and cw.dialogs == [] and cw.page_errors == []
    phone.close()
    desk.close()


def test_hostile_text_on_the_crew_page_shows_as_text(browser: Any, xss_server: Any) -> None:  # noqa: F811
    """Equipment, address, access notes, reasons, customer names and notes are text, never markup."""
    import json

    server, _names = xss_server
    bad = "<img src=x onerror=alert(1)>"
    sheet = {
        "crew": {"id": "K1", "name": "${alert(2)}"}, "fault_id": 1, "link_expires_at": None, "position_interval_s": 30,
        "nav_templates": [{"name": "Amap `x`", "url": "https://uri.amap.com/navigation?to={lon},{lat},{label}"}],
        "route": {"id": 1, "crew_id": "K1", "geometry": None, "stops": [{
            "task_id": "F1-S2-0", "name": bad, "lon": 7.43, "lat": 43.73, "arrival": "2026-12-01T10:10:00+01:00",
            "status": "planned", "note": "</textarea><script>alert(3)</script>", "photos": [], "version": 1,
            "details": {"equipment": {"id": "R2", "name": "<b onmouseover=alert(4)>R2</b>", "kind": "rmu", "lon": 7.43, "lat": 43.73,
                                      "address": bad, "access_notes": "Key at `${alert(5)}`",
                                      "access_point": {"lon": 7.4301, "lat": 43.7301, "street": bad, "to_equipment_m": 12.4, "direction": "SW"}},
                        "switching": [{"stage": 2, "stage_kind": "manual", "seq": 1, "action": "open", "switch": "S2", "switch_kind": "load_break",
                                       "remote": False, "reason": bad}],
                        "customers": {"count": 7, "sample": [{"id": "C1", "name": bad, "importance": "first"}]}, "repair": None}}]},
    }
    page = browser.new_page(viewport={"width": 390, "height": 844})
    w = watch(page)
    page.route("**/api/**", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(sheet)))
    page.goto(server.url + "/crew/K1?route=1")
    wait_map(page, "crew")
    stop = page.locator('#stops li[data-task="F1-S2-0"]')
    expect(stop.locator(".stop-equipment")).to_contain_text("<b onmouseover=alert(4)>R2</b>")
    expect(stop.locator(".stop-address")).to_contain_text(bad)
    expect(stop.locator(".stop-access-notes")).to_contain_text("Key at `${alert(5)}`")
    expect(stop.locator(".stop-access-point")).to_contain_text(f"Park on {bad}; the equipment is 12 m south-west")
    expect(stop.locator(".stop-switching li")).to_contain_text(bad)
    expect(stop.locator(".stop-customers")).to_contain_text(bad)
    assert stop.locator("textarea").input_value() == "</textarea><script>alert(3)</script>"
    assert page.inner_text("#crew-name").endswith("${alert(2)}")
    extra = stop.locator("a.nav-extra")
    assert extra.inner_text() == "Amap `x`" and "43.730100" in extra.get_attribute("href")
    assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"], #stops b, #stops script').length") == 0
    assert w.dialogs == [] and w.page_errors == []
    page.close()
