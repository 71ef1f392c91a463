"""Switching sheets (操作票) and the plan workbook, from the stored outage rows.

A switching sheet is what a crew and a dispatcher sign: a header (outage, window,
feeders, jobs, crews, issued-by / approved-by blanks) and the ordered steps of
``outage_steps`` (number, time, device, location, operation, who, why) with
checked-by / executed-by signature columns. Its texts are in the language asked for
(the caller sets it with ``flask_babel.force_locale``), the core's notes too (their
``why.texts``, :mod:`planning.outages.step_notes`); the devices and locations are data and
stay as written. :mod:`app.exports` writes it as XLSX, the
template ``sheets/switching.html`` as printable HTML.

The plan workbook is one sheet per concept of a plan: outages, switching steps,
transfers (with the receiving feeder's loading), generators (with the truck's loading)
and the affected customers (:func:`app.services.customers.affected_customers`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import pandas as pd
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job, Outage
from app.times import local, local_iso
from gis import Grid, InputError

#: Node kinds a switch is not "at" (the other end names the place: RMU, room, busbar).
PASSING_KINDS = frozenset({"junction"})


def action_label(action: str) -> str:
    """An operation in the sheet's language (the step's ``action``)."""
    labels = {
        "open": _("Open switch"), "close": _("Close switch"), "keep_open": _("Check open, lock and tag"),
        "verify_dead": _("Verify dead"), "apply_earth": _("Apply earth"), "remove_earth": _("Remove earth"),
        "start_work": _("Start work (permit to work)"), "end_work": _("End work, crew clear"),
    }
    return labels.get(action, action)


def phase_label(phase: str) -> str:
    """A step's phase in the sheet's language."""
    labels = {"transfer": _("Transfer load"), "isolate": _("Isolate"), "earth": _("Earth"), "work": _("Work"),
              "restore": _("Restore supply")}
    return labels.get(phase, phase)


@dataclass(frozen=True)
class SheetRow:
    """One line of a switching sheet (texts in the sheet's language, data as stored)."""

    seq: int
    at: str  # local time HH:MM (the date is in the header, unless the step is on another day)
    phase: str
    device: str
    location: str
    operation: str
    who: str
    why: str


@dataclass(frozen=True)
class SwitchingSheet:
    """A switching sheet: ``header`` (label, value) pairs, ``rows`` in step order, the column
    labels, and the signature lines under the table."""

    title: str
    outage_id: int
    header: list[tuple[str, str]]
    columns: list[str]
    rows: list[SheetRow]
    signatures: list[str]
    valid: bool
    problems: list[str]

    def table(self) -> list[list[str]]:
        """The rows as cells in column order, the two signature columns blank."""
        return [[str(r.seq), r.at, r.phase, r.device, r.location, r.operation, r.who, r.why, "", ""] for r in self.rows]


def _device_places(grid: Grid) -> dict[str, str]:
    """Every switch and node id -> where it is: the name and id of the station it sits in (a
    switch between an RMU and a junction is "at" the RMU), else the device's own id."""
    nodes = grid.nodes
    label = {}
    for i, kind, name in zip(nodes["id"], nodes["kind"], nodes["name"], strict=True):
        i, name = str(i), str(name or "")
        label[i] = (f"{name} ({i})" if name and name != i else i, str(kind) not in PASSING_KINDS)
    places = {i: text for i, (text, _station) in label.items()}
    for sw, a, b in zip(grid.switches["id"], grid.switches["from_node"], grid.switches["to_node"], strict=True):
        ends = [label.get(str(a), (str(a), False)), label.get(str(b), (str(b), False))]
        places[str(sw)] = next((text for text, station in ends if station), ends[0][0])
    return places


def device_location(grid: Grid, device: str | None) -> str:
    """Where a switch or node is (see :func:`_device_places`); a line or unknown id as it is."""
    if not device:
        return ""
    return grid.derived("app.device_places", _device_places).get(str(device), str(device))


def remote_switches(grid: Grid) -> set[str]:
    sw = grid.switches
    return {str(i) for i, r in zip(sw["id"], sw["remote"].fillna(False).astype(bool), strict=True) if r}


def job_crews(s: Session, job_ids: Sequence[str]) -> list[str]:
    """The crews named by the outage's jobs (first seen first)."""
    rows = s.execute(select(Job.id, Job.crew).where(Job.id.in_(list(job_ids)))).all()
    crew = {jid: c for jid, c in rows}
    return list(dict.fromkeys(str(crew[j]) for j in job_ids if crew.get(j)))


def _who(step: Mapping[str, Any], remote: set[str], crews: list[str]) -> str:
    crew = ", ".join(crews) or _("Field crew")
    device = step.get("device")
    if device and str(device) in remote and step.get("action") in ("open", "close"):
        return _("Control room (remote)")
    return crew


def _why(step: Mapping[str, Any]) -> str:
    """The purpose by phase and operation in the sheet's language, the core's note after it."""
    phase, action = str(step.get("phase") or ""), str(step.get("action") or "")
    purpose = {
        ("transfer", "close"): _("Re-feed customers from another feeder"),
        ("transfer", "open"): _("Part the transferred block from the work zone"),
        ("isolate", "open"): _("Isolate the work zone"),
        ("isolate", "keep_open"): _("A tie next to the work zone must stay open"),
        ("isolate", "verify_dead"): _("Prove the work zone dead before earthing"),
        ("earth", "apply_earth"): _("Protect the crew at every boundary"),
        ("work", "start_work"): _("Hand the zone to the crew"),
        ("work", "end_work"): _("Crew reports the work finished and clear"),
        ("restore", "remove_earth"): _("Earths off before re-energising"),
        ("restore", "close"): _("Re-energise and hand transferred customers back"),
        ("restore", "open"): _("Return the tie to normally open"),
    }.get((phase, action), "")
    note = _note(step)
    return f"{purpose}: {note}" if purpose and note else purpose or note


def _note(step: Mapping[str, Any]) -> str:
    """The core's note in the sheet's language (``why.texts``, planning.outages.step_notes), else as stored."""
    texts = (step.get("why") or {}).get("texts") if isinstance(step.get("why"), Mapping) else None
    if isinstance(texts, Mapping):
        lang = "zh-Hans" if str(get_locale() or "en").startswith("zh") else "en"
        if isinstance(texts.get(lang), str):
            return str(texts[lang])
    return str(step.get("note") or "")


def switching_sheet(s: Session, grid: Grid, outage: Outage) -> SwitchingSheet:
    """The outage's switching sheet in the current language (``force_locale`` around the call)."""
    tz: tzinfo = grid.timezone
    data = outage.data or {}
    zone = data.get("zone") or {}
    crews = job_crews(s, [str(j) for j in outage.jobs or []])
    remote = remote_switches(grid)
    start, end = local(outage.start, tz), local(outage.end, tz)
    day = start.date() if start else None
    work_place = ", ".join(device_location(grid, str(e)) for e in zone.get("equipment") or [])
    rows = []
    for st in outage.steps:
        step = st.data or {}
        at_text = str(step.get("at") or "")
        try:
            at = local(datetime.fromisoformat(at_text), tz) if at_text else None
        except (ValueError, InputError):
            at = None
        when = "" if at is None else (f"{at:%H:%M}" if at.date() == day else f"{at:%Y-%m-%d %H:%M}")
        device = str(step.get("device") or "")
        rows.append(SheetRow(
            seq=int(step.get("seq") or st.seq + 1), at=when, phase=phase_label(str(step.get("phase") or "")),
            device=device or "—", location=device_location(grid, device) if device else work_place,
            operation=action_label(str(step.get("action") or "")), who=_who(step, remote, crews), why=_why(step),
        ))
    window = f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} ({tz})" if start and end else ""
    header = [
        (_("Outage"), f"{outage.id} ({outage.core_id})"),
        (_("Window"), window),
        (_("Feeders"), ", ".join(str(f) for f in zone.get("feeders") or [])),
        (_("Work zone"), ", ".join(str(e) for e in zone.get("equipment") or [])),
        (_("Jobs"), ", ".join(str(j) for j in outage.jobs or [])),
        (_("Crews"), ", ".join(crews) or _("Field crew")),
        (_("Customers without supply"), str(data.get("customers_count", 0))),
        (_("Status"), outage_status_label(outage.status)),
        (_("Issued by"), ""),
        (_("Approved by"), ""),
    ]
    columns = [_("No."), _("Time"), _("Phase"), _("Device"), _("Location"), _("Operation"), _("Who"), _("Why"),
               _("Checked by"), _("Executed by")]
    signatures = [_("Issued by (planner)"), _("Approved by (dispatcher)"), _("Work leader (crew)"), _("Date and time")]
    return SwitchingSheet(title=_("Switching sheet"), outage_id=outage.id, header=header, columns=columns, rows=rows,
                          signatures=signatures, valid=bool(outage.valid), problems=[str(p) for p in data.get("problems") or []])


def outage_status_label(status: str) -> str:
    return {"planned": _("planned"), "confirmed": _("published"), "cancelled": _("cancelled"),
            "done": _("executed")}.get(status, status)


# -- the plan workbook --------------------------------------------------------------


def _loading_pct(kw: Any, limit: Any) -> float | None:
    try:
        k, lim = float(kw), float(limit)
    except (TypeError, ValueError):
        return None
    return round(100.0 * k / lim, 1) if lim > 0 else None


def plan_tables(grid: Grid, outages: Sequence[Outage]) -> dict[str, pd.DataFrame]:
    """The plan's outages, switching steps, transfers and generators as tables (times ISO 8601
    in the grid's time zone; loading in % of the receiving feeder's limit or the truck's kW)."""
    tz = grid.timezone
    outs, steps, transfers, generators = [], [], [], []
    for o in outages:
        d = o.data or {}
        zone, impact, window = d.get("zone") or {}, d.get("impact") or {}, d.get("window") or {}
        outs.append({
            "outage_id": o.id, "core_id": o.core_id, "status": o.status, "start": local_iso(o.start, tz),
            "end": local_iso(o.end, tz), "jobs": ";".join(map(str, o.jobs or [])),
            "feeders": ";".join(map(str, zone.get("feeders") or [])), "equipment": ";".join(map(str, zone.get("equipment") or [])),
            "customers": d.get("customers_count", 0), "ci": impact.get("ci"), "cmi": impact.get("cmi"),
            "ens_kwh": impact.get("ens_kwh"), "peak_hits": impact.get("peak_hits"), "valid": bool(o.valid),
            "window_reason": window.get("explanation", ""),
        })
        for st in o.steps:
            x = st.data or {}
            steps.append({"outage_id": o.id, "seq": x.get("seq"), "at": x.get("at"), "phase": x.get("phase"),
                          "action": x.get("action"), "device": x.get("device") or "",
                          "location": device_location(grid, x.get("device")), "note": x.get("note", ""),
                          "customers_off": x.get("customers_off"), "customers_on": x.get("customers_on")})
        for t in o.transfers:
            x = t.data or {}
            transfers.append({"outage_id": o.id, "tie": x.get("tie"), "from_feeder": x.get("from_feeder"),
                              "to_feeder": x.get("to_feeder"), "mode": x.get("mode"),
                              "customers": len(x.get("customers") or []), "transferred_peak_kw": x.get("transferred_peak_kw"),
                              "receiving_peak_kw": x.get("receiving_peak_kw"), "receiving_peak_at": x.get("receiving_peak_at"),
                              "receiving_limit_kw": x.get("receiving_limit_kw"),
                              "loading_pct": _loading_pct(x.get("receiving_peak_kw"), x.get("receiving_limit_kw"))})
        for g in o.generators:
            x = g.data or {}
            generators.append({"outage_id": o.id, "generator": x.get("generator"), "name": x.get("name"), "kw": x.get("kw"),
                               "customer": x.get("customer"), "importance": x.get("importance"), "peak_kw": x.get("peak_kw"),
                               "loading_pct": _loading_pct(x.get("peak_kw"), x.get("kw")), "from": x.get("from"),
                               "to": x.get("to"), "hours": x.get("hours")})
    cols = {
        "outages": ["outage_id", "core_id", "status", "start", "end", "jobs", "feeders", "equipment", "customers", "ci", "cmi",
                    "ens_kwh", "peak_hits", "valid", "window_reason"],
        "switching_steps": ["outage_id", "seq", "at", "phase", "action", "device", "location", "note", "customers_off",
                            "customers_on"],
        "transfers": ["outage_id", "tie", "from_feeder", "to_feeder", "mode", "customers", "transferred_peak_kw",
                      "receiving_peak_kw", "receiving_peak_at", "receiving_limit_kw", "loading_pct"],
        "generators": ["outage_id", "generator", "name", "kw", "customer", "importance", "peak_kw", "loading_pct", "from", "to",
                       "hours"],
    }
    rows = {"outages": outs, "switching_steps": steps, "transfers": transfers, "generators": generators}
    return {name: pd.DataFrame(rows[name], columns=cols[name]) for name in cols}
