"""Every tunable of outage planning in one validated, documented place: :class:`PlanOptions`.

Build it with keywords, or from a dict / JSON document with
:meth:`PlanOptions.from_dict` (every problem is listed in one
:class:`~gis.errors.InputError`, code ``bad_options``). The generator fleet can
also come from a CSV file (``id,name,kw,depot_id``) with
:func:`planning.fleet.load_generators_csv`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import time
from pathlib import Path
from typing import Any

from gis.errors import InputError
from gis.powerflow import Limits
from planning.fleet import Generator, GeneratorRecord, load_generators_csv
from planning.outages.jobs import NOTICE_LEAD_DAYS

IMPORTANCE_GRADES = ("special", "first", "second", "temporary", "normal")

DEFAULT_WEIGHTS: dict[str, float] = {"special": 100.0, "first": 50.0, "second": 10.0, "temporary": 5.0, "normal": 1.0}


@dataclass(frozen=True)
class PlanOptions:
    """Options of :func:`planning.outages.plan_outages` (all keyword, all with defaults).

    Times and durations
        ``time_step_min`` (minutes, a multiple of 15; candidate starts lie on this
        grid, counted from local midnight), ``working_hours`` (local ``(start, end)``;
        a job without ``night_work`` must start and end within them on one day),
        ``working_days`` (ISO weekdays 1=Monday .. 7=Sunday allowed for work),
        ``notice_lead_days`` (the first advance notice, 7 days), ``sms_lead_min``
        (the SMS before switching, 10 minutes), ``horizon_days`` (no start later
        than ``now`` + horizon), ``switching_break_min`` (minutes a
        break-before-make transfer leaves its customers dark, at each end),
        ``generator_setup_min`` (minutes a truck is blocked before and after
        each use for travel and connection).
    Harm
        ``importance_weights`` (weight per importance grade, multiplies kWh not
        supplied), ``interruption_cost_kwh`` (weighted kWh charged per customer
        interruption, the "per-interruption term"), ``peak_threshold`` (share of
        a customer's daily maximum above which a slot is a peak hour, 0.9),
        ``peak_grades`` (grades whose peak hours are hard constraints).
    Repeated interruptions (planning/outages/repeats.py)
        ``repeat_window_days`` (60), ``repeat_limit`` (2: interruptions a customer
        may have within that window, history and the new outage counted),
        ``repeat_limit_important`` (1: the same for graded customers); 0 = no limit.
    Network
        ``capacity_margin`` (share of a feeder's head capacity kept free, 0.10: a quick
        screen); ``loading_limit_pct`` (100: most a line, switch, transformer or busbar
        may carry in any state, % of rating) and ``voltage_band_pct`` (7: node voltages
        within +-7 % of nominal, GB/T 12325), both checked by an AC power flow of every
        state at every slot it holds (docs/powerflow.md).
    Generators
        ``generator_fleet`` (trucks), ``generator_grades`` (grades that get a truck
        when they cannot be transferred).
    Solver
        ``time_limit_s`` (seconds for the whole plan, None = no limit: merging, the
        solver and repairs stop early to keep within it, see ``planning.outages.plan.Budget``),
        ``solver_time_limit_s`` (seconds, CP-SAT wall time at most), ``solver_workers``,
        ``solver_candidates`` (cheapest starts per outage offered to CP-SAT; the
        greedy start is always among them), ``alternatives`` (how many
        next-best windows each outage explains).
    """

    time_step_min: int = 30
    working_hours: tuple[time, time] = (time(7, 0), time(19, 0))
    working_days: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)
    notice_lead_days: float = NOTICE_LEAD_DAYS
    sms_lead_min: int = 10
    horizon_days: int = 45
    switching_break_min: int = 5
    generator_setup_min: int = 60
    importance_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    interruption_cost_kwh: float = 2.0
    peak_threshold: float = 0.9
    peak_grades: tuple[str, ...] = ("special", "first", "second")
    repeat_window_days: int = 60
    repeat_limit: int = 2
    repeat_limit_important: int = 1
    capacity_margin: float = 0.10
    loading_limit_pct: float = 100.0
    voltage_band_pct: float = 7.0
    generator_fleet: tuple[Generator, ...] = ()
    generator_grades: tuple[str, ...] = ("special", "first", "second")
    solver_time_limit_s: float = 20.0
    time_limit_s: float | None = None
    solver_workers: int = 2
    solver_candidates: int = 32
    alternatives: int = 3

    def __post_init__(self) -> None:
        problems = _check(self)
        if problems:
            raise InputError("invalid planning options: " + "; ".join(problems), code="bad_options", details=problems)

    # -- (de)serialisation -------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> PlanOptions:
        """Options from a JSON-like dict; unknown keys and bad values are all reported at once.

        ``working_hours`` is ``["07:00", "19:00"]``; ``generator_fleet`` a list of
        ``{"id", "name", "kw", "depot_id"}`` or the path of a generators CSV.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InputError("planning options must be a JSON object", code="bad_options")
        known = {f.name for f in fields(cls)}
        problems = [f"unknown option {k!r}" for k in data if k not in known]
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            try:
                kwargs[key] = _convert(key, value)
            except (TypeError, ValueError, InputError) as exc:
                problems.append(f"{key}: {exc}")
        try:
            built = cls(**kwargs)
        except InputError as exc:
            problems += list(exc.details or [exc.message])
            built = None
        if problems or built is None:
            raise InputError("invalid planning options: " + "; ".join(problems), code="bad_options", details=problems)
        return built

    @classmethod
    def from_json(cls, path_or_text: str | Path) -> PlanOptions:
        """Options from a JSON file path or a JSON text."""
        text = str(path_or_text)
        p = Path(text)
        if not text.lstrip().startswith("{"):
            try:
                text = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:  # a latin-1 or UTF-16 file too
                raise InputError(f"cannot read options file {p} as UTF-8 text: {exc}", code="bad_options") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"options are not valid JSON: {exc}", code="bad_options") from exc
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``PlanOptions.from_dict(o.to_dict()) == o``."""
        return {
            "time_step_min": self.time_step_min,
            "working_hours": [self.working_hours[0].strftime("%H:%M"), self.working_hours[1].strftime("%H:%M")],
            "working_days": list(self.working_days),
            "notice_lead_days": self.notice_lead_days,
            "sms_lead_min": self.sms_lead_min,
            "horizon_days": self.horizon_days,
            "switching_break_min": self.switching_break_min,
            "generator_setup_min": self.generator_setup_min,
            "importance_weights": dict(self.importance_weights),
            "interruption_cost_kwh": self.interruption_cost_kwh,
            "peak_threshold": self.peak_threshold,
            "peak_grades": list(self.peak_grades),
            "repeat_window_days": self.repeat_window_days,
            "repeat_limit": self.repeat_limit,
            "repeat_limit_important": self.repeat_limit_important,
            "capacity_margin": self.capacity_margin,
            "loading_limit_pct": self.loading_limit_pct,
            "voltage_band_pct": self.voltage_band_pct,
            "generator_fleet": [g.to_dict() for g in self.generator_fleet],
            "generator_grades": list(self.generator_grades),
            "solver_time_limit_s": self.solver_time_limit_s,
            "time_limit_s": self.time_limit_s,
            "solver_workers": self.solver_workers,
            "solver_candidates": self.solver_candidates,
            "alternatives": self.alternatives,
        }

    def with_fleet(self, fleet: tuple[Generator, ...]) -> PlanOptions:
        return replace(self, generator_fleet=tuple(fleet))

    def limits(self) -> Limits:
        """The power-flow limits every switching state must respect."""
        pct, band = self.loading_limit_pct, self.voltage_band_pct / 100.0
        return Limits(line_loading_pct=pct, switch_loading_pct=pct, trafo_loading_pct=pct, busbar_loading_pct=pct,
                      v_min_pu=1.0 - band, v_max_pu=1.0 + band)

    def weight(self, grade: str) -> float:
        return float(self.importance_weights.get(grade, self.importance_weights.get("normal", 1.0)))


def _hhmm(v: Any) -> time:
    if isinstance(v, time):
        return v
    if not isinstance(v, str):
        raise ValueError(f"expected 'HH:MM', got {v!r}")
    try:
        h, m = v.strip().split(":")
        return time(int(h), int(m))
    except ValueError as exc:
        raise ValueError(f"expected 'HH:MM', got {v!r}") from exc


def _convert(key: str, v: Any) -> Any:
    ints = {"time_step_min", "sms_lead_min", "horizon_days", "switching_break_min", "generator_setup_min", "solver_workers", "solver_candidates", "alternatives",
            "repeat_window_days", "repeat_limit", "repeat_limit_important"}
    floats = {"notice_lead_days", "interruption_cost_kwh", "peak_threshold", "capacity_margin", "solver_time_limit_s",
              "loading_limit_pct", "voltage_band_pct", "time_limit_s"}
    if key in ints:
        if isinstance(v, bool) or not isinstance(v, int | float) or float(v) != int(v):
            raise ValueError(f"expected an integer, got {v!r}")
        return int(v)
    if key == "time_limit_s" and v is None:
        return None
    if key in floats:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"expected a number, got {v!r}")
        return float(v)
    if key == "working_hours":
        if not isinstance(v, list | tuple) or len(v) != 2:
            raise ValueError("expected [start, end] as 'HH:MM' strings")
        return (_hhmm(v[0]), _hhmm(v[1]))
    if key == "working_days":
        if not isinstance(v, list | tuple) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            raise ValueError("expected a list of ISO weekdays 1..7")
        return tuple(v)
    if key in ("peak_grades", "generator_grades"):
        if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
            raise ValueError("expected a list of importance grades")
        return tuple(v)
    if key == "importance_weights":
        if not isinstance(v, Mapping):
            raise ValueError("expected an object {grade: weight}")
        merged = dict(DEFAULT_WEIGHTS)
        for g, w in v.items():
            if isinstance(w, bool) or not isinstance(w, int | float):
                raise ValueError(f"weight of {g!r} must be a number")
            merged[str(g)] = float(w)
        return merged
    if key == "generator_fleet":
        if isinstance(v, str):
            return load_generators_csv(v)
        if not isinstance(v, list | tuple):
            raise ValueError("expected a list of {id, name, kw, depot_id} or a CSV path")
        return tuple(g if isinstance(g, Generator) else GeneratorRecord.parse(g, what=f"generator #{i + 1}")
                     for i, g in enumerate(v))
    return v


def _check(o: PlanOptions) -> list[str]:
    p: list[str] = []
    if o.time_step_min <= 0 or o.time_step_min % 15:
        p.append(f"time_step_min must be a positive multiple of 15 (load profiles are 15-minute), got {o.time_step_min}")
    ws, we = o.working_hours
    if not (isinstance(ws, time) and isinstance(we, time)) or ws >= we:
        p.append(f"working_hours must be (start, end) with start < end, got {o.working_hours}")
    if not o.working_days or any(d not in range(1, 8) for d in o.working_days):
        p.append(f"working_days must be ISO weekdays 1..7, got {o.working_days}")
    if not (0 <= o.notice_lead_days <= 90):
        p.append(f"notice_lead_days must be within 0..90, got {o.notice_lead_days}")
    if not (0 <= o.sms_lead_min <= 24 * 60):
        p.append(f"sms_lead_min must be within 0..1440, got {o.sms_lead_min}")
    if not (1 <= o.horizon_days <= 400):
        p.append(f"horizon_days must be within 1..400, got {o.horizon_days}")
    if not (0 <= o.switching_break_min <= 60):
        p.append(f"switching_break_min must be within 0..60, got {o.switching_break_min}")
    if not (0 <= o.generator_setup_min <= 24 * 60):
        p.append(f"generator_setup_min must be within 0..1440, got {o.generator_setup_min}")
    for grade, w in o.importance_weights.items():
        if grade not in IMPORTANCE_GRADES:
            p.append(f"importance_weights: unknown grade {grade!r} (grades: {', '.join(IMPORTANCE_GRADES)})")
        elif not (math.isfinite(w) and w >= 0):
            p.append(f"importance_weights[{grade!r}] must be a non-negative number, got {w}")
    if not (math.isfinite(o.interruption_cost_kwh) and o.interruption_cost_kwh >= 0):
        p.append(f"interruption_cost_kwh must be >= 0, got {o.interruption_cost_kwh}")
    if not (0 < o.peak_threshold <= 1):
        p.append(f"peak_threshold must be within (0, 1], got {o.peak_threshold}")
    for name in ("peak_grades", "generator_grades"):
        bad = [g for g in getattr(o, name) if g not in IMPORTANCE_GRADES]
        if bad:
            p.append(f"{name}: unknown grade(s) {bad}")
    if not (1 <= o.repeat_window_days <= 366):
        p.append(f"repeat_window_days must be within 1..366, got {o.repeat_window_days}")
    for name in ("repeat_limit", "repeat_limit_important"):
        if not (0 <= getattr(o, name) <= 100):
            p.append(f"{name} must be within 0..100 (0 = no limit), got {getattr(o, name)}")
    if o.time_limit_s is not None and not (1 <= o.time_limit_s <= 86400):
        p.append(f"time_limit_s must be within 1..86400 seconds (or null: no limit), got {o.time_limit_s}")
    if not (0 <= o.capacity_margin < 1):
        p.append(f"capacity_margin must be within [0, 1), got {o.capacity_margin}")
    if not (10 <= o.loading_limit_pct <= 200):
        p.append(f"loading_limit_pct must be within 10..200, got {o.loading_limit_pct}")
    if not (1 <= o.voltage_band_pct <= 20):
        p.append(f"voltage_band_pct must be within 1..20, got {o.voltage_band_pct}")
    ids = [g.id for g in o.generator_fleet]
    if len(ids) != len(set(ids)):
        p.append("generator_fleet: duplicate generator ids")
    for g in o.generator_fleet:
        if not (math.isfinite(g.kw) and g.kw > 0):
            p.append(f"generator {g.id!r}: kw must be > 0, got {g.kw}")
    if not (0 < o.solver_time_limit_s <= 3600):
        p.append(f"solver_time_limit_s must be within (0, 3600], got {o.solver_time_limit_s}")
    if not (1 <= o.solver_workers <= 64):
        p.append(f"solver_workers must be within 1..64, got {o.solver_workers}")
    if not (1 <= o.solver_candidates <= 2000):
        p.append(f"solver_candidates must be within 1..2000, got {o.solver_candidates}")
    if not (0 <= o.alternatives <= 20):
        p.append(f"alternatives must be within 0..20, got {o.alternatives}")
    return p
