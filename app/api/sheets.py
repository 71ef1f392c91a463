"""Switching sheets (操作票) a crew and a dispatcher sign, and the plan workbook.

``GET /api/outages/<id>/sheet?format=html|xlsx&lang=en|zh``: the outage's ordered steps
with the header and signature blanks, as printable HTML (print it, or "save as PDF" in
the browser) or as XLSX; in the language asked for, else the user's. ``GET
/api/plans/<id>/workbook``: one XLSX with the plan's outages, switching steps, transfers,
generators and affected customers. The rows come from :mod:`app.services.sheets`; the
XLSX writers are :mod:`app.exports`'.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import marshmallow as ma
from flask import Response, current_app, render_template
from flask_babel import force_locale, get_locale

from app.api import ApiBlueprint
from app.api.common import file_response, get_or_404, grid, session
from app.auth import READ_ROLES, require, sees_phones
from app.exports import FORMATS, filename, to_signing_xlsx, to_xlsx_book
from app.models import Outage, Plan
from app.services import sheets as sheets_service
from app.services.customers import affected_customers
from app.times import local

blp = ApiBlueprint("sheets", __name__, url_prefix="/api", description="Switching sheets (操作票) and plan workbooks")

XLSX = FORMATS["xlsx"][0]


class SheetArgs(ma.Schema):
    format = ma.fields.String(load_default="html", validate=ma.validate.OneOf(["html", "xlsx", "json"]))
    lang = ma.fields.String(validate=ma.validate.OneOf(["en", "zh"]),
                            metadata={"description": "sheet language; default: the user's"})


def _lang(args: dict[str, Any]) -> str:
    languages = tuple(current_app.config.get("LANGUAGES", ("en", "zh")))
    lang = args.get("lang") or str(get_locale() or "en")
    return lang if lang in languages else languages[0]


@blp.route("/outages/<int:outage_id>/sheet")
@require(*READ_ROLES)
@blp.arguments(SheetArgs, location="query")
@blp.response(200, content_type="text/html")
@blp.alt_response(200, description="format=xlsx: the sheet as a workbook", content_type=XLSX)
def outage_sheet(args: dict[str, Any], outage_id: int) -> Any:
    """The outage's switching sheet: header (outage, window, feeders, jobs, crews, issued-by /
    approved-by blanks), every step in order (number, time, phase, device, location, operation,
    who, why, checked-by / executed-by blanks), signature lines. ``format=html`` is a printable
    page (print CSS; PDF by the browser's print), ``xlsx`` a download, ``json`` the same sheet as
    data (``rows``: ``seq, at, phase, device, location, operation, who, why``) for the planner page."""
    o = get_or_404(Outage, outage_id, "outage")
    lang = _lang(args)
    with force_locale(lang):
        sheet = sheets_service.switching_sheet(session(), grid(), o)
        if args["format"] == "json":
            return {"outage_id": o.id, "lang": lang, "title": sheet.title, "header": [list(h) for h in sheet.header],
                    "columns": sheet.columns, "rows": [asdict(r) for r in sheet.rows], "signatures": sheet.signatures,
                    "valid": sheet.valid, "problems": sheet.problems}
        if args["format"] == "xlsx":
            data = to_signing_xlsx(title=sheet.title, header=sheet.header, columns=sheet.columns, rows=sheet.table(),
                                   signatures=sheet.signatures, sheet=f"{sheet.title} {o.id}")
            day = local(o.start, grid().timezone)
            return file_response(data, mimetype=XLSX, filename=filename("outage", o.id, f"switching-{lang}", day, "xlsx"))
        html = render_template("sheets/switching.html", sheet=sheet, lang=lang)
    return Response(html, mimetype="text/html")


@blp.route("/plans/<int:plan_id>/workbook")
@require(*READ_ROLES)
@blp.response(200, content_type=XLSX)
def plan_workbook(plan_id: int) -> Any:
    """The plan as one XLSX: sheets ``outages`` (times, jobs, feeders, impact, the window's
    reason), ``switching_steps`` (every step with its device's location), ``transfers`` (with
    ``loading_pct``: the receiving feeder's peak in % of its limit), ``generators`` (``loading_pct``:
    the customer's peak in % of the truck's kW) and ``customers`` (as the customer export)."""
    p = get_or_404(Plan, plan_id, "plan")
    tables = sheets_service.plan_tables(grid(), p.outages)
    customers = affected_customers(session(), grid(), outage_ids=[o.id for o in p.outages], with_phones=sees_phones())
    data = to_xlsx_book([*tables.items(), ("customers", customers)])
    return file_response(data, mimetype=XLSX, filename=filename("plan", p.id, "workbook", local(p.now, grid().timezone), "xlsx"))
