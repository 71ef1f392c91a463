"""Fixtures: the hand-checkable small ring (tests/data/small_ring) and variants of it.

    BA =F1=> n1 -L1- R1 -S1-> x1 -L2- R2 -S2-> x2 -L3- R3 ..T1.. R4 <-L6- y2 <-S5- R5 -L5- y1 <-S4- R6 -L4- m1 <=F2= BB
                      |S3                 |L7              |L8                   |L9               |L10
                      z1 -L11- D5 (C6)    D1 (C1, C2)      D2 (C3, C7)           D3 (C4)           D4 (C5)

F1: 400 A from SA (capacity sqrt(3) x 10 kV x 400 A x 0.9 = 6235.4 kW); F2: 300 A from SB (4676.5 kW).
C1 100 kW flat, C2 50 kW "day", C3 400 kW flat (first, backup), C7 30 kW flat, C4 80 kW "day"
(second), C5 200 kW flat, C6 20 kW flat. "day" = 1.0 from 08:00 to 18:00 on weekdays, 0.2 at night.
Tuesday 2026-12-08 is 7 days after the default ``now``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gis import Grid, read_layers
from planning.outages import Job, PlanOptions

RING = Path(__file__).resolve().parents[2] / "data" / "small_ring"
TZ_OFFSET = "+01:00"


def at(text: str) -> datetime:
    """'2026-12-08 09:00' in Monaco winter time (UTC+1)."""
    return datetime.fromisoformat(text.replace(" ", "T") + TZ_OFFSET)


NOW = at("2026-12-01 08:00")


def ring_grid(edit: Callable[[dict[str, Any]], None] | None = None) -> Grid:
    """The small ring, optionally edited layer by layer before validation."""
    layers = read_layers(RING)
    if edit is not None:
        edit(layers)
    return Grid.from_layers(layers)


def set_row(layers: dict[str, Any], layer: str, row_id: str, **values: Any) -> None:
    df = layers[layer]
    for k, v in values.items():
        if k not in df.columns:
            df[k] = None
        df[k] = df[k].astype(object)
        df.loc[df["id"] == row_id, k] = v


def job(jid: str, equipment: str, minutes: int, earliest: str = "2026-12-08 07:00", latest: str = "2026-12-08 19:00", **kw: Any) -> Job:
    return Job(jid, equipment, minutes, at(earliest), at(latest), **kw)  # type: ignore[arg-type]


FAST = PlanOptions(solver_time_limit_s=5, solver_workers=1)


@pytest.fixture(scope="session")
def small_ring() -> Grid:
    return ring_grid()


@pytest.fixture(scope="session")
def one_substation() -> Grid:
    """The ring with both busbars in substation SA: T1 joins two feeders of one substation."""
    return ring_grid(lambda L: set_row(L, "nodes", "BB", substation_id="SA"))


@pytest.fixture(scope="session")
def weak_f2() -> Grid:
    """F2 rated 40 A: capacity 623.5 kW, limit 561.2 kW at a 10 % margin; it carries up to 280 kW."""
    return ring_grid(lambda L: set_row(L, "switches", "F2", rating_a=40.0))


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@pytest.fixture(scope="session")
def mk() -> Any:
    """Helpers for tests (conftest modules cannot be imported under --import-mode=importlib)."""
    from types import SimpleNamespace

    return SimpleNamespace(at=at, job=job, ring_grid=ring_grid, set_row=set_row, NOW=NOW, FAST=FAST, hours=hours)
