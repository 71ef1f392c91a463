"""Load profiles: share of a customer's ``demand_kw`` by day type and time of day.

* ``H0``, ``G0``-``G6``, ``L0``-``L2``: the German BDEW standard load profiles
  as shipped by :mod:`demandlib` (household, trade/commerce, agriculture),
  winter season, taken on Wednesday 9, Saturday 12 and Sunday 13 December
  2026 (the operations seed is a December month).
* ``hospital``, ``data_telecom`` (24 h loads) and ``school``, ``office`` (day
  loads) are not in BDEW.  Their hourly shapes below are written by hand after
  the usual textbook shapes of such buildings — a high continuous base
  (ventilation, cooling, imaging) with a day-time rise for hospitals; an almost
  flat load with a small afternoon cooling rise for exchanges and data rooms;
  occupancy-driven day loads for schools (08-17 h, nearly nothing at
  week-ends) and offices (08-19 h, low week-ends).  They are plausible shapes,
  not measurements.

Every profile is scaled so that its largest value over the three day types
is 1.0: ``demand_kw`` is the customer's peak and ``factor`` its share.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

DAY_TYPES = ("weekday", "saturday", "sunday")
BDEW_PROFILES = ("H0", "G0", "G1", "G2", "G3", "G4", "G5", "G6", "L0", "L1", "L2")
_BDEW_DAYS = {"weekday": "2026-12-09", "saturday": "2026-12-12", "sunday": "2026-12-13"}

# Hand-made hourly shapes (24 values, hour h = h:00-h:59), per day type.
_HOURLY: dict[str, dict[str, list[float]]] = {
    "hospital": {
        "weekday": [0.70, 0.68, 0.67, 0.67, 0.68, 0.70, 0.76, 0.85, 0.94, 0.99, 1.00, 1.00,
                    0.98, 0.98, 0.99, 0.97, 0.93, 0.88, 0.85, 0.83, 0.80, 0.77, 0.74, 0.72],
        "saturday": [0.70, 0.68, 0.67, 0.67, 0.68, 0.69, 0.72, 0.78, 0.84, 0.87, 0.88, 0.88,
                     0.87, 0.86, 0.86, 0.85, 0.84, 0.82, 0.81, 0.80, 0.78, 0.76, 0.73, 0.71],
        "sunday": [0.69, 0.67, 0.66, 0.66, 0.67, 0.68, 0.70, 0.75, 0.80, 0.83, 0.84, 0.84,
                   0.83, 0.82, 0.82, 0.81, 0.80, 0.79, 0.79, 0.78, 0.77, 0.75, 0.72, 0.70],
    },
    "data_telecom": {
        "weekday": [0.90, 0.89, 0.89, 0.88, 0.88, 0.88, 0.89, 0.91, 0.93, 0.95, 0.97, 0.98,
                    0.99, 1.00, 1.00, 0.99, 0.98, 0.96, 0.95, 0.94, 0.93, 0.92, 0.91, 0.90],
        "saturday": [0.90, 0.89, 0.89, 0.88, 0.88, 0.88, 0.88, 0.89, 0.90, 0.92, 0.93, 0.94,
                     0.95, 0.96, 0.96, 0.95, 0.94, 0.93, 0.93, 0.92, 0.92, 0.91, 0.91, 0.90],
        "sunday": [0.90, 0.89, 0.89, 0.88, 0.88, 0.88, 0.88, 0.89, 0.90, 0.91, 0.92, 0.93,
                   0.94, 0.95, 0.95, 0.94, 0.93, 0.93, 0.92, 0.92, 0.91, 0.91, 0.90, 0.90],
    },
    "school": {
        "weekday": [0.15, 0.15, 0.15, 0.15, 0.15, 0.16, 0.22, 0.45, 0.88, 0.98, 1.00, 0.96,
                    0.80, 0.92, 0.95, 0.90, 0.70, 0.42, 0.30, 0.25, 0.20, 0.17, 0.16, 0.15],
        "saturday": [0.14, 0.14, 0.14, 0.14, 0.14, 0.14, 0.15, 0.17, 0.22, 0.25, 0.25, 0.24,
                     0.20, 0.18, 0.17, 0.17, 0.16, 0.16, 0.16, 0.15, 0.15, 0.14, 0.14, 0.14],
        "sunday": [0.13, 0.13, 0.13, 0.13, 0.13, 0.13, 0.13, 0.13, 0.14, 0.14, 0.14, 0.14,
                   0.14, 0.14, 0.14, 0.14, 0.14, 0.14, 0.14, 0.14, 0.13, 0.13, 0.13, 0.13],
    },
    "office": {
        "weekday": [0.25, 0.24, 0.24, 0.24, 0.24, 0.26, 0.32, 0.55, 0.85, 0.97, 1.00, 0.99,
                    0.92, 0.94, 0.99, 0.98, 0.93, 0.80, 0.58, 0.42, 0.34, 0.30, 0.27, 0.26],
        "saturday": [0.25, 0.24, 0.24, 0.24, 0.24, 0.24, 0.26, 0.30, 0.36, 0.40, 0.41, 0.40,
                     0.37, 0.34, 0.32, 0.31, 0.30, 0.29, 0.28, 0.27, 0.26, 0.26, 0.25, 0.25],
        "sunday": [0.24, 0.24, 0.24, 0.24, 0.24, 0.24, 0.24, 0.25, 0.26, 0.27, 0.28, 0.28,
                   0.27, 0.27, 0.26, 0.26, 0.26, 0.26, 0.25, 0.25, 0.25, 0.24, 0.24, 0.24],
    },
}
CUSTOM_PROFILES = tuple(_HOURLY)
PROFILE_NAMES = BDEW_PROFILES + CUSTOM_PROFILES
MINUTES = np.arange(0, 1440, 15)


def _bdew() -> dict[str, np.ndarray]:
    """``{name: (3, 96) array}`` for the BDEW profiles (unscaled)."""
    from demandlib.bdew import ElecSlp

    # demandlib switches warnings to errors inside; keep that local
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = ElecSlp(2026).slp_frame
    out: dict[str, np.ndarray] = {}
    for name in BDEW_PROFILES:
        rows = []
        for day in DAY_TYPES:
            values = frame.loc[_BDEW_DAYS[day], name.lower()].to_numpy(dtype=float)
            if len(values) != 96:
                raise ValueError(f"demandlib returned {len(values)} values for {name} {day}")
            rows.append(values)
        out[name] = np.vstack(rows)
    return out


def _custom(name: str) -> np.ndarray:
    rows = []
    hours = np.arange(25, dtype=float)
    for day in DAY_TYPES:
        hourly = _HOURLY[name][day]
        # hour means -> quarter hours: interpolate between hour centres (wrap)
        centres = np.append(hourly, hourly[0])
        quarter = MINUTES / 60.0 + 0.125 - 0.5
        rows.append(np.interp(np.mod(quarter, 24.0), hours, centres))
    return np.vstack(rows)


def profile_arrays() -> dict[str, np.ndarray]:
    """All profiles as ``{name: (3, 96) array}`` scaled to a maximum of 1.0.

    Rows are ``weekday, saturday, sunday``; columns minute 0, 15, … 1425.
    """
    raw = _bdew()
    for name in CUSTOM_PROFILES:
        raw[name] = _custom(name)
    return {name: np.round(arr / arr.max(), 4) for name, arr in raw.items()}


def profiles_table(arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """The ``profiles`` table of the interchange format (sorted)."""
    rows = []
    for name in sorted(arrays):
        arr = arrays[name]
        for d, day in enumerate(DAY_TYPES):
            for m, minute in enumerate(MINUTES):
                rows.append((name, day, int(minute), float(arr[d, m])))
    return pd.DataFrame(rows, columns=["profile", "day_type", "minute_of_day", "factor"])


#: Profiles flatter than this (weekday max / min) have no peak hours: an
#: outage hurts them as much at any time of day.
FLAT_RATIO = 1.35


def peak_hours(arr: np.ndarray, *, share: float = 0.95) -> str | None:
    """Weekday hours when a profile is above ``share`` of its weekday peak.

    Returns ``"HH:MM-HH:MM;..."`` (local time), the hours to avoid when
    planning an outage for such a customer, or ``None`` for a flat profile
    (continuous loads: police, telephone exchanges).
    """
    day = arr[0]
    if day.max() < FLAT_RATIO * max(float(day.min()), 1e-9):
        return None
    hot = day >= share * day.max()
    spans = []
    start = None
    for i, flag in enumerate(list(hot) + [False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            spans.append((start, i))
            start = None
    if len(spans) > 1 and spans[0][0] == 0 and spans[-1][1] == len(day):
        # a span running over midnight: 22:00-24:00 + 00:00-01:00 -> 22:00-01:00
        first = spans.pop(0)
        last = spans.pop()
        spans.append((last[0], len(day) + first[1]))
    parts = []
    for a, b in spans:
        m0, m1 = a * 15, b * 15
        m1 = m1 if m1 <= 1440 else m1 - 1440
        end = f"{m1 // 60:02d}:{m1 % 60:02d}"
        parts.append(f"{m0 // 60:02d}:{m0 % 60:02d}-{end}")
    return ";".join(parts)
