"""The four pages in headless Chromium against the whole service on the demo city.

Each page: no console errors, no uncaught exceptions, no request leaving 127.0.0.1.
Flows: the planner's (click equipment, add a job, run a plan, see the zone, export
the CSV) and the dispatcher's (enter a fault, see stages, plan routes, send to a
crew whose link opens the crew page on a phone-sized screen, where the crew reports a
stop arrived and done and the dispatcher's page shows it). Hostile customer names
show as text and run nothing.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import Service, api_as, login, wait_map, watch  # type: ignore[import-not-found]
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]



def shot(page: Any, name: str) -> None:
    """Save a screenshot when OUTAGE_SCREENSHOTS names a folder (docs/screenshots is refreshed
    with ``OUTAGE_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/browser``)."""
    folder = os.environ.get("OUTAGE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def assert_clean(w: Any) -> None:
    assert w.external() == [], w.external()
    assert w.page_errors == [], w.page_errors
    assert w.console_errors == [], w.console_errors
    assert w.dialogs == [], w.dialogs


@pytest.mark.parametrize(("path", "user", "key"), [
    ("/planner", "planner-user", "planner"),
    ("/dispatcher", "dispatcher-user", "dispatcher"),
    ("/service", "customer_service-user", "service"),
])
def test_page_loads_clean(browser: Any, service: Service, path: str, user: str, key: str) -> None:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    w = watch(page)
    login(page, service, user)
    page.goto(service.url + path)
    wait_map(page, key, customers=key == "planner")
    page.wait_for_load_state("networkidle")
    assert_clean(w)
    assert page.locator(".leaflet-control-attribution").inner_text().find("OpenStreetMap") >= 0
    ctx.close()


def test_page_in_chinese(browser: Any, service: Service) -> None:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = ctx.new_page()
    w = watch(page)
    login(page, service, "planner-user")
    page.goto(service.url + "/planner")
    wait_map(page, "planner")
    assert "停电计划" in page.locator("h1.pg-title").inner_text()
    assert "新建工作" in page.content()
    assert_clean(w)
    shot(page, "planner-zh")
    ctx.close()


def pick_rmu(grid: Any, *, with_important: bool = False) -> str:
    """An RMU a planner could ask work on: its outage zone holds customers but no special or
    first-grade customer (their peak hours could rule out every day-time window); with
    ``with_important``, one whose isolation darkens a second-grade or temporary customer."""
    grades = grid.customers.set_index("id")["importance"]
    for rmu in grid.nodes.loc[grid.nodes["kind"] == "rmu", "id"]:
        try:
            iso = grid.isolate(str(rmu))
        except Exception:  # noqa: BLE001 - e.g. an RMU inside a substation section
            continue
        if not (0 < len(iso.customers) < 2000) or grades.loc[list(iso.customers)].isin(["special", "first"]).any():
            continue
        if with_important and not grades.loc[list(iso.customers)].isin(["second", "temporary"]).any():
            continue
        return str(rmu)
    raise AssertionError("no suitable RMU in the grid")


def click_feature(page: Any, key: str, lon: float, lat: float) -> None:
    """Zoom the map onto (lon, lat) and click there with the mouse."""
    page.evaluate("([k, lat, lon]) => { OutageMap.maps[k].map.setView([lat, lon], 18, {animate: false}); }", [key, lat, lon])
    page.wait_for_timeout(300)
    pt = page.evaluate("([k, lat, lon]) => { const m = OutageMap.maps[k].map; const p = m.latLngToContainerPoint([lat, lon]);"
                       " const r = m.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }", [key, lat, lon])
    page.mouse.click(pt[0], pt[1])


def test_planner_flow(browser: Any, service: Service) -> None:
    grid = service.app.extensions["grid"]
    rmu = pick_rmu(grid, with_important=True)
    node = grid.nodes.set_index("id").loc[rmu]
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    w = watch(page)
    login(page, service, "planner-user")
    page.goto(service.url + "/planner")
    wait_map(page, "planner", customers=True)
    # the legend says what the symbols mean
    legend = page.inner_text(".om-legend")
    for text in ("Legend", "Work zone", "Without supply", "Normally-open tie switch", "First grade"):
        assert text in legend, legend
    page.click(".om-legend-title")  # folds and unfolds
    assert not page.is_visible(".om-legend-row >> nth=0")
    page.click(".om-legend-title")
    assert page.is_visible(".om-legend-row >> nth=0")
    # an important customer is drawn in two layers (important, all customers) but found once
    cust = grid.customers
    important = str(cust["id"][cust["importance"] != "normal"].iloc[0])
    page.wait_for_function("() => OutageMap.layer('planner', 'important') && (OutageMap.layer('planner', 'important')._omFeatures || []).length > 0")
    page.fill("#search", important)
    page.locator("#search-results li", has_text=f"({important})").first.wait_for()
    assert page.locator("#search-results li", has_text=f"({important})").count() == 1
    page.fill("#search", "")

    # an RMU's switches are drawn on top of it: hide them (and the important customers) first,
    # as a planner would, with the layer control
    for name in ("Switches (T = normally-open tie)", "Important customers", "All customers (clustered)"):
        page.locator(".leaflet-control-layers-overlays label", has_text=name).locator("input").uncheck()
    click_feature(page, "planner", node.geometry.x, node.geometry.y)
    page.wait_for_function("() => document.getElementById('job-equipment').value !== ''")
    chosen = page.input_value("#job-equipment")
    assert chosen == rmu
    page.wait_for_function("() => /\\d/.test(document.getElementById('zone-summary').textContent)")
    assert page.evaluate("() => OutageMap.layer('planner', 'overlay').getLayers().length") > 0

    page.fill("#job-description", "Replace RMU switchgear")
    page.click("#job-add")
    page.wait_for_selector("#jobs li")
    assert chosen in page.inner_text("#jobs")

    page.click("#run-plan")
    page.wait_for_function("() => document.getElementById('plan-status').textContent === 'Plan ready' || /Error/.test(document.getElementById('plan-status').textContent)", timeout=180000)
    assert page.inner_text("#plan-status") == "Plan ready", page.inner_text("#plan-status")
    assert page.locator("#plan-errors li").count() == 0, page.inner_text("#plan-errors")
    page.wait_for_selector("#timeline .bar")
    # the timeline: a day axis in the grid's calendar and a row per feeder the outage holds
    days = page.locator("#timeline .tl-day").all_inner_texts()
    start_day = page.evaluate("() => Pages.fmtDay(Date.parse(PlannerState.outages[0].start))")
    assert start_day in days
    feeders = page.evaluate("() => PlannerState.outages[0].zone.feeders")
    rows = page.locator("#timeline .tl-row[data-row]").evaluate_all("els => els.map(e => e.dataset.row)")
    assert set(feeders) <= set(rows)
    page.wait_for_function("() => OutageMap.layer('planner', 'overlay').getLayers().some(l => l.feature && l.feature.properties.role === 'work')")
    # the outage's customers on the map are the ones stored with the plan (/api/outages/<id>/map)
    first = page.evaluate("() => PlannerState.outages[0]")
    stored = page.evaluate("(u) => fetch(u).then(r => r.json())", f"/api/outages/{first['db_id']}/customers")
    expected = sorted(c["id"] for c in stored["items"])
    drawn_js = "() => OutageMap.layer('planner', 'overlay').getLayers().filter(l => l.feature && l.feature.properties.layer === 'customer').map(l => l.feature.properties.id).sort()"
    page.wait_for_function(f"(n) => ({drawn_js})().length === n", arg=len(expected))
    assert expected and page.evaluate(drawn_js) == expected
    assert page.locator("#metrics tbody tr").count() == 6
    # the planner reviews the outage, a planner lead approves it (elsewhere), the planner publishes
    # it and records it as executed: the stored status follows (tests/browser/test_outage_workflow_browser.py)
    page.click("#outage-review")
    page.wait_for_function("() => /reviewed/.test(document.querySelector('#outage-detail .outage-status').textContent)")
    version = page.evaluate("(u) => fetch(u).then(r => r.json())", f"/api/outages/{first['db_id']}")["version"]
    assert api_as(service, "planner_lead-user", "POST", f"/api/outages/{first['db_id']}/approve", {"version": version}).status_code == 200
    page.click("#outage-refresh")
    page.click("#outage-publish")
    page.wait_for_function("() => /published/.test(document.querySelector('#outage-detail .outage-status').textContent)")
    page.click("#outage-executed")
    page.wait_for_function("() => /executed/.test(document.querySelector('#outage-detail .outage-status').textContent)")
    assert page.locator("#outage-publish").count() == 0 and page.locator("#outage-cancel").count() == 0
    stored = page.evaluate("(u) => fetch(u).then(r => r.json())", f"/api/outages/{first['db_id']}")
    assert stored["status"] == "done"
    # an important customer loses supply: its load over the day, window shaded
    page.wait_for_function("() => !document.getElementById('load-chart').hidden && PlannerState.chart")
    labels = page.evaluate("() => PlannerState.chart.data.datasets.map(d => d.label)")
    assert labels[-1] == "Outage window" and len(labels) >= 2
    assert page.evaluate("() => PlannerState.chart.data.datasets.at(-1).data.filter(v => v !== null).length") > 0
    for name in ("Switches (T = normally-open tie)", "Important customers", "All customers (clustered)"):
        page.locator(".leaflet-control-layers-overlays label", has_text=name).locator("input").check()
    page.evaluate("() => { OutageMap.maps.planner.map.closePopup(); document.getElementById('outage-detail').scrollIntoView(); }")
    page.wait_for_timeout(500)
    shot(page, "planner")

    with page.expect_download() as dl:
        page.click("#outage-detail a.export-outage-csv")
    raw = Path(dl.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: opens right in Excel
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    outage_id = page.get_attribute("#outage-detail a.export-outage-csv", "href").split("/")[3]
    api = page.evaluate("(u) => fetch(u).then(r => r.json())", f"/api/outages/{outage_id}/customers")
    assert len(rows) == api["total"] > 0
    assert {r["id"] for r in rows} == {c["id"] for c in api["items"]}

    # after a reload the page reads the plan back from the server: outages, timeline, metrics
    plan_id = page.evaluate("() => PlannerState.planId")
    bars_js = "() => [...new Set([...document.querySelectorAll('#timeline .bar')].map(b => b.dataset.outageId))].length"
    outages = page.evaluate(bars_js)
    page.reload()
    wait_map(page, "planner")
    page.wait_for_selector("#timeline .bar")
    assert page.evaluate(bars_js) == outages == page.evaluate("() => PlannerState.outages.length")
    assert page.evaluate("() => PlannerState.planId") == plan_id
    assert page.input_value("#plan-choice") == str(plan_id)
    assert page.is_visible("#plan-choice-label")
    assert page.locator("#metrics tbody tr").count() == 6
    page.wait_for_selector("#outage-detail a.export-outage-csv")
    page.wait_for_function("() => OutageMap.layer('planner', 'overlay').getLayers().some(l => l.feature && l.feature.properties.role === 'work')")
    assert page.get_attribute("#outage-detail a.export-outage-csv", "href").split("/")[3] == outage_id
    assert_clean(w)
    ctx.close()


def test_planner_resumes_a_plan_run_after_a_reload(browser: Any, service: Service) -> None:
    """A planning run still going when the page opens: its progress bar follows it to the plan."""
    from app.models import Plan, Run

    db = service.app.extensions["db"]
    with service.app.app_context(), db.session(actor="browser-tests") as s:
        done = s.query(Plan).filter(Plan.status == "done").order_by(Plan.id.desc()).first()
        assert done is not None, "the planner flow runs first"
        run = Run(kind="plan", status="running", progress=0.35, message="planning")
        s.add(run)
        s.flush()
        going = Plan(status="running", now=done.now, job_ids=list(done.job_ids), options={}, run_id=run.id)
        s.add(going)
        s.flush()
        run.target_id = going.id
        run_id, going_id, done_id = run.id, going.id, done.id
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    w = watch(page)
    login(page, service, "planner-user")
    page.goto(service.url + "/planner")
    wait_map(page, "planner")
    # the latest finished plan is shown while the run goes on, with its progress
    page.wait_for_function("() => !document.getElementById('plan-progress').hidden && document.getElementById('plan-progress').value > 0.3")
    assert page.inner_text("#plan-status") == "Running"
    page.wait_for_function(f"() => PlannerState.plan && PlannerState.plan.id === {done_id}")
    with service.app.app_context(), db.session(actor="browser-tests") as s:
        plan = s.get(Plan, going_id)
        src = s.get(Plan, done_id)
        plan.status, plan.result, plan.metrics, plan.errors = "done", src.result, src.metrics, []
        r = s.get(Run, run_id)
        r.status, r.progress = "done", 1.0
    page.wait_for_function("() => document.getElementById('plan-status').textContent === 'Plan ready'", timeout=20000)
    assert page.evaluate("() => PlannerState.planId") == going_id
    assert page.input_value("#plan-choice") == str(going_id)
    assert page.locator("#timeline .bar").count() >= 1
    assert_clean(w)
    ctx.close()


def test_dispatcher_flow_and_crew_phone(browser: Any, service: Service) -> None:
    grid = service.app.extensions["grid"]
    feeders = grid.feeders.sort_values("customers", ascending=False)
    breaker = str(feeders.iloc[0]["id"])
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    w = watch(page)
    login(page, service, "dispatcher-user")
    page.goto(service.url + "/dispatcher")
    wait_map(page, "dispatcher")
    page.select_option("#fault-breaker", breaker)
    page.wait_for_selector("#fault-indicators label")  # only the tripped feeder's (test_dispatcher_browser.py)
    page.wait_for_load_state("networkidle")
    before = page.evaluate("() => DispatcherState.faultId")  # an earlier test's fault opens with the page
    page.click("#fault-submit")
    page.wait_for_function("(p) => DispatcherState.fault && DispatcherState.fault.id !== p", arg=before, timeout=60000)
    page.wait_for_selector("#stages tr.step")
    assert page.locator("#candidates li").count() >= 1
    page.wait_for_function("() => OutageMap.layer('dispatcher', 'overlay').getLayers().length > 0")

    page.click("#dispatch")
    page.wait_for_function("() => document.querySelectorAll('#routes li').length + document.querySelectorAll('#dropped li').length > 0"
                           " || /Error/.test(document.getElementById('fault-messages').textContent)", timeout=180000)
    assert "Error" not in page.inner_text("#fault-messages"), page.inner_text("#fault-messages")
    routes = page.locator("#routes li")
    assert routes.count() >= 1, page.inner_text("#dropped")
    # only crews with stops are listed (issue 14: the idle ones are named under the routes)
    first = page.locator("#routes li.route", has=page.locator("li.route-stop")).first
    crew_id = first.get_attribute("data-crew")
    first.locator("button.send-crew").click()
    link = first.locator("a.crew-link").get_attribute("href")
    assert link.startswith(f"/crew/{crew_id}?route=")
    assert first.locator("a.crew-gpx").get_attribute("href").endswith("/gpx")
    assert first.locator("li.route-stop").first.get_attribute("data-status") == "planned"

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    cpage = phone.new_page()
    cw = watch(cpage)
    login(cpage, service, f"crew-{crew_id}")
    cpage.goto(service.url + link)
    wait_map(cpage, "crew")
    assert not cpage.is_visible(".om-legend-row >> nth=0")  # the legend starts folded on a phone
    cpage.wait_for_selector("#stops li")
    nav = cpage.locator("#stops li a.nav-link").first.get_attribute("href")
    assert nav.startswith("geo:")
    cpage.wait_for_timeout(500)

    # the crew reports the first stop: arrived, working, then done (only the next step can be pressed)
    stop = cpage.locator("#stops li").first
    task = stop.get_attribute("data-task")
    mine = cpage.locator(f'#stops li[data-task="{task}"]')
    expect(mine.locator("button.stop-arrived")).to_be_enabled()
    mine.locator("button.stop-arrived").click()
    expect(mine).to_have_attribute("data-status", "arrived")
    expect(mine.locator("button.stop-arrived")).to_be_disabled()
    expect(mine.locator("button.stop-done")).to_be_disabled()
    expect(mine.locator(".stop-progress")).to_contain_text("arrived at")
    mine.locator("button.stop-working").click()
    expect(mine).to_have_attribute("data-status", "working")
    mine.locator("button.stop-done").click()
    expect(mine).to_have_attribute("data-status", "done")
    expect(mine.locator("button.stop-done")).to_be_disabled()
    expect(mine.locator("button.stop-arrived")).to_be_disabled()
    expect(mine.locator(".stop-progress")).to_contain_text("done at")
    assert "Error" not in cpage.inner_text("#crew-messages"), cpage.inner_text("#crew-messages")
    cpage.reload()  # the status comes from the server
    wait_map(cpage, "crew")
    expect(cpage.locator(f'#stops li[data-task="{task}"]')).to_have_attribute("data-status", "done")
    expect(cpage.locator(f'#stops li[data-task="{task}"] button.stop-arrived')).to_be_disabled()
    assert_clean(cw)
    phone.close()

    # the dispatcher's page shows it without a reload (it re-reads the dispatch on focus / every 15 s)
    page.bring_to_front()
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    done = page.locator(f'#routes li[data-route] li.route-stop[data-task="{task}"]')
    expect(done).to_have_attribute("data-status", "done", timeout=20000)
    expect(done).to_contain_text("done at")
    fault_id = page.evaluate("() => DispatcherState.faultId")
    route_id = first.get_attribute("data-route")

    # a reload (or a second dispatcher) rebuilds it from the server: the fault in the list,
    # newest first with its status, its stages, and the route with the stop's progress
    page.reload()
    wait_map(page, "dispatcher")
    item = page.locator(f'#fault-list li[data-fault="{fault_id}"]')
    expect(item).to_contain_text(f"Fault {fault_id}")
    expect(item).to_contain_text("Open")
    assert page.locator("#fault-list li[data-fault]").first.get_attribute("data-fault") == str(fault_id)
    item.click()
    expect(item).to_have_class("fault-item active")
    page.wait_for_selector("#stages tr.step")
    assert page.locator("#candidates li").count() >= 1
    page.wait_for_function("() => OutageMap.layer('dispatcher', 'overlay').getLayers().length > 0")
    expect(page.locator("#dispatch-list li[data-dispatch].active")).to_contain_text("Done")
    again = page.locator(f'#routes li[data-route="{route_id}"] li.route-stop[data-task="{task}"]')
    expect(again).to_have_attribute("data-status", "done")
    expect(again).to_contain_text("done at")
    assert page.evaluate("() => OutageMap.layer('dispatcher', 'routes').getLayers().length") >= 1
    # the 15 s re-read still works after the reload
    assert page.evaluate("() => DispatcherState.dispatch && DispatcherState.dispatch.id") is not None
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    page.wait_for_load_state("networkidle")
    expect(again).to_have_attribute("data-status", "done")
    shot(page, "dispatcher")
    assert_clean(w)
    ctx.close()


def test_service_page_lists_affected_customers(browser: Any, service: Service) -> None:
    """A planner plans one job; customer service opens that outage, sees its customers and finds a
    caller by part of a name or by phone digits typed with spaces."""
    grid = service.app.extensions["grid"]
    rmu = pick_rmu(grid, with_important=True)
    planner = browser.new_context(viewport={"width": 1400, "height": 900})
    ppage = planner.new_page()
    login(ppage, service, "planner-user")
    ppage.goto(service.url + "/planner")
    job = {"id": "SERVICE-1", "equipment": [rmu], "duration_min": 120,
           "earliest": "2027-01-05T08:00:00+01:00", "latest": "2027-01-15T18:00:00+01:00"}  # clear of the planner flow's outage
    ppage.evaluate("(j) => Pages.api('POST', '/api/jobs', j)", job)
    started = ppage.evaluate("() => Pages.api('POST', '/api/plans', {job_ids: ['SERVICE-1']})")
    ppage.wait_for_function("(u) => fetch(u).then(r => r.json()).then(r => r.status === 'done')",
                            arg=f"/api/runs/{started['run']['id']}", timeout=120000, polling=500)
    plan = ppage.evaluate("(u) => fetch(u).then(r => r.json())", f"/api/plans/{started['plan']['id']}")
    outage_id = plan["outages"][0]["id"]
    planner.close()

    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    w = watch(page)
    login(page, service, "customer_service-user")
    page.goto(service.url + "/service")
    wait_map(page, "service")
    page.wait_for_selector(f"#event option[value='outage:{outage_id}']", state="attached")
    page.select_option("#event", f"outage:{outage_id}")
    page.wait_for_selector("#affected tbody tr")
    rows = page.evaluate("() => ServiceState.rows")
    assert min(len(rows), 100) == page.locator("#affected tbody tr").count() > 1  # 100 rows a page
    caller = next(r for r in rows if r.get("phone"))
    # phone digits typed with spaces find the caller (the API searches; the table shows its answer)
    digits = "".join(ch for ch in caller["phone"] if ch.isdigit())[-6:]
    page.fill("#customer-search", f"{digits[:3]} {digits[3:]}")
    page.wait_for_function("(id) => [...document.querySelectorAll('#affected tbody tr td:first-child')].map(td => td.textContent).join() === id",
                           arg=caller["id"])
    # the outage window is on the caller's row
    cells = page.locator("#affected tbody tr").first.inner_text()
    assert caller["account"] in cells and any(how in cells for how in ("No supply", "Two short breaks", "Generator truck"))
    # a word of the name: every row shown carries it
    word = max(str(caller["name"]).replace(",", " ").split(), key=len)
    page.fill("#customer-search", word.lower())
    page.wait_for_function("(w) => { const rows = [...document.querySelectorAll('#affected tbody tr')];"
                           " return rows.length > 0 && rows.every(tr => tr.textContent.toLowerCase().includes(w)); }", arg=word.lower())
    shot(page, "service")
    page.fill("#customer-search", "zzzz-no-such-customer")
    page.wait_for_function("() => document.querySelectorAll('#affected tbody tr').length === 0")
    assert_clean(w)
    ctx.close()


# -- hostile names: shown as text, nothing runs ---------------------------------------------------


@pytest.fixture(scope="module")
def xss_server(browser: Any) -> Any:
    """The pages (no service) on the small ring with hostile customer and equipment names."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
    from browser_helpers import LiveServer  # type: ignore[import-not-found]
    from pages_app import XSS_NAMES, pages_app  # type: ignore[import-not-found]

    from gis import Grid, read_layers

    layers = dict(read_layers(Path(__file__).resolve().parents[1] / "data" / "small_ring"))
    customers = layers["customers"].copy()
    customers["name"] = [XSS_NAMES.get(i, n) for i, n in zip(customers["id"], customers["name"], strict=True)]
    layers["customers"] = customers
    nodes = layers["nodes"].copy()
    nodes.loc[nodes["id"] == "R2", "name"] = "<b onmouseover=alert(3)>R2</b>"
    layers["nodes"] = nodes
    server = LiveServer(pages_app(Grid.from_layers(layers)))
    yield server, XSS_NAMES
    server.stop()


def fake_api(page: Any, names: dict[str, str]) -> None:
    """Answer the service API the pages call with hostile data (this app has no API)."""
    import json

    rows = [{"id": cid, "name": name, "importance": "first", "phone": "+377 ${alert(4)}", "address": "`rm -rf`", "feeder": "F1",
             "lon": 7.43, "lat": 43.736} for cid, name in names.items()]
    bodies = {
        "/api/plans": {"total": 1, "items": [{"id": 1, "outages": [{"id": 7, "start": "2026-12-01T08:00:00+01:00", "customers": len(rows)}]}]},
        "/api/outages/7/customers": {"total": len(rows), "items": rows},
        "/api/notifications": {"total": 1, "items": [{"customer_id": "C1", "kind": "notice", "due_at": "2026-11-24T08:00:00+01:00",
                                                      "status": "pending", "text_en": names["C1"], "text_zh": names["C2"]}]},
    }

    def handle(route: Any) -> None:
        path = "/" + route.request.url.split("/", 3)[3].split("?")[0]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(bodies.get(path, {"total": 0, "items": []})))

    page.route("**/api/**", handle)


def test_hostile_names_show_as_text(browser: Any, xss_server: Any) -> None:
    server, names = xss_server
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    w = watch(page)
    fake_api(page, names)
    page.goto(server.url + "/planner")
    wait_map(page, "planner", customers=True)
    # search lists them as text; opening each shows the exact name in the popup
    for cid, name in names.items():
        page.fill("#search", cid)
        item = page.locator("#search-results li", has_text=f"({cid})").first
        item.wait_for()
        assert item.inner_text() == f"{name} ({cid})"
        item.click()
        page.wait_for_timeout(400)  # a closed popup fades out for 200 ms before it leaves the DOM
        expect(page.locator(".leaflet-popup-content .om-title")).to_have_text(name)
    page.mouse.move(10, 10)
    # equipment R2: tooltip and popup as text
    page.fill("#search", "R2")
    page.locator("#search-results li", has_text="(R2)").first.click()
    page.wait_for_timeout(400)
    expect(page.locator(".leaflet-popup-content .om-title")).to_have_text("<b onmouseover=alert(3)>R2</b>")
    assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"], .leaflet-popup-content b').length") == 0

    page.goto(server.url + "/service")
    wait_map(page, "service")
    page.wait_for_function("() => document.querySelectorAll('#event option').length > 1")
    page.select_option("#event", "outage:7")
    page.wait_for_selector("#affected tbody tr")
    table = page.inner_text("#affected")
    for name in names.values():
        assert name.strip() in table
    assert "${alert(4)}" in table and "`rm -rf`" in page.inner_text("#affected")
    page.wait_for_selector("#notices tbody tr")
    assert names["C1"] in page.inner_text("#notices")
    assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert w.dialogs == [] and w.page_errors == []
    page.close()


def test_planner_csv_upload_shows_row_errors(browser: Any, service: Service) -> None:
    grid = service.app.extensions["grid"]
    rmu = pick_rmu(grid)
    header = "id,equipment,duration_min,earliest,latest,crew,description\n"
    # a window beyond the notice lead from today (jobs are checked against now on entry)
    e, l_ = (datetime.now(UTC) + timedelta(days=d) for d in (10, 21))
    good = f"CSV-1,{rmu},120,{e:%Y-%m-%dT08:00:00+00:00},{l_:%Y-%m-%dT18:00:00+00:00},,from a file\n"
    bad = f"CSV-2,NO-SUCH-THING,120,{e:%Y-%m-%dT08:00:00+00:00},{l_:%Y-%m-%dT18:00:00+00:00},,bad equipment\n"
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    w = watch(page)
    login(page, service, "planner-user")
    page.goto(service.url + "/planner")
    wait_map(page, "planner")
    page.set_input_files("#csv-file", files=[{"name": "jobs.csv", "mimeType": "text/csv", "buffer": (header + good + bad).encode()}])
    page.click("#csv-form button[type=submit]")
    page.wait_for_selector("#job-messages.error div")
    # per-row errors from the API, shown as lines (row 3 of the file is the bad one)
    assert "#3 equipment: unknown equipment: NO-SUCH-THING" in page.inner_text("#job-messages")
    assert "CSV-1" not in page.inner_text("#jobs")  # all rows or none
    page.set_input_files("#csv-file", files=[{"name": "jobs.csv", "mimeType": "text/csv", "buffer": (header + good).encode()}])
    page.click("#csv-form button[type=submit]")
    page.wait_for_function("() => /CSV-1/.test(document.getElementById('jobs').textContent)")
    # the rejected upload logged one 422 in the console; nothing else may appear
    assert [e for e in w.console_errors if "422" not in e] == []
    assert w.external() == [] and w.page_errors == []
    ctx.close()


def test_planner_lists_and_plans_every_open_job(browser: Any, service: Service) -> None:
    """More open jobs than one page of the list: the page pages through them (the server's
    total) and Run plan plans them all (the server takes every open job), where it used to
    plan only the first 100. The jobs are old rows with windows long past (entered before jobs
    were checked on entry): the plan refuses them at once (window_past) and stays quick."""
    from app.models import Job
    from app.services import jobs as jobs_service

    grid = service.app.extensions["grid"]
    rmu = pick_rmu(grid)
    header = "id,equipment,duration_min,earliest,latest\n"
    rows = "".join(f"MANY-{k:03d},{rmu},60,2020-01-06T08:00:00+01:00,2020-01-10T18:00:00+01:00\n" for k in range(105))
    with service.app.app_context(), service.app.extensions["db"].session(actor="browser-tests") as s:
        good, errors = jobs_service.parse_csv(grid, (header + rows).encode(), existing=jobs_service.existing_ids(s), timing=None)
        assert not errors
        jobs_service.import_rows(s, good)
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    w = watch(page)
    login(page, service, "planner-user")
    page.goto(service.url + "/planner")
    wait_map(page, "planner")
    page.wait_for_selector("#jobs li")
    total = page.evaluate("() => fetch('/api/jobs?status=open&limit=1').then(r => r.json()).then(d => d.total)")
    assert total >= 105
    assert page.locator("#jobs li").count() == 50  # a page at a time
    assert page.inner_text("#jobs-count").startswith(f"{total} ")
    assert page.inner_text("#jobs-page") == f"1–50 of {total}"
    page.click("#jobs-next")
    page.wait_for_function("(n) => document.getElementById('jobs-page').textContent.startsWith('51–')", arg=total)
    # the filter and sort go to the server: every MANY job, in id order, across pages
    page.select_option("#jobs-sort", "id")
    page.fill("#jobs-q", "many-")
    page.wait_for_function("() => document.getElementById('jobs-page').textContent === '1–50 of 105'")
    assert page.inner_text("#jobs li >> nth=0").startswith("MANY-000 ")
    assert "105" in page.inner_text("#run-plan-scope")
    page.fill("#jobs-q", "")
    page.wait_for_function("(n) => document.getElementById('jobs-page').textContent === '1–50 of ' + n", arg=total)
    with page.expect_response(lambda r: r.url.endswith("/api/plans") and r.request.method == "POST") as resp:
        page.click("#run-plan")
    started = resp.value.json()
    assert resp.value.request.post_data_json == {}
    plan = page.evaluate("(u) => fetch(u).then(r => r.json())", f"/api/plans/{started['plan']['id']}")
    assert len(plan["job_ids"]) == total
    # each refused job: the reason by its code in the page's language, the planner's sentence beneath
    page.wait_for_function("() => document.getElementById('plan-status').textContent === 'Plan ready'", timeout=180000)
    first = page.locator("#plan-errors li[data-code=window_past]", has_text="MANY-000").first
    assert first.inner_text().startswith("MANY-000: The window is over")
    assert w.external() == [] and w.page_errors == []
    # leave no open job behind for the other tests
    with service.app.app_context(), service.app.extensions["db"].session(actor="browser-tests") as s:
        for job in s.query(Job).filter(Job.id.like("MANY-%")):
            job.status = "cancelled"
    ctx.close()
