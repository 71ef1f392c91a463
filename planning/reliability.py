"""Reliability indices of executed interruptions: IEEE 1366 and the Chinese DL/T 836 figures.

An executed interruption is one :class:`Interruption` row: the customers that
lost supply from ``start`` to ``end``. A fault restored in stages is several
rows sharing one ``event`` (each stage's customers with their own end): a
customer counts once per event in the interruption counts and with its own
duration in the minutes.

Indices per scope (``all`` or a feeder, by the customers' normal feeder) and
period (the whole period or each month, local time of the grid), planned and
unplanned apart and together:

* ``ci`` customers interrupted (sustained, > ``sustained_min``), ``cmi``
  customer-minutes, ``momentary_ci`` the shorter ones;
* ``saifi`` = ci / N, ``saidi_min`` = cmi / N, ``caidi_min`` = saidi / saifi,
  ``maifi`` = momentary_ci / N, ``asai`` = 1 - saidi / period minutes (N the
  customers served in the scope);
* ``ens_kwh``: the interrupted customers' profile loads over their durations;
* ``aihc1_h`` 用户平均停电时间 (AIHC-1) = saidi / 60 (hours per customer) and
  ``rs1_pct`` 供电可靠率 (RS-1) = (1 - AIHC-1 / period hours) x 100.

Major event days (IEEE 1366, 2.5 beta method): :func:`major_event_threshold`
turns a history of daily SAIDI into T_MED; with a threshold given, each row
set is also reported with the unplanned interruptions that began on a day
whose unplanned SAIDI exceeds T_MED taken out (``major_event_days`` =
``excluded``). Interruptions count in the period and month in which they began.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from gis import Grid
from gis.errors import InputError
from gis.records import (
    FieldProblem,
    field_parser,
    parse_aware_datetime,
    read_csv_table,
    split_list,
    validate_rows,
)

KINDS = ("planned", "unplanned")
SUSTAINED_MIN = 5.0  # IEEE 1366: an interruption longer than 5 min is sustained (DL/T 836 uses 3)
STEP = timedelta(minutes=15)


@dataclass(frozen=True)
class Interruption:
    """Customers without supply from ``start`` to ``end`` (aware datetimes) in one ``event``."""

    event: str
    kind: str  # "planned" or "unplanned"
    start: datetime
    end: datetime
    customers: tuple[str, ...]

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60.0


INTERRUPTION_COLUMNS = ("event", "kind", "start", "end", "customers")


class InterruptionRecord(BaseModel):
    """An executed-interruption row: ``customers`` ``;``-separated, times ISO 8601 with offset."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    event: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1, max_length=16)
    start: Annotated[datetime, field_parser(parse_aware_datetime)]
    end: Annotated[datetime, field_parser(parse_aware_datetime)]
    customers: Annotated[tuple[str, ...], field_parser(split_list)] = Field(min_length=1)

    def to_interruption(self) -> Interruption:
        return Interruption(self.event, self.kind, self.start, self.end, self.customers)


def load_interruptions_csv(source: str | Path | bytes | io.TextIOBase) -> tuple[list[Interruption], list[FieldProblem]]:
    """Executed interruptions from CSV (:data:`INTERRUPTION_COLUMNS`, all required) and a problem
    per bad row; :func:`check_interruptions` then checks them against a grid."""
    table = read_csv_table(source, what="interruptions file", required=INTERRUPTION_COLUMNS, allowed=INTERRUPTION_COLUMNS,
                           code="bad_interruptions_file", unreadable_code="interruptions_not_found")
    good, problems = validate_rows(InterruptionRecord, table, what="interruption")
    return [r.to_interruption() for _, r in good], problems


def check_interruptions(grid: Grid, rows: Iterable[Interruption]) -> tuple[list[Interruption], list[FieldProblem]]:
    """The rows that can be counted, and one problem per row that cannot (bad kind, naive or
    reversed times, unknown customers — named). Nothing raises: the report goes on with the rest."""
    known = set(grid.customers["id"])
    ok: list[Interruption] = []
    problems: list[FieldProblem] = []
    for r in rows:
        unknown = [c for c in r.customers if c not in known]
        if r.kind not in KINDS:
            problems.append(FieldProblem("kind", "bad_kind", record=r.event, message=f"kind must be one of {', '.join(KINDS)}, not {r.kind!r}"))
        elif r.start.tzinfo is None or r.end.tzinfo is None:
            problems.append(FieldProblem("start", "naive_datetime", record=r.event, message="start and end need a UTC offset"))
        elif r.end <= r.start:
            problems.append(FieldProblem("end", "bad_window", record=r.event, message=f"end {r.end.isoformat()} is not after start {r.start.isoformat()}"))
        elif unknown:
            problems.append(FieldProblem("customers", "unknown_customer", record=r.event, message=f"{len(unknown)} unknown customer(s): {', '.join(unknown[:5])}"))
        else:
            ok.append(r)
    return ok, problems


def major_event_threshold(daily_saidi_min: Sequence[float]) -> float:
    """T_MED (minutes per customer per day) by the IEEE 1366 2.5 beta method: exp(alpha + 2.5 beta)
    with alpha, beta the mean and sample standard deviation of ln(daily SAIDI) over the days with
    an interruption (the standard asks for five years of daily unplanned SAIDI)."""
    x = np.asarray(daily_saidi_min, dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    if len(x) < 2:
        raise InputError("the 2.5 beta method needs at least two days with interruptions", code="short_history")
    ln = np.log(x)
    return float(np.exp(ln.mean() + 2.5 * ln.std(ddof=1)))


def daily_saidi(grid: Grid, rows: Iterable[Interruption]) -> pd.Series:
    """Unplanned SAIDI (minutes) of each local day with an interruption, over all the grid's
    customers: the input of :func:`major_event_threshold`."""
    n = max(len(grid.customers), 1)
    cmi: dict[Any, float] = {}
    for r in rows:
        if r.kind == "unplanned":
            day = r.start.astimezone(grid.timezone).date()
            cmi[day] = cmi.get(day, 0.0) + r.minutes * len(r.customers)
    return pd.Series({d: v / n for d, v in sorted(cmi.items())}, dtype=float, name="saidi_min")


def reliability_report(
    grid: Grid,
    rows: Iterable[Interruption],
    *,
    start: datetime,
    end: datetime,
    by_month: bool = True,
    by_feeder: bool = True,
    med_threshold_min: float | None = None,
    sustained_min: float = SUSTAINED_MIN,
) -> tuple[pd.DataFrame, list[FieldProblem]]:
    """Indices (module docstring) of the rows that began in ``[start, end)``, and the rows left out.

    One line per scope x period x kind (``planned``, ``unplanned``, ``all``) x
    ``major_event_days`` (``included``; also ``excluded`` when ``med_threshold_min``
    is given). ``period`` is ``YYYY-MM`` (local) or ``all``.
    """
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise InputError("the report needs an aware start before an aware end", code="bad_window")
    good, problems = check_interruptions(grid, rows)
    good = [r for r in good if start <= r.start < end]
    frame = _customer_rows(grid, good, sustained_min=sustained_min)
    med_days = _major_event_days(grid, good, med_threshold_min)
    frame["med"] = frame["day"].isin(med_days) & (frame["kind"] == "unplanned")
    served = grid.customer_feeders().value_counts()
    periods = _periods(grid, start, end, by_month=by_month)
    lines = []
    for label, (a, b) in periods.items():
        in_period = frame[(frame["start"] >= a) & (frame["start"] < b)]
        minutes = (b - a).total_seconds() / 60.0
        for scope in ["all", *(sorted(served.index) if by_feeder else [])]:
            n = int(served.sum()) if scope == "all" else int(served[scope])
            part = in_period if scope == "all" else in_period[in_period["feeder"] == scope]
            for med in ("included", "excluded") if med_threshold_min is not None else ("included",):
                sel = part if med == "included" else part[~part["med"]]
                for kind in (*KINDS, "all"):
                    k = sel if kind == "all" else sel[sel["kind"] == kind]
                    lines.append({"scope": scope, "period": label, "kind": kind, "major_event_days": med,
                                  **_indices(k, n, minutes)})
    return pd.DataFrame(lines), problems


def _customer_rows(grid: Grid, rows: list[Interruption], *, sustained_min: float) -> pd.DataFrame:
    """One line per (event, customer): its minutes summed over the event's rows (its stretches
    without supply; a customer counts once per event), its feeder, the local day the event began
    for it, and its energy not supplied."""
    feeder = grid.customer_feeders()
    recs = []
    for r in rows:
        ens = _ens_kwh(grid, r)
        for c, e in zip(r.customers, ens, strict=True):
            recs.append((r.event, r.kind, c, r.start, r.minutes, e))
    df = pd.DataFrame(recs, columns=["event", "kind", "customer", "start", "minutes", "ens_kwh"])
    if df.empty:
        return df.assign(feeder=pd.Series(dtype=object), day=pd.Series(dtype=object), sustained=pd.Series(dtype=bool))
    df = df.groupby(["event", "customer"], as_index=False).agg(
        kind=("kind", "first"), start=("start", "min"), minutes=("minutes", "sum"), ens_kwh=("ens_kwh", "sum"))
    df["feeder"] = df["customer"].map(feeder)
    df["day"] = [s.astimezone(grid.timezone).date() for s in df["start"]]
    df["sustained"] = df["minutes"] > sustained_min
    return df


def _ens_kwh(grid: Grid, r: Interruption) -> np.ndarray:
    """Energy (kWh) each customer of the row did not get: its profile load, every 15 minutes."""
    edges = [r.start]
    while edges[-1] < r.end:
        edges.append(min(edges[-1] + STEP, r.end))
    hours = np.diff([e.timestamp() for e in edges]) / 3600.0
    factors = grid.profile_factors(edges[:-1])  # profiles x steps
    cust = grid.customers.set_index("id").loc[list(r.customers)]
    prof = grid.profile_index(cust["profile"]) if "profile" in cust else np.full(len(cust), len(grid.profile_names))
    return cust["demand_kw"].to_numpy(dtype=float) * (factors[prof] @ hours)


def _major_event_days(grid: Grid, rows: list[Interruption], threshold: float | None) -> set[Any]:
    if threshold is None:
        return set()
    daily = daily_saidi(grid, rows)
    return set(daily.index[daily > threshold])


def _periods(grid: Grid, start: datetime, end: datetime, *, by_month: bool) -> dict[str, tuple[datetime, datetime]]:
    """``all`` and, by month, each local calendar month clipped to ``[start, end)``."""
    out = {"all": (start, end)}
    if not by_month:
        return out
    tz = grid.timezone
    a = start.astimezone(tz)
    month = a.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while month < end:
        nxt = (month + timedelta(days=32)).replace(day=1)
        nxt = nxt.replace(tzinfo=None).replace(tzinfo=tz)  # the local midnight, whatever the offset
        out[f"{month:%Y-%m}"] = (max(month, start), min(nxt, end))
        month = nxt
    return out


def _indices(k: pd.DataFrame, n: int, minutes: float) -> dict[str, Any]:
    sustained = k[k["sustained"]] if len(k) else k
    ci = len(sustained)
    cmi = float(sustained["minutes"].sum()) if ci else 0.0
    saifi = ci / n if n else 0.0
    saidi = cmi / n if n else 0.0
    return {
        "customers_served": n,
        "events": int(sustained["event"].nunique()) if ci else 0,
        "ci": ci,
        "cmi": round(cmi, 3),
        "momentary_ci": int(len(k) - ci),
        "saifi": saifi,
        "saidi_min": saidi,
        "caidi_min": saidi / saifi if saifi else 0.0,
        "maifi": (len(k) - ci) / n if n else 0.0,
        "asai": 1.0 - saidi / minutes,
        "ens_kwh": round(float(sustained["ens_kwh"].sum()) if ci else 0.0, 3),
        "aihc1_h": saidi / 60.0,
        "rs1_pct": (1.0 - saidi / minutes) * 100.0,
    }
