"""Customer service finds a caller by phone and sees the fault status; the public outage
lookup answers by account number on a phone and shows nothing personal (issue 13)."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import Service, login, wait_map, watch  # type: ignore[import-not-found]

from app.services.lookup import street_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("OUTAGE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def assert_clean(w: Any, *, expected_statuses: tuple[int, ...] = ()) -> None:
    """No request left 127.0.0.1, nothing threw, the console is clean (but for the answers
    with ``expected_statuses`` the test asked for: the browser logs every 4xx)."""
    assert w.external() == [], w.external()
    assert w.page_errors == [], w.page_errors
    expected = tuple(f"status of {s} " for s in expected_statuses)
    assert [m for m in w.console_errors if not any(e in m for e in expected)] == [], w.console_errors


def _fault(browser: Any, service: Service) -> dict[str, Any]:
    """A dispatcher records a tripped feeder breaker now (through the API, as the page does)."""
    grid = service.app.extensions["grid"]
    sw = grid.switches
    breaker = sorted(map(str, sw[sw["kind"] == "breaker"]["id"]))[0]
    ctx = browser.new_context()
    page = ctx.new_page()
    login(page, service, "dispatcher-user")
    page.goto(service.url + "/pages/")
    fault = page.evaluate("(b) => fetch('/api/faults', {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json',"
                          " Accept: 'application/json', 'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content,"
                          " 'Idempotency-Key': 'browser-fault-' + b}, body: JSON.stringify({tripped_breaker: b})}).then(r => r.json())", breaker)
    ctx.close()
    assert fault.get("id"), fault
    return fault


def test_service_finds_a_caller_by_phone_and_sees_the_status(browser: Any, service: Service) -> None:
    fault = _fault(browser, service)
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    w = watch(page)
    login(page, service, "customer_service-user")
    page.goto(service.url + "/service")
    wait_map(page, "service")
    page.wait_for_selector(f"#event option[value='fault:{fault['id']}']", state="attached")
    page.select_option("#event", f"fault:{fault['id']}")
    page.wait_for_selector("#affected tbody tr")
    # the table spans the page below the map, not the sidebar
    table_w = page.evaluate("() => document.getElementById('affected').getBoundingClientRect().width")
    assert table_w > 1000
    summary = page.locator("#service-summary").inner_text()
    assert re.search(r"\d+ restored · \d+ still out", summary), summary
    rows = page.evaluate("() => ServiceState.rows")
    caller = rows[len(rows) // 2]
    digits = "".join(ch for ch in caller["phone"] if ch.isdigit())[-8:]
    page.fill("#customer-search", f"{digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}")
    page.wait_for_function("(id) => [...document.querySelectorAll('#affected tbody tr td:first-child')].map(td => td.textContent).join() === id",
                           arg=caller["id"])
    row = page.locator("#affected tbody tr").first
    status = row.locator("td.supply_status").inner_text()
    api = page.evaluate("(u) => fetch(u).then(r => r.json())",
                        f"/api/faults/{fault['id']}/customers?q={digits}")["items"]
    assert [r["id"] for r in api] == [caller["id"]]
    assert status == {"out": "Still out", "restored": "Restored"}[api[0]["supply_status"]]
    assert row.locator("td.restoration").inner_text().strip() != ""
    assert caller["account"] in row.inner_text() and caller["name"] in row.inner_text()
    # the CSV holds what the table shows: one row, the same columns
    with page.expect_download() as dl:
        page.click("#service-exports a.export-csv")
    data = Path(dl.value.path()).read_bytes().decode("utf-8-sig")
    got = list(csv.DictReader(io.StringIO(data)))
    headers = page.evaluate("() => ServiceState.rows.length && Object.keys(ServiceState.rows[0])")
    assert len(got) == 1 and got[0]["account"] == caller["account"] and got[0]["supply_status"] == api[0]["supply_status"]
    assert set(got[0]) == set(headers) - {"lon", "lat"}
    assert len(got[0]) == page.locator("#affected thead th").count()
    shot(page, "service-fault")
    assert_clean(w)
    ctx.close()


def test_public_lookup_by_account_on_a_phone_leaks_nothing(browser: Any, service: Service) -> None:
    grid = service.app.extensions["grid"]
    customers = grid.customers.set_index("id")
    # someone on the tripped feeder of the fault above (or anyone: a fault may have been restored)
    fault = _fault(browser, service)
    out = [c for st in fault["stages"] for c in st["still_out"]] or [c for st in fault["stages"] for c in st["restored_customers"]]
    cid = out[0] if out else str(customers.index[0])
    account = str(customers.at[cid, "account"])
    ctx = browser.new_context(**PHONE)  # no login
    page = ctx.new_page()
    w = watch(page)
    page.goto(service.url + "/lookup")
    page.wait_for_function("() => window.LookupMap !== undefined")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.fill("#account", account[:4] + " " + account[4:])
    page.click("#by-account button[type=submit]")
    page.wait_for_selector("#lookup-result .lk-card, #lookup-result .none-faults")
    text = page.locator("#lookup-result").inner_text()
    assert "Result for" in text and "Faults now" in text and "Planned outages" in text
    if out:
        assert "Supply off" in text or "Supply restored" in text
    # nothing personal: no name, phone, account, customer id or house number of anyone
    html = page.content()
    for other in customers.index[:200].tolist() + [cid]:
        for value in (customers.at[other, "name"], customers.at[other, "phone"], customers.at[other, "account"]):
            if value and len(str(value)) > 6:
                assert str(value) not in page.locator("#lookup-result").inner_text(), value
    assert f">{cid}<" not in html
    shot(page, "lookup-phone")
    # hostile text is shown as text: the answer is a message, nothing runs
    page.fill("#account", "<img src=x onerror=alert(1)>")
    page.click("#by-account button[type=submit]")
    page.wait_for_function("() => document.getElementById('lookup-message').classList.contains('error')")
    assert page.locator("#lookup-result img").count() == 0
    assert "letters and digits" in page.locator("#lookup-message").inner_text()
    # a guessed number: not found, nothing shown
    page.fill("#account", "1234567890")
    page.click("#by-account button[type=submit]")
    page.wait_for_function("() => /No supply point has this account/.test(document.getElementById('lookup-message').textContent)")
    assert page.locator("#lookup-result").inner_text().strip() == ""
    # the street search lists streets; a click answers for the street
    street = street_of(str(customers.at[cid, "address"]))
    page.fill("#street-q", street.split()[-1])
    page.click("#by-street button[type=submit]")
    page.wait_for_selector("#street-choices button, #lookup-result .lk-card, #lookup-result .none-faults")
    if page.locator("#street-choices button").count():
        page.locator("#street-choices button").first.click()
    page.wait_for_selector("#lookup-result .none-faults, #lookup-result .lk-card")
    # Chinese without logging in
    page.click("header.site form button[lang=zh]")
    page.wait_for_load_state()
    assert "我的供电受影响吗" in page.locator("h1").inner_text()
    assert_clean(w, expected_statuses=(404, 422))  # the hostile and the guessed account
    ctx.close()
