"""Inputs and outputs of crew dispatch: crews, tasks, stops, routes, plans.

All datetimes are timezone-aware. Coordinates are WGS84 ``(lon, lat)``
(GeoJSON order); the ``geo:`` URIs are ``geo:lat,lon`` (RFC 5870).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from routing.errors import RoutingInputError

__all__ = [
    "OBJECTIVES",
    "Crew",
    "CrewRoute",
    "DroppedTask",
    "RoutePlan",
    "Stop",
    "Task",
    "geo_uri",
]

#: ``weighted_restoration``: minimise sum(weight x finish time); ``distance``: metres driven.
OBJECTIVES = ("weighted_restoration", "distance")

#: Codes of :class:`DroppedTask`.
DROP_CODES = {
    "unknown_location": "the location id has no access point on the road network",
    "off_network": "the location is too far from every drivable road",
    "no_skilled_crew": "no crew on shift has every required skill",
    "window_closed": "the time window ends before now or outside every shift",
    "unreachable_in_time": "no skilled crew can arrive within the window and its shift",
    "predecessor_dropped": "a task that must come first is dropped",
    "not_scheduled": "could not be fitted into the crews' shifts within the time limit",
    "no_solution": "the solver found no plan within the time limit",
}

LocationLike = str | tuple[float, float]


def geo_uri(lon: float, lat: float) -> str:
    """RFC 5870 navigation link ``geo:lat,lon`` (6 decimals, about 0.1 m)."""
    return f"geo:{lat:.6f},{lon:.6f}"


def _as_location(value: Any, what: str) -> LocationLike:
    if isinstance(value, str):
        if not value:
            raise RoutingInputError(f"{what}: empty location id")
        return value
    if isinstance(value, Iterable):
        pair = tuple(value)
        if len(pair) == 2:
            try:
                return (float(pair[0]), float(pair[1]))
            except (TypeError, ValueError):
                pass
    raise RoutingInputError(f"{what}: location must be an id or (lon, lat), got {value!r}")


@dataclass(frozen=True)
class Crew:
    """A repair crew.

    ``start`` is a depot / access-point id or the crew's current GPS position
    ``(lon, lat)``; ``end`` is where it must finish (an id or position), or
    ``None`` for an open route that ends at the last stop. ``shift_start`` /
    ``shift_end`` are both aware datetimes (the end must come after the start)
    or both times of day in ``now``'s time zone (the next occurrence that has
    not ended; an end at or before the start runs past midnight, e.g.
    21:00-05:30). ``available_from`` delays the start
    (e.g. finishing a job in progress). ``committed`` lists task ids the crew
    is already driving to / has been promised, in order: a re-plan keeps them
    on this crew in this order, the first one next.
    """

    id: str
    start: LocationLike
    shift_start: datetime | time
    shift_end: datetime | time
    skills: frozenset[str] = frozenset()
    end: LocationLike | None = None
    name: str = ""
    available_from: datetime | None = None
    committed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise RoutingInputError(f"crew id must be a non-empty string, got {self.id!r}")
        object.__setattr__(self, "start", _as_location(self.start, f"crew {self.id} start"))
        if self.end is not None:
            object.__setattr__(self, "end", _as_location(self.end, f"crew {self.id} end"))
        object.__setattr__(self, "skills", frozenset(str(s) for s in self.skills))
        object.__setattr__(self, "committed", tuple(str(t) for t in self.committed))
        for name in ("shift_start", "shift_end"):
            value = getattr(self, name)
            if not isinstance(value, datetime | time):
                raise RoutingInputError(f"crew {self.id}: {name} must be a datetime or time")


@dataclass(frozen=True)
class Task:
    """A job at one place: a switching step, a repair, a generator hook-up.

    ``location`` is an equipment id (its access point) or ``(lon, lat)``.
    ``service_min``: minutes on site. ``skills``: all required. The window
    (aware datetimes, either end optional) bounds the *start* of service.
    ``weight``: importance of finishing early, e.g. customers restored x
    importance factor; the ``weighted_restoration`` objective minimises
    sum(weight x minutes from now to the end of service). ``after``: ids of
    tasks that must be finished before this one starts.
    """

    id: str
    location: LocationLike
    service_min: float = 0.0
    skills: frozenset[str] = frozenset()
    window_start: datetime | None = None
    window_end: datetime | None = None
    weight: float = 1.0
    after: tuple[str, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise RoutingInputError(f"task id must be a non-empty string, got {self.id!r}")
        object.__setattr__(self, "location", _as_location(self.location, f"task {self.id}"))
        object.__setattr__(self, "skills", frozenset(str(s) for s in self.skills))
        object.__setattr__(self, "after", tuple(str(t) for t in self.after))
        for name, lo in (("service_min", 0.0), ("weight", 0.0)):
            value = getattr(self, name)
            try:
                ok = float(value) >= lo and float(value) < float("inf")
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise RoutingInputError(f"task {self.id}: {name} must be a finite number >= 0")
            object.__setattr__(self, name, float(value))


@dataclass(frozen=True)
class Stop:
    """One task on a crew's route with its ETA (all times aware datetimes)."""

    task_id: str
    name: str
    lon: float
    lat: float
    road_lon: float
    road_lat: float
    arrival: datetime
    start: datetime
    departure: datetime
    travel_s: float
    distance_m: float
    weight: float
    committed: bool = False

    @property
    def wait_s(self) -> float:
        return (self.start - self.arrival).total_seconds()

    @property
    def geo_uri(self) -> str:
        return geo_uri(self.lon, self.lat)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "name": self.name,
            "lon": self.lon,
            "lat": self.lat,
            "road_lon": self.road_lon,
            "road_lat": self.road_lat,
            "arrival": self.arrival.isoformat(),
            "start": self.start.isoformat(),
            "departure": self.departure.isoformat(),
            "wait_s": round(self.wait_s, 1),
            "travel_s": round(self.travel_s, 1),
            "distance_m": round(self.distance_m, 1),
            "weight": self.weight,
            "committed": self.committed,
            "geo_uri": self.geo_uri,
        }


@dataclass(frozen=True)
class CrewRoute:
    """A crew's ordered stops, its road path (``(lon, lat)`` coordinates) and totals."""

    crew_id: str
    crew_name: str
    stops: tuple[Stop, ...]
    start_time: datetime
    end_time: datetime
    travel_time_s: float
    distance_m: float
    path: tuple[tuple[float, float], ...]
    start_lonlat: tuple[float, float]
    end_lonlat: tuple[float, float] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "crew_id": self.crew_id,
            "crew_name": self.crew_name,
            "start_time": self.start_time.isoformat(),
            "end_time": self.end_time.isoformat(),
            "travel_time_s": round(self.travel_time_s, 1),
            "distance_m": round(self.distance_m, 1),
            "start": list(self.start_lonlat),
            "end": list(self.end_lonlat) if self.end_lonlat else None,
            "stops": [s.to_dict() for s in self.stops],
            "path": {"type": "LineString", "coordinates": [list(c) for c in self.path]},
        }


@dataclass(frozen=True)
class DroppedTask:
    """A task left out of the plan, with a machine ``code`` and a sentence why."""

    task_id: str
    code: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "code": self.code, "reason": self.reason}


@dataclass
class RoutePlan:
    """The dispatch result.

    ``status``: ``"feasible"`` / ``"optimal"`` (a plan; maybe with drops),
    ``"no_solution"``. ``weighted_customer_minutes`` is sum(weight x minutes
    from ``now`` to the end of service) over served tasks.
    """

    status: str
    objective: str
    now: datetime
    routes: list[CrewRoute]
    dropped: list[DroppedTask]
    weighted_customer_minutes: float
    distance_m: float
    travel_time_s: float
    solve_time_s: float
    engine: str
    warnings: list[str] = field(default_factory=list)

    def route(self, crew_id: str) -> CrewRoute:
        for r in self.routes:
            if r.crew_id == crew_id:
                return r
        raise KeyError(crew_id)

    def stop(self, task_id: str) -> Stop | None:
        for r in self.routes:
            for s in r.stops:
                if s.task_id == task_id:
                    return s
        return None

    def assignment(self) -> dict[str, list[str]]:
        """``{crew_id: [task ids in order]}``."""
        return {r.crew_id: [s.task_id for s in r.stops] for r in self.routes}

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "objective": self.objective,
            "now": self.now.isoformat(),
            "weighted_customer_minutes": round(self.weighted_customer_minutes, 2),
            "distance_m": round(self.distance_m, 1),
            "travel_time_s": round(self.travel_time_s, 1),
            "solve_time_s": round(self.solve_time_s, 3),
            "engine": self.engine,
            "routes": [r.to_dict() for r in self.routes],
            "dropped": [d.to_dict() for d in self.dropped],
            "warnings": list(self.warnings),
        }
