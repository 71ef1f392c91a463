"""Options of fault location and restoration, in one validated dataclass.

Every tunable number of :mod:`planning.faults` lives here, with its unit in
its name: durations in minutes (``_min``) or seconds (``_s``), powers in kW.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from gis import InputError
from gis.powerflow import Limits
from planning.fleet import Generator

IMPORTANCE_GRADES = ("special", "first", "second", "temporary", "normal")

DEFAULT_REPAIR_MIN: dict[str, float] = {
    # lines, by line kind
    "cable": 300.0,  # locate the cable fault, dig, joint, test
    "overhead": 150.0,
    # nodes, by node kind
    "rmu": 240.0,
    "distribution_room": 240.0,
    "pole_transformer": 150.0,
    "junction": 300.0,  # a cable joint
    # switches
    "switch": 180.0,
    "default": 240.0,
}

DEFAULT_IMPORTANCE_WEIGHTS: dict[str, float] = {
    "special": 100.0,
    "first": 50.0,
    "second": 10.0,
    "temporary": 5.0,
    "normal": 1.0,
}


@dataclass(frozen=True)
class FaultOptions:
    """Tunable figures of fault location and restoration (validated on creation).

    Parameters
    ----------
    repair_min
        Estimated repair duration in minutes per equipment kind: line kinds
        (``cable``, ``overhead``), node kinds (``rmu``, ``distribution_room``,
        ``pole_transformer``, ``junction``), ``switch`` and ``default``.
        Missing kinds fall back to :data:`DEFAULT_REPAIR_MIN`.
    remote_switching_s
        Seconds one remote (telecontrol) switching operation takes, confirmation included.
    manual_switching_min
        Minutes one manual switching operation takes once the crew is on site
        (including the drive between neighbouring cabinets).
    crew_arrival_min
        Minutes from the end of remote switching until the first crew is on site,
        used when no ETA is known.
    generator_threshold_min
        Generator rule: trucks are proposed when the estimated repair exceeds this
        many minutes (3 h) and customers (of any grade) stay out.
    generator_setup_min
        Minutes from a truck's arrival at its block until it supplies the block
        (connection, checks); travel comes from ``generator_speed_kmh``.
    importance_weights
        Weight of one interrupted customer per importance grade; used to choose
        which transfer restores most and in the weighted metrics.
    capacity_margin
        Share of feeder capacity kept free when checking a transfer (0.1 = load
        must stay within 90 % of capacity).
    generators
        The generator fleet (see :func:`planning.fleet.load_generators_csv`).
    generators_for_backup_power
        Whether customers with their own backup power also get a truck.
    indicator_error_rate
        Probability that one fault indicator reading is wrong (stuck, missed,
        stale); sets how strongly a contradiction lowers a candidate's score.
    call_probability
        Probability that a customer without supply calls within the analysis window.
    stray_call_probability
        Probability that a customer with supply calls anyway (a wrong report).
    power_flow
        Check every restoration closing with an AC power flow (``gis.powerflow``)
        over the repair window, besides the feeder-head capacity check.
    power_flow_step_min
        Minutes between the times at which a state's power flow is checked
        (from the fault to the expected end of the repair and switching back).
    power_flow_limits
        :class:`gis.powerflow.Limits` (line/switch loading %, voltage band pu); a
        mapping of its fields is accepted (e.g. from ``--options`` JSON).
    generator_speed_kmh
        Average speed (km/h) of a generator truck from its depot, over the
        straight-line distance (no road graph is used).
    """

    repair_min: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_REPAIR_MIN))
    remote_switching_s: float = 60.0
    manual_switching_min: float = 15.0
    crew_arrival_min: float = 30.0
    generator_threshold_min: float = 180.0
    generator_setup_min: float = 60.0
    importance_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_IMPORTANCE_WEIGHTS))
    capacity_margin: float = 0.0
    generators: tuple[Generator, ...] = ()
    generators_for_backup_power: bool = False
    indicator_error_rate: float = 0.05
    call_probability: float = 0.3
    stray_call_probability: float = 0.002
    power_flow: bool = True
    power_flow_step_min: float = 15.0
    power_flow_limits: Limits = field(default_factory=Limits)
    generator_speed_kmh: float = 30.0

    def __post_init__(self) -> None:
        problems: list[str] = []

        def positive(name: str, value: Any, *, zero_ok: bool = False) -> None:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            if not ok or value < 0 or (value == 0 and not zero_ok):
                problems.append(f"{name} must be a {'non-negative' if zero_ok else 'positive'} number, got {value!r}")

        def probability(name: str, value: Any) -> None:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and 0.0 < value < 1.0
            if not ok:
                problems.append(f"{name} must be strictly between 0 and 1, got {value!r}")

        repair = dict(DEFAULT_REPAIR_MIN)
        if not isinstance(self.repair_min, Mapping):
            problems.append("repair_min must be a mapping of equipment kind to minutes")
        else:
            for kind, minutes in self.repair_min.items():
                positive(f"repair_min[{kind!r}]", minutes)
                repair[str(kind)] = minutes
        object.__setattr__(self, "repair_min", repair)
        weights = dict(DEFAULT_IMPORTANCE_WEIGHTS)
        if not isinstance(self.importance_weights, Mapping):
            problems.append("importance_weights must be a mapping of importance grade to weight")
        else:
            for grade, w in self.importance_weights.items():
                if grade not in IMPORTANCE_GRADES:
                    problems.append(f"importance_weights: unknown grade {grade!r} (one of {', '.join(IMPORTANCE_GRADES)})")
                positive(f"importance_weights[{grade!r}]", w)
                weights[str(grade)] = w
        object.__setattr__(self, "importance_weights", weights)
        positive("remote_switching_s", self.remote_switching_s, zero_ok=True)
        positive("manual_switching_min", self.manual_switching_min, zero_ok=True)
        positive("crew_arrival_min", self.crew_arrival_min, zero_ok=True)
        positive("generator_threshold_min", self.generator_threshold_min, zero_ok=True)
        positive("generator_setup_min", self.generator_setup_min, zero_ok=True)
        if not (isinstance(self.capacity_margin, int | float) and 0.0 <= self.capacity_margin < 1.0):
            problems.append(f"capacity_margin must be in [0, 1), got {self.capacity_margin!r}")
        probability("indicator_error_rate", self.indicator_error_rate)
        probability("call_probability", self.call_probability)
        probability("stray_call_probability", self.stray_call_probability)
        if not isinstance(self.power_flow, bool):
            problems.append(f"power_flow must be true or false, got {self.power_flow!r}")
        positive("power_flow_step_min", self.power_flow_step_min)
        positive("generator_speed_kmh", self.generator_speed_kmh)
        limits = self.power_flow_limits
        if isinstance(limits, Mapping):
            try:
                limits = Limits(**dict(limits))
            except (TypeError, InputError) as exc:
                problems.append(f"power_flow_limits: {exc}")
                limits = Limits()
        elif not isinstance(limits, Limits):
            problems.append(f"power_flow_limits must be gis.powerflow.Limits or a mapping, got {type(limits).__name__}")
            limits = Limits()
        object.__setattr__(self, "power_flow_limits", limits)
        gens = tuple(self.generators)
        seen: set[str] = set()
        for g in gens:
            if not isinstance(g, Generator):
                problems.append(f"generators must hold Generator objects, got {type(g).__name__}")
                continue
            if g.id in seen:
                problems.append(f"duplicate generator id {g.id!r}")
            seen.add(g.id)
            positive(f"generator {g.id} kw", g.kw)
        object.__setattr__(self, "generators", gens)
        if problems:
            raise InputError("invalid fault options: " + "; ".join(problems), code="invalid_options", details=problems)

    def repair_minutes(self, kind: str) -> float:
        """Estimated repair duration (minutes) for an equipment kind, ``default`` when unknown."""
        return float(self.repair_min.get(kind, self.repair_min["default"]))

    def weight(self, importance: str) -> float:
        """Weight of one interrupted customer of this importance grade."""
        return float(self.importance_weights.get(importance, self.importance_weights["normal"]))

    def with_(self, **changes: Any) -> FaultOptions:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "generators":
                v = [g.to_dict() for g in v]
            elif isinstance(v, Limits):
                v = v.to_dict()
            elif isinstance(v, Mapping):
                v = dict(v)
            out[f.name] = v
        return out
