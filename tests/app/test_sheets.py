"""Switching sheets (操作票) and the plan workbook (issue 13, item 2), on both databases.

The expected rows are the stored ``outage_steps`` (read back through ``GET /api/outages/<id>``),
the expected places the grid's nodes; a node with a hostile name and a step with a hostile
device show as text in the HTML and as text cells in the XLSX.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import SMALL_RING, XSS_NAMES

from app import create_app
from app.models import OutageStep
from gis import read_layers, write_grid

NOW = "2026-11-20T09:00:00+01:00"
JOB = {"id": "J1", "equipment": ["R2"], "duration_min": 120, "earliest": "2026-12-01T08:00:00+01:00",
       "latest": "2026-12-04T18:00:00+01:00", "crew": "K1"}
HOSTILE_NODE = "<b onmouseover=alert(3)>R2</b>"
HOSTILE_DEVICE = '=HYPERLINK("x")<img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def hostile_grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small ring with hostile customer names and RMU R2 named with markup."""
    layers = dict(read_layers(SMALL_RING))
    nodes = layers["nodes"].copy()
    nodes.loc[nodes["id"] == "R2", "name"] = HOSTILE_NODE
    layers["nodes"] = nodes
    c = layers["customers"].copy()
    c["name"] = [XSS_NAMES.get(i, n) for i, n in zip(c["id"], c["name"], strict=True)]
    layers["customers"] = c
    return write_grid(layers, tmp_path_factory.mktemp("grid") / "hostile")


@pytest.fixture
def planned(hostile_grid: Path, make_config: Any, make_tokens: Any) -> Any:
    app = create_app(make_config(GRID_PATH=str(hostile_grid)), environ={})
    tokens = make_tokens(app)
    c = app.test_client()
    assert c.post("/api/jobs", json=JOB, headers=tokens["planner"]).status_code == 201
    r = c.post("/api/plans", json={"now": NOW}, headers=tokens["planner"])
    plan = c.get(f"/api/plans/{r.json['plan']['id']}", headers=tokens["planner"]).json
    assert plan["status"] == "done" and len(plan["outages"]) == 1, plan
    yield app, c, tokens, plan, plan["outages"][0]["id"]
    app.extensions["db"].engine.dispose()


def _steps(c: Any, tokens: Any, outage_id: int) -> list[dict[str, Any]]:
    steps = c.get(f"/api/outages/{outage_id}", headers=tokens["viewer"]).json["switching_steps"]
    assert [s["seq"] for s in steps] == list(range(1, len(steps) + 1)) and len(steps) >= 6
    return steps


def _table(ws: Any, first: str) -> tuple[list[str], list[list[Any]]]:
    """The step table of a signing sheet: its header row (starting with ``first``) and the rows under it."""
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(rows) if r and r[0] == first)
    body = []
    for r in rows[at + 1:]:
        if not r or r[0] is None or not str(r[0]).isdigit():
            break
        body.append(r)
    return rows[at], body


def test_xlsx_sheet_lists_every_stored_step_in_order(planned: Any) -> None:
    app, c, tokens, _plan, oid = planned
    steps = _steps(c, tokens, oid)
    r = c.get(f"/api/outages/{oid}/sheet?format=xlsx&lang=en", headers=tokens["dispatcher"])
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    assert re.match(rf'attachment; filename="outage-{oid}-switching-en-2026-12-\d\d\.xlsx"', r.headers["Content-Disposition"])
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    head, body = _table(ws, "No.")
    assert head == ["No.", "Time", "Phase", "Device", "Location", "Operation", "Who", "Why", "Checked by", "Executed by"]
    assert [int(b[0]) for b in body] == [s["seq"] for s in steps]
    assert [b[3] for b in body] == [s["device"] or "—" for s in steps]
    ops = {"open": "Open switch", "close": "Close switch", "verify_dead": "Verify dead", "apply_earth": "Apply earth",
           "remove_earth": "Remove earth", "keep_open": "Check open, lock and tag", "start_work": "Start work (permit to work)",
           "end_work": "End work, crew clear"}
    assert [b[5] for b in body] == [ops[s["action"]] for s in steps]
    assert [b[1] for b in body] == [s["at"][11:16] for s in steps]  # local HH:MM (same day)
    assert all(b[8] is None and b[9] is None for b in body)  # blanks to sign
    actions = [s["action"] for s in steps]
    assert actions.index("verify_dead") < actions.index("apply_earth") < actions.index("start_work")
    # who: the job's crew, or the control room for a remote-controlled switch
    grid = app.extensions["grid"]
    remote = set(grid.switches["id"][grid.switches["remote"].astype(bool)])
    for s, b in zip(steps, body, strict=True):
        assert b[6] == ("Control room (remote)" if s["device"] in remote and s["action"] in ("open", "close") else "K1")
        assert s["note"] in b[7]
    # a switch of R2 is located at R2 (its hostile name written as text)
    at_r2 = [b for s, b in zip(steps, body, strict=True) if s["device"] and s["device"].startswith("S")]
    located = {b[4] for b in body}
    assert any(HOSTILE_NODE in loc for loc in located), located
    assert at_r2
    # header: outage, window, feeders, issued-by / approved-by blanks
    labels = {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r and r[0]}
    assert labels["Outage"].startswith(f"{oid} (") and labels["Issued by"] is None and labels["Approved by"] is None
    assert "2026-12-0" in labels["Window"] and labels["Feeders"]
    assert ws.print_title_rows and ws.page_setup.orientation == "landscape"


def test_chinese_sheet(planned: Any) -> None:
    _app, c, tokens, _plan, oid = planned
    steps = _steps(c, tokens, oid)
    ws = openpyxl.load_workbook(io.BytesIO(c.get(f"/api/outages/{oid}/sheet?format=xlsx&lang=zh", headers=tokens["viewer"]).data)).active
    assert ws["A1"].value == "倒闸操作票"
    head, body = _table(ws, "序号")
    assert head[-2:] == ["检查人", "操作人"] and len(body) == len(steps)
    assert "验电" in [b[5] for b in body] and "拉开开关" in [b[5] for b in body]  # a switch opened (not "处理中", an open fault)
    page = c.get(f"/api/outages/{oid}/sheet?lang=zh", headers=tokens["viewer"]).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "倒闸操作票" in page and "审核人" in page
    # the core's notes in Chinese too: the verify-dead row counts the work zone's nodes in Chinese
    why = [b[7] for b in body]
    verify = next(w for w, st in zip(why, steps, strict=True) if st["action"] == "verify_dead")
    assert "验明作业区无电" in verify and "node(s)" not in verify
    assert not any("work zone" in str(w) for w in why)


def test_html_sheet_has_every_step_in_order_and_escapes(planned: Any) -> None:
    app, c, tokens, _plan, oid = planned
    with app.app_context(), app.extensions["db"].session(actor="test") as s:
        step = s.query(OutageStep).filter_by(outage_id=oid, seq=0).one()
        step.data = {**step.data, "device": HOSTILE_DEVICE, "note": "<script>alert(9)</script>"}
    steps = _steps(c, tokens, oid)
    r = c.get(f"/api/outages/{oid}/sheet", headers=tokens["planner"])
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    seqs = [int(x) for x in re.findall(r'<tr data-seq="(\d+)">', page)]
    assert seqs == [s["seq"] for s in steps]
    rows = re.findall(r'<td class="device">(.*?)</td>', page)
    assert [html.unescape(x) for x in rows] == [s["device"] or "—" for s in steps]
    assert "<img" not in page and "<script>alert" not in page and "<b onmouseover" not in page
    assert html.escape(HOSTILE_NODE) in page or html.escape(HOSTILE_NODE, quote=False) in page
    css = c.get("/static/css/sheet.css")
    assert "@media print" in css.get_data(as_text=True) and 'href="/static/css/sheet.css"' in page
    css.close()
    assert "<script>" not in re.sub(r'<script src="[^"]+"></script>', "", page)  # no inline script (CSP)
    # the hostile device is a text cell in the XLSX, its formula defused
    ws = openpyxl.load_workbook(io.BytesIO(c.get(f"/api/outages/{oid}/sheet?format=xlsx", headers=tokens["planner"]).data)).active
    _head, body = _table(ws, "No.")
    assert body[0][3] == "'" + HOSTILE_DEVICE


def test_sheet_language_follows_the_user(planned: Any) -> None:
    _app, c, tokens, _plan, oid = planned
    page = c.get(f"/api/outages/{oid}/sheet", headers={**tokens["viewer"], "Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "倒闸操作票" in page


@pytest.mark.parametrize(("query", "status"), [("format=pdf", 422), ("lang=fr", 422), ("colour=red", 422)])
def test_sheet_bad_input(planned: Any, query: str, status: int) -> None:
    _app, c, tokens, _plan, oid = planned
    assert c.get(f"/api/outages/{oid}/sheet?{query}", headers=tokens["viewer"]).status_code == status


def test_sheet_roles_and_missing(planned: Any) -> None:
    _app, c, tokens, plan, oid = planned
    assert c.get(f"/api/outages/{oid}/sheet").status_code == 401
    assert c.get(f"/api/outages/{oid}/sheet", headers=tokens["crew"]).status_code == 403
    assert c.get("/api/outages/999999/sheet", headers=tokens["viewer"]).status_code == 404
    assert c.get("/api/plans/999999/workbook", headers=tokens["viewer"]).status_code == 404


def test_plan_workbook_has_a_sheet_per_concept(planned: Any) -> None:
    _app, c, tokens, plan, oid = planned
    r = c.get(f"/api/plans/{plan['id']}/workbook", headers=tokens["planner"])
    assert r.status_code == 200 and f"plan-{plan['id']}-workbook-" in r.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["outages", "switching_steps", "transfers", "generators", "customers"]
    full = c.get(f"/api/outages/{oid}", headers=tokens["planner"]).json
    outages = list(wb["outages"].iter_rows(values_only=True))
    assert len(outages) == 2 and outages[1][0] == oid and outages[1][3] == full["start"]
    assert outages[1][outages[0].index("window_reason")] == full["data"]["window"]["explanation"]
    steps = list(wb["switching_steps"].iter_rows(values_only=True))
    assert [(r[0], r[1], r[4], r[5] or None) for r in steps[1:]] == [
        (oid, s["seq"], s["action"], s["device"]) for s in full["switching_steps"]]
    transfers = list(wb["transfers"].iter_rows(values_only=True))
    assert len(transfers) - 1 == len(full["transfers"])
    for row, t in zip(transfers[1:], full["transfers"], strict=True):
        rec = dict(zip(transfers[0], row, strict=True))
        assert rec["tie"] == t["tie"] and rec["loading_pct"] == pytest.approx(100 * t["receiving_peak_kw"] / t["receiving_limit_kw"], abs=0.06)
    customers = list(wb["customers"].iter_rows(values_only=True))
    listed = c.get(f"/api/outages/{oid}/customers", headers=tokens["planner"]).json
    assert len(customers) - 1 == listed["total"] > 0
    names = [dict(zip(customers[0], r, strict=True))["name"] for r in customers[1:]]
    assert all(isinstance(n, str) for n in names)


def test_json_sheet_is_what_the_page_shows(planned: Any) -> None:
    _app, c, tokens, _plan, oid = planned
    steps = _steps(c, tokens, oid)
    r = c.get(f"/api/outages/{oid}/sheet?format=json&lang=zh", headers=tokens["viewer"])
    assert r.status_code == 200 and r.json["lang"] == "zh" and r.json["title"] == "倒闸操作票"
    assert [(row["seq"], row["device"]) for row in r.json["rows"]] == [(s["seq"], s["device"] or "—") for s in steps]
    assert r.json["columns"][:2] == ["序号", "时间"] and r.json["valid"] is True
    header = dict(r.json["header"])
    assert header["签发人"] == "" and header["审核人"] == ""
