"""The public outage lookup (the 95598 view): what a customer may know about their supply.

Three ways in — an account number, a street (found by words of its name), a point on the
map (the nearest supply point) — and one answer: the **published** planned outages that
reach that supply point or street (date, window, the reason in plain words, how the supply
is affected, the streets of the area) and the **open** faults there (still out or
restored, the estimated restoration time, the streets). The answer never holds a customer
id, name, phone, account or house number: an area is a list of street names.

Only outages whose status is in :data:`PUBLIC_OUTAGE_STATUSES` are shown: a drafted
(``planned``) outage may still move, a cancelled one will not happen.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Fault, Outage, OutageCustomer
from app.services import faults as faults_service
from app.services.customers import customer_table
from app.times import local_iso
from gis import Grid, InputError, NotFoundError

__all__ = ["MAX_QUERY_CHARS", "PUBLIC_OUTAGE_STATUSES", "by_account", "by_point", "by_street", "find_streets",
           "street_of"]

#: Outage statuses the public may see: approved for the customers' eyes (``published``) or
#: confirmed by the planners. Drafts (``planned``), cancelled and executed outages are not shown.
PUBLIC_OUTAGE_STATUSES = ("confirmed", "published")
#: Longest text the lookup reads (an account number, street words).
MAX_QUERY_CHARS = 120
#: How far a map click may be from the nearest supply point (metres).
MAX_POINT_DISTANCE_M = 150.0
#: Streets listed per outage or fault (the rest are counted).
AREA_STREETS = 12
#: Streets a street search returns at most.
STREET_MATCHES = 10

_HOUSE_NUMBER = re.compile(r"^\s*\d+[A-Za-z]?(?:\s*(?:[-/]|bis|ter)\s*\d*[A-Za-z]?)?\s*,?\s+")
_ACCOUNT_SEPARATORS = re.compile(r"[\s.\-]")
#: How much of the supply an outage takes, worst first (app.models.SUPPLIES).
_SUPPLY_RANK = {"interrupted": 0, "short_breaks": 1, "generator": 2}


def street_of(address: str) -> str:
    """The street of an address: no house number, no town (``"5 Place X, Monaco"`` -> ``"Place X"``)."""
    return _HOUSE_NUMBER.sub("", address or "").split(",")[0].strip()


def _fold(text: str) -> str:
    """Case- and accent-free text for matching (``"Sémaphore"`` -> ``"semaphore"``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _streets(grid: Grid) -> dict[str, np.ndarray]:
    """Street name -> ids of the customers on it (kept with the grid)."""
    return grid.derived("app.lookup_streets", _build_streets)


def _build_streets(grid: Grid) -> dict[str, np.ndarray]:
    table = customer_table(grid)
    streets = table["address"].map(street_of)
    out: dict[str, list[str]] = {}
    for cid, street in zip(table.index, streets, strict=True):
        if street:
            out.setdefault(street, []).append(str(cid))
    return {k: np.array(v, dtype=object) for k, v in sorted(out.items())}


def _accounts(grid: Grid) -> dict[str, str]:
    """Account number (case-folded, separators dropped) -> customer id; kept with the grid."""
    return grid.derived("app.lookup_accounts", _build_accounts)


def _build_accounts(grid: Grid) -> dict[str, str]:
    table = customer_table(grid)
    out: dict[str, str] = {}
    for cid, account in zip(table.index, table["account"], strict=True):
        if account:
            out.setdefault(_ACCOUNT_SEPARATORS.sub("", str(account)).casefold(), str(cid))
    return out


def _text(value: str | None, *, what: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise InputError(f"give the {what}", code=f"missing_{what}")
    if len(text) > MAX_QUERY_CHARS:
        raise InputError(f"the {what} is longer than {MAX_QUERY_CHARS} characters", code="too_long")
    return text


def find_streets(grid: Grid, query: str | None) -> list[str]:
    """Streets whose name holds every word of ``query`` (case and accents ignored), at most
    :data:`STREET_MATCHES`, those starting with the query first, then by name."""
    words = _fold(_text(query, what="street")).split()
    found = [s for s in _streets(grid) if all(w in _fold(s) for w in words)]
    first = _fold(" ".join(words))
    found.sort(key=lambda s: (not _fold(s).startswith(first), s))
    return found[:STREET_MATCHES]


def by_account(session: Session, grid: Grid, account: str | None, *, now: datetime) -> dict[str, Any]:
    """The public answer for one account number (spaces, dots and dashes ignored).

    Raises ``InputError`` (``bad_account``) for text that cannot be an account number and
    ``NotFoundError`` (``unknown_account``) for one the grid does not have.
    """
    text = _ACCOUNT_SEPARATORS.sub("", _text(account, what="account"))
    if not text.isascii() or not text.isalnum():
        raise InputError("an account number has only letters and digits", code="bad_account")
    cid = _accounts(grid).get(text.casefold())
    if cid is None:
        raise NotFoundError("no supply point has this account number", code="unknown_account")
    return _answer(session, grid, [cid], now=now, area=_street_of_customer(grid, cid))


def by_street(session: Session, grid: Grid, street: str | None, *, now: datetime) -> dict[str, Any]:
    """The public answer for every supply point of one street (its exact name, as
    :func:`find_streets` gives it); ``NotFoundError`` (``unknown_street``) otherwise."""
    name = _text(street, what="street")
    ids = _streets(grid).get(name)
    if ids is None:
        raise NotFoundError("no street of that name", code="unknown_street")
    return _answer(session, grid, list(ids), now=now, area=name)


def by_point(session: Session, grid: Grid, *, lon: float, lat: float, now: datetime) -> dict[str, Any]:
    """The public answer for the supply point nearest to ``lon``/``lat`` (WGS84 degrees)
    within :data:`MAX_POINT_DISTANCE_M`; ``NotFoundError`` (``no_supply_point``) when none."""
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError("lon and lat must be WGS84 degrees", code="bad_point")
    table = customer_table(grid)
    # equirectangular distance: exact enough within a few hundred metres
    dx = (table["lon"].to_numpy(dtype=float) - lon) * np.cos(np.radians(lat)) * 111_320.0
    dy = (table["lat"].to_numpy(dtype=float) - lat) * 110_574.0
    d = np.hypot(dx, dy)
    if not len(d) or float(d.min()) > MAX_POINT_DISTANCE_M:
        raise NotFoundError(f"no supply point within {MAX_POINT_DISTANCE_M:.0f} m", code="no_supply_point")
    cid = str(table.index[int(np.argmin(d))])
    return _answer(session, grid, [cid], now=now, area=_street_of_customer(grid, cid))


def _street_of_customer(grid: Grid, cid: str) -> str:
    return street_of(str(customer_table(grid).at[cid, "address"]))


def _area(grid: Grid, ids: Sequence[str]) -> dict[str, Any]:
    """The streets of these customers: the most customers first, at most :data:`AREA_STREETS`."""
    table = customer_table(grid)
    known = [i for i in ids if i in table.index]
    counts = table.loc[known, "address"].map(street_of).value_counts()
    counts = counts[counts.index != ""]
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {"streets": [s for s, _ in ordered[:AREA_STREETS]], "more_streets": max(0, len(ordered) - AREA_STREETS)}


def _answer(session: Session, grid: Grid, ids: Sequence[str], *, now: datetime, area: str) -> dict[str, Any]:
    tz = grid.timezone
    wanted = set(ids)
    planned: list[dict[str, Any]] = []
    hits = session.execute(
        select(OutageCustomer.outage_id, OutageCustomer.supply).join(Outage, Outage.id == OutageCustomer.outage_id)
        .where(OutageCustomer.customer_id.in_(sorted(wanted)), Outage.status.in_(PUBLIC_OUTAGE_STATUSES),
               Outage.end > now, Outage.start.is_not(None))).all()
    supply: dict[int, list[str]] = {}
    for h in hits:
        supply.setdefault(h.outage_id, []).append(h.supply)
    outages = session.scalars(select(Outage).where(Outage.id.in_(list(supply))).order_by(Outage.start, Outage.id)).all() if supply else []
    for o in outages:
        everyone = session.scalars(select(OutageCustomer.customer_id).where(OutageCustomer.outage_id == o.id)).all()
        start = o.start.astimezone(tz) if o.start else None
        planned.append({
            "date": start.date().isoformat() if start else None,
            "start": local_iso(o.start, tz), "end": local_iso(o.end, tz),
            "reason": "maintenance",
            "supply": min(supply[o.id], key=lambda s: _SUPPLY_RANK.get(s, 0)),
            "ongoing": bool(o.start and o.start <= now),
            "area": _area(grid, list(everyone)),
        })
    faults: list[dict[str, Any]] = []
    for f in session.scalars(select(Fault).where(Fault.status == "open").order_by(Fault.id)).all():
        status = faults_service.supply_status(f, now=now)
        mine_status = [status[c] for c in ids if c in status]
        if not mine_status:
            continue
        out = [at for s, at in mine_status if s == faults_service.OUT]
        restored = [at for s, at in mine_status if s == faults_service.RESTORED]
        eta = max(out) if out and all(at is not None for at in out) else None  # type: ignore[type-var]
        faults.append({
            "status": faults_service.OUT if out else faults_service.RESTORED,
            "since": local_iso(f.now, tz),
            "estimated_restoration": local_iso(eta, tz) if out else None,
            "restored_at": local_iso(max(at for at in restored if at is not None), tz)
            if not out and any(at is not None for at in restored) else None,
            "area": _area(grid, list(status)),
        })
    return {"area": area, "supply_points": len(wanted), "planned": planned, "faults": faults,
            "checked_at": local_iso(now, tz)}
