"""Affected customers: the stored rows joined with the grid's customer table, in one place.

Who loses supply in a planned outage, and how, is stored once: one ``outage_customers``
row per (outage, customer) with ``supply`` (``interrupted`` | ``short_breaks`` |
``generator``) and the UTC due times of the notice and the SMS. A customer's name, phone,
address, importance, feeder and coordinates belong to the grid and are never copied into
the database. Everything that shows a plan's customers (the API, the exports, the notice
lists, the outbox, the plan's JSON) gets them from :func:`affected_customers`, which joins
the rows with :func:`customer_table`: the grid's customers indexed by id, built once per
grid (``Grid.derived``), not per request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import SUPPLIES, OutageCustomer
from app.times import local_iso
from gis import Grid

__all__ = ["CUSTOMER_COLUMNS", "NOTICE_COLUMNS", "ROW_COLUMNS", "SUPPLIES", "affected_customers", "customer_table",
           "customers_frame", "phone_book", "search_customers"]

#: Columns of a customer row in the API and the exports (``phone`` and ``account`` go third
#: and fourth when shown: customer service and admin only).
CUSTOMER_COLUMNS = ["id", "name", "importance", "category", "demand_kw", "node_id", "feeder", "address", "lon", "lat"]
#: What an ``outage_customers`` row adds: the outage, how the customer is supplied, the due times.
ROW_COLUMNS = ["outage_id", "supply", "notice_due", "sms_due"]
#: Columns of a notice list (``phone`` last when shown).
NOTICE_COLUMNS = ["customer_id", "name", "importance", "address", "supply", "notice_due", "sms_due"]


def customer_table(grid: Grid) -> pd.DataFrame:
    """The grid's customers indexed by id, columns ``CUSTOMER_COLUMNS``, ``phone`` and ``account``.

    Missing text is ``""``; ``feeder`` is the normal-state feeder (``""`` when none);
    ``lon``/``lat`` are WGS84 degrees rounded to 7 decimals (about 1 cm). Built on first
    use and kept with the grid (the grid never changes): read it, never modify it.
    """
    return grid.derived("app.customer_table", _build_customer_table)


def _build_customer_table(grid: Grid) -> pd.DataFrame:
    c = grid.customers
    ids = c["id"].astype(str).to_numpy(dtype=object)

    def text(column: str) -> np.ndarray:
        if column not in c.columns:
            return np.full(len(c), "", dtype=object)
        return c[column].astype(object).where(c[column].notna(), "").to_numpy()

    feeders = grid.customer_feeders()  # aligned with grid.customers
    return pd.DataFrame(
        {
            "id": ids,
            "name": text("name"),
            "phone": text("phone"),
            "account": text("account"),
            "importance": c["importance"].astype(str).to_numpy(),
            "category": text("category"),
            "demand_kw": c["demand_kw"].astype(float).to_numpy(),
            "node_id": text("node_id"),
            "feeder": np.array([f or "" for f in feeders.to_numpy()], dtype=object),
            "address": text("address"),
            "lon": c.geometry.x.round(7).to_numpy(),
            "lat": c.geometry.y.round(7).to_numpy(),
        },
        index=pd.Index(ids, dtype=object),
    )


def phone_book(grid: Grid) -> Mapping[str, str]:
    """Customer id -> phone number, for the customers that have one (kept with the grid)."""
    return grid.derived("app.phone_book", _build_phone_book)


def _build_phone_book(grid: Grid) -> dict[str, str]:
    phones = customer_table(grid)["phone"]
    return {str(i): str(p) for i, p in phones.items() if p}


def _columns(with_phones: bool) -> list[str]:
    return [*CUSTOMER_COLUMNS[:2], "phone", "account", *CUSTOMER_COLUMNS[2:]] if with_phones else list(CUSTOMER_COLUMNS)


def customers_frame(grid: Grid, ids: Iterable[str], *, with_phones: bool, extra: Mapping[str, Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """The grid's customers ``ids`` in that order (ids the grid does not know are left out).

    Columns ``CUSTOMER_COLUMNS``, with ``phone`` and ``account`` third and fourth only when
    ``with_phones``; each
    entry of ``extra`` (column name -> {customer id: value}) adds a column.
    """
    table = customer_table(grid)
    wanted = pd.Index(list(ids), dtype=object)
    out = table.loc[wanted[wanted.isin(table.index)], _columns(with_phones)].reset_index(drop=True)
    for key, per_id in (extra or {}).items():
        out[key] = [per_id.get(i) for i in out["id"]]
    return out


def affected_customers(session: Session, grid: Grid, *, outage_ids: Sequence[int], with_phones: bool) -> pd.DataFrame:
    """The stored customers of these outages joined with the grid's customer table.

    One row per (outage, customer) in storing order (outage by outage, each in the core's
    order): ``CUSTOMER_COLUMNS`` (``phone``, ``account`` third when ``with_phones``) then ``ROW_COLUMNS``,
    ``notice_due``/``sms_due`` as ISO 8601 in the grid's time zone (or None). A customer
    the grid no longer has is left out.
    """
    q = (select(OutageCustomer.outage_id, OutageCustomer.customer_id, OutageCustomer.supply,
                OutageCustomer.notice_due, OutageCustomer.sms_due)
         .where(OutageCustomer.outage_id.in_(list(outage_ids))).order_by(OutageCustomer.id))
    rows = session.execute(q).all() if outage_ids else []
    table = customer_table(grid)
    rows = [r for r in rows if r.customer_id in table.index]
    out = table.loc[pd.Index([r.customer_id for r in rows], dtype=object), _columns(with_phones)].reset_index(drop=True)
    shown: dict[datetime | None, str | None] = {}  # an outage's rows share their due times

    def iso(at: datetime | None) -> str | None:
        if at not in shown:
            shown[at] = local_iso(at, grid.timezone)
        return shown[at]

    out["outage_id"] = pd.Series([r.outage_id for r in rows], dtype="int64")
    out["supply"] = pd.Series([r.supply for r in rows], dtype=object)
    out["notice_due"] = pd.Series([iso(r.notice_due) for r in rows], dtype=object)
    out["sms_due"] = pd.Series([iso(r.sms_due) for r in rows], dtype=object)
    return out


_PHONE_TYPED = re.compile(r"^[\d\s+().-]+$")


def search_customers(df: pd.DataFrame, query: str | None) -> pd.DataFrame:
    """The rows of ``df`` a caller's words find (customer service's search; ``df`` unchanged).

    Something typed like a number (digits, spaces, ``+ ( ) - .``) with at least 3 digits
    finds the rows whose ``phone`` or ``account`` holds those digits in a row, whatever the
    spacing; any other query finds the rows where every word (case-folded) appears in the
    ``id``, ``account``, ``name`` or ``address``. An empty query finds every row.
    """
    q = " ".join((query or "").split()).casefold()
    if not q or df.empty:
        return df
    digits = re.sub(r"\D", "", q)
    if _PHONE_TYPED.match(q) and len(digits) >= 3:
        hit = pd.Series(False, index=df.index)
        for col in ("phone", "account"):
            if col in df.columns:
                hit |= df[col].fillna("").astype(str).str.replace(r"\D", "", regex=True).str.contains(digits, regex=False)
        return df[hit]
    hay = pd.Series("", index=df.index, dtype=object)
    for col in ("id", "customer_id", "account", "name", "address"):
        if col in df.columns:
            hay = hay + " " + df[col].fillna("").astype(str).str.casefold()
    hit = pd.Series(True, index=df.index)
    for word in q.split(" "):
        hit &= hay.str.contains(word, regex=False)
    return df[hit]
