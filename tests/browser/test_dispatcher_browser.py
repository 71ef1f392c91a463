"""The dispatcher's fault flow in headless Chromium on the demo city, in English and Chinese
(issue 14): breaker trip + fault indicators of that feeder only (search box, a pick on the
map) -> located (a ranked one-line list, details on demand) -> stage 1 executed step by
step with a confirmation -> customers back on supply on the map and in the counts ->
the timeline -> crews routed (only crews with stops, the idle ones named) and their
live positions on the map.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import Service, login, wait_map, watch  # type: ignore[import-not-found]
from playwright.sync_api import expect
from test_pages_browser import assert_clean, click_feature, shot  # type: ignore[import-not-found]

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LANGS = {
    "en": {"headers": {"Accept-Language": "en"}, "locale": "en-GB", "remote": "Remote", "manual": "Manual",
           "execute": "Execute", "orders": "Switching orders", "control_room": "Control room"},
    "zh": {"headers": {"Accept-Language": "zh-CN,zh;q=0.9"}, "locale": "zh-CN", "remote": "遥控", "manual": "就地",
           "execute": "执行", "orders": "倒闸操作票", "control_room": "调度控制中心"},
}


def feeder_indicators(grid: Any, feeder: str) -> set[str]:
    """The switches with a fault indicator whose either end lies on ``feeder`` (normal state)."""
    of = grid.node_feeders()
    sw = grid.switches[grid.switches["fault_indicator"].astype(bool)]
    return {str(i) for i, a, b in zip(sw["id"], sw["from_node"], sw["to_node"], strict=True)
            if str(i) == feeder or of.get(str(a)) == feeder or of.get(str(b)) == feeder}


def overlay_dark(page: Any) -> int:
    return int(page.evaluate("() => (DispatcherState.overlay.features || []).filter(f => f.properties.layer === 'customer').length"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_dispatcher_fault_flow(browser: Any, service: Service, lang: str) -> None:
    words = LANGS[lang]
    grid = service.app.extensions["grid"]
    feeders = grid.feeders.sort_values("customers", ascending=False)
    breaker = str(feeders.iloc[0]["id"])
    expected = feeder_indicators(grid, breaker)
    assert 1 < len(expected) < int(grid.switches["fault_indicator"].sum())
    ctx = browser.new_context(viewport={"width": 1500, "height": 950}, locale=words["locale"],
                              extra_http_headers=words["headers"])
    page = ctx.new_page()
    w = watch(page)
    login(page, service, "dispatcher-user")
    page.goto(service.url + "/dispatcher")
    wait_map(page, "dispatcher")
    assert page.locator("#fault-indicators label").count() == 0  # nothing before a breaker is chosen

    # the form lists only the tripped feeder's indicators; the search box narrows them
    page.select_option("#fault-breaker", breaker)
    page.wait_for_selector("#fault-indicators label")
    listed = set(page.eval_on_selector_all("#fault-indicators label", "ls => ls.map(l => l.dataset.id)"))
    assert listed == expected
    picks = sorted(expected - {breaker})
    at = grid.switches.set_index("id").geometry
    # the one picked on the map: no other listed indicator within 60 m (a cabinet holds several)
    alone = [i for i in picks[1:] if all(at[i].distance(at[j]) * 111_000 > 60 for j in expected if j != i)]
    picks = [picks[0], alone[-1]]
    page.fill("#indicator-search", picks[0])
    visible = page.eval_on_selector_all("#fault-indicators label", "ls => ls.filter(l => !l.hidden).map(l => l.dataset.id)")
    assert picks[0] in visible and len(visible) < len(expected)
    page.check(f'#fault-indicators label[data-id="{picks[0]}"] input')
    page.fill("#indicator-search", "")
    # a second one picked on the map: a click on the switch (or its cabinet)
    sw = at[picks[-1]]
    click_feature(page, "dispatcher", sw.x, sw.y)
    expect(page.locator(f'#fault-indicators label[data-id="{picks[-1]}"] input')).to_be_checked()
    expect(page.locator("#indicator-picked")).to_contain_text(picks[0])

    page.wait_for_load_state("networkidle")
    before = page.evaluate("() => DispatcherState.faultId")  # the newest fault opens with the page
    page.click("#fault-submit")
    page.wait_for_function("(p) => DispatcherState.fault && DispatcherState.fault.id !== p", arg=before, timeout=60000)
    page.wait_for_selector("#stages tr.step")
    assert "Error" not in page.inner_text("#fault-messages") and "错误" not in page.inner_text("#fault-messages")
    fault = page.evaluate("() => DispatcherState.fault")
    assert set(fault["fault_indicators"]) == {picks[0], picks[-1]}

    # candidates: one short line each (where, likelihood, one reason), details on demand
    first = page.locator("#candidates li.candidate").first
    expect(first).to_have_class("candidate picked")
    line = first.locator(".cand-line").inner_text()
    assert "%" in line and len(line) < 200, line
    assert not first.locator("dl.cand-details").is_visible()
    first.locator("details summary").click()
    expect(first.locator("dl.cand-details")).to_be_visible()
    assert page.inner_text("#generator-decision").strip()

    # the switching orders: remote/manual translated, the control room on remote steps
    assert words["orders"] in page.content()
    controls = set(page.eval_on_selector_all("#stages td.step-control", "ts => ts.map(t => t.textContent)"))
    assert controls and controls <= {words["remote"], words["manual"]}
    stage1 = page.locator('#stages section.switching-order[data-stage="0"] tbody tr.step')
    n = stage1.count()
    assert n >= 1
    dark_before = overlay_dark(page)
    assert dark_before == fault["state"]["customers_out"] > 0
    expect(page.locator('#timeline li[data-kind="trip"]')).to_have_class("event reached")
    expect(page.locator('#timeline li[data-kind="stage"][data-stage="0"]')).to_have_class("event pending")

    # stage 1 step by step: only the next step has a button; each asks for a confirmation
    for i in range(n):
        row = stage1.nth(i)
        assert page.locator("#stages button.execute-step").count() == 1
        expect(row.locator("button.execute-step")).to_have_text(words["execute"])
        row.locator("button.execute-step").click()
        expect(row).to_have_attribute("data-executed", "false")  # not before the confirmation
        row.locator("button.confirm-step").click()
        expect(row).to_have_attribute("data-executed", "true", timeout=20000)
        expect(row.locator("td.step-state")).to_contain_text("dispatcher-user")
    shot(page, f"dispatcher-switching-{lang}")

    # the map and the counts follow the executed steps
    f = page.evaluate("() => DispatcherState.fault")
    restored = f["state"]["customers_restored"]
    expected_back = {c for s in f["stages"][0]["steps"] for c in s["restores"]}
    assert restored == len(expected_back) and restored > 0
    page.wait_for_function("(n) => DispatcherState.restoredShown === n", arg=restored)
    assert overlay_dark(page) == f["state"]["customers_out"] == dark_before - restored
    expect(page.locator("#customers-state")).to_contain_text(str(restored))
    expect(page.locator('#timeline li[data-kind="stage"][data-stage="0"]')).to_have_class("event reached")

    # a crew reports its position: the dispatcher's map shows it at the next refresh
    crew = service.crews[0]
    node = grid.nodes.iloc[0].geometry
    page.evaluate("([c, lon, lat]) => Pages.api('POST', '/api/crews/' + c + '/positions', {lon: lon, lat: lat})",
                  [crew, node.x, node.y])
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    page.wait_for_function("(c) => OutageMap.layer('dispatcher', 'points').getLayers().length > 0"
                           " && DispatcherState.crewPoints.some(p => p.properties.id === c)", arg=crew)

    # crews routed: only crews with stops are listed, each stop with an ETA; idle crews named
    page.click("#dispatch")
    page.wait_for_function("() => document.querySelectorAll('#routes li').length > 0"
                           " || /Error|错误/.test(document.getElementById('fault-messages').textContent)", timeout=180000)
    msg = page.inner_text("#fault-messages")
    assert "Error" not in msg and "错误" not in msg, msg
    d = page.evaluate("() => DispatcherState.dispatch")
    busy = [r for r in d["routes"] if r["stops"]]
    assert page.locator("#routes li.route").count() == len(busy) >= 1
    for i in range(len(busy)):
        assert page.locator("#routes li.route").nth(i).locator("li.route-stop").count() >= 1
    idle = [r["crew_id"] for r in d["routes"] if not r["stops"]]
    if idle:
        expect(page.locator("#idle-crews")).to_contain_text(", ".join(idle))
    # a manual step names the crew routed to it (or the control room for a remote one)
    page.wait_for_function("() => DispatcherState.fault.stages.some(s => s.steps.some(x => x.crew_id))"
                           " || !DispatcherState.fault.stages.some(s => s.steps.some(x => !x.remote))")
    assert words["control_room"] in page.inner_text("#stages")
    shot(page, f"dispatcher-{lang}")
    assert_clean(w)
    ctx.close()
