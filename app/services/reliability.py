"""Glue to :mod:`planning.reliability`: executed interruptions stored, read back, reported.

An interruption is stored as one ``interruptions`` row and its customers as
``interruption_customers`` rows (ids only). Rows come from a CSV or a request
(checked by the core's :class:`~planning.reliability.InterruptionRecord` and
against the grid: all good or nothing stored), or from an outage marked
executed (its stored customers that lost supply for the whole outage).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Interruption, InterruptionCustomer, Outage, OutageCustomer
from gis import Grid
from gis.errors import InputError
from gis.records import FieldProblem, RecordError, validate_record
from planning.reliability import Interruption as CoreInterruption
from planning.reliability import (
    InterruptionRecord,
    check_interruptions,
    load_interruptions_csv,
    reliability_report,
)


def parse_rows(grid: Grid, *, csv_data: bytes | None = None, records: Sequence[Any] = ()) -> list[CoreInterruption]:
    """Interruptions from CSV bytes or JSON records, checked against the grid; any bad row raises
    :class:`~gis.records.RecordError` listing every problem (nothing is stored then)."""
    problems: list[FieldProblem] = []
    rows: list[CoreInterruption] = []
    if csv_data is not None:
        rows, problems = load_interruptions_csv(csv_data)
    for i, rec in enumerate(records, start=1):
        try:
            rows.append(validate_record(InterruptionRecord, rec, row=i, what="interruption").to_interruption())
        except RecordError as exc:
            problems.extend(exc.problems)
    good, unusable = check_interruptions(grid, rows)
    problems.extend(unusable)
    if problems:
        raise RecordError(problems, what="interruptions")
    return good


def store(s: Session, rows: Iterable[CoreInterruption], *, source: str, user_id: int | None) -> list[int]:
    """Store checked interruptions; returns their ids."""
    out = []
    for r in rows:
        row = Interruption(event=r.event, kind=r.kind, start=r.start, end=r.end, source=source, created_by=user_id,
                           customers=[InterruptionCustomer(customer_id=c) for c in dict.fromkeys(r.customers)])
        s.add(row)
        s.flush()
        out.append(row.id)
    return out


def executed(s: Session, outage: Outage, *, start: datetime, end: datetime, user_id: int | None) -> int:
    """Mark an outage executed from ``start`` to ``end`` (aware): status ``done`` and one planned
    interruption of the customers it left without supply for the whole outage."""
    if end <= start:
        raise InputError("actual_end must be after actual_start", code="bad_window")
    if outage.status == "cancelled":
        raise InputError(f"outage {outage.id} was cancelled: it cannot have been executed", code="cancelled_outage")
    if s.scalar(select(Interruption.id).where(Interruption.source == f"outage:{outage.id}")) is not None:
        raise InputError(f"outage {outage.id} is already recorded as executed", code="already_executed")
    dark = s.scalars(select(OutageCustomer.customer_id).where(OutageCustomer.outage_id == outage.id,
                                                              OutageCustomer.supply == "interrupted")).all()
    outage.status = "done"
    core = CoreInterruption(f"outage:{outage.id}", "planned", start, end, tuple(dark))
    (iid,) = store(s, [core], source=f"outage:{outage.id}", user_id=user_id)
    return iid


def history(s: Session, *, since: datetime | None = None, until: datetime | None = None) -> list[CoreInterruption]:
    """The stored interruptions (optionally starting in ``[since, until)``) as the core's rows."""
    q = select(Interruption).options(selectinload(Interruption.customers)).order_by(Interruption.start, Interruption.id)
    if since is not None:
        q = q.where(Interruption.start >= since)
    if until is not None:
        q = q.where(Interruption.start < until)
    return [CoreInterruption(r.event, r.kind, r.start, r.end, tuple(c.customer_id for c in r.customers)) for r in s.scalars(q)]


def report(s: Session, grid: Grid, *, start: datetime, end: datetime, med_threshold_min: float | None = None,
           by_feeder: bool = True) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The reliability report of the stored interruptions that began in ``[start, end)``."""
    df, problems = reliability_report(grid, history(s, since=start, until=end), start=start, end=end,
                                      med_threshold_min=med_threshold_min, by_feeder=by_feeder)
    return df, [p.to_dict() for p in problems]
