"""Crew dispatch: who goes where, in which order, arriving when.

:func:`plan_routes` validates the input, explains every task it cannot serve
(:class:`~routing.model.DroppedTask`), builds the integer model
(:class:`~routing.solver.VrpProblem`) and solves it with OR-Tools, then turns
the routes into stops with ETAs and road geometry.
:func:`greedy_routes` is the nearest-available-crew baseline on the same input.

Times inside are seconds after ``now``; travel times come from
:meth:`routing.roads.RoadNetwork.matrix` (exact, partial edges included).
"""

from __future__ import annotations

import logging
import math
import time as _time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import networkx as nx
import numpy as np

from routing.errors import RoutingInputError, UnknownLocationError
from routing.model import (
    DROP_CODES,
    OBJECTIVES,
    Crew,
    CrewRoute,
    DroppedTask,
    RoutePlan,
    Stop,
    Task,
)
from routing.paths import RoadPath
from routing.roads import RoadNetwork
from routing.snapping import SnappedPoint
from routing.solver import VrpProblem, solve

log = logging.getLogger(__name__)

__all__ = ["greedy_routes", "plan_routes"]

#: Largest completion-weight coefficient in the integer model (weights are scaled to it).
WEIGHT_SCALE = 10_000
#: Longest accepted time limit (s): dispatch answers in minutes, not hours.
MAX_TIME_LIMIT_S = 3600.0


@dataclass
class _Crew:
    crew: Crew
    index: int  # vehicle index
    start: SnappedPoint
    end: SnappedPoint | None
    early_s: float  # may leave at (s after now)
    late_s: float  # must be done by (s after now)


@dataclass
class _Task:
    task: Task
    point: SnappedPoint
    early_s: float
    late_s: float
    service_s: float
    allowed: list[int] = field(default_factory=list)  # vehicle indices
    committed_to: int | None = None


@dataclass
class _Prepared:
    """Validated input and the travel-time matrix between every place involved."""

    now: datetime
    objective: str
    crews: list[_Crew]
    tasks: list[_Task]  # kept tasks (the model's visits, in this order)
    dropped: list[DroppedTask]
    warnings: list[str]
    seconds: np.ndarray  # places x places
    metres: np.ndarray
    horizon_s: float
    preds: dict[int, list[int]]  # kept task index -> kept predecessor indices

    # place indices: tasks 0..T-1, crew starts T..T+V-1, crew ends T+V..
    def start_place(self, v: int) -> int:
        return len(self.tasks) + v

    def end_place(self, v: int) -> int | None:
        if self.crews[v].end is None:
            return None
        return len(self.tasks) + len(self.crews) + v


def _shift(crew: Crew, now: datetime) -> tuple[datetime, datetime]:
    """The crew's shift as aware datetimes.

    Datetimes are taken as given. Times of day are the occurrence that has not
    ended yet: a shift 21:00-05:30 at 03:00 is the one that began yesterday;
    an end at or before the start means the shift runs past midnight.
    """
    start, end = crew.shift_start, crew.shift_end
    for name, value in (("shift_start", start), ("shift_end", end)):
        if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
            raise RoutingInputError(
                f"crew {crew.id} {name} must be timezone-aware, got {value.isoformat()}"
            )
    if isinstance(start, datetime) and isinstance(end, datetime):
        return start, end
    if isinstance(start, datetime) or isinstance(end, datetime):
        raise RoutingInputError(
            f"crew {crew.id}: give shift_start and shift_end both as datetimes or both as times"
        )
    if start == end:
        raise RoutingInputError(f"crew {crew.id}: shift ends when it starts ({start:%H:%M})")
    tz = now.tzinfo
    local = now.astimezone(tz)
    for day in (local.date() - timedelta(days=1), local.date()):
        s = datetime.combine(day, start, tzinfo=tz)
        e = datetime.combine(day + timedelta(days=1 if end <= start else 0), end, tzinfo=tz)
        if e > now:
            return s, e
    raise AssertionError(
        "unreachable: today's shift always ends after yesterday's"
    )  # pragma: no cover


def _rel(t: datetime | None, now: datetime, what: str) -> float | None:
    if t is None:
        return None
    if not isinstance(t, datetime) or t.tzinfo is None or t.utcoffset() is None:
        raise RoutingInputError(f"{what} must be a timezone-aware datetime, got {t!r}")
    return (t - now).total_seconds()


def _check_ids(items: Sequence[Crew] | Sequence[Task], kind: str) -> None:
    seen: set[str] = set()
    dup = sorted({x.id for x in items if x.id in seen or seen.add(x.id)})  # type: ignore[func-returns-value]
    if dup:
        raise RoutingInputError(f"duplicate {kind} ids: {', '.join(dup)}", details={"ids": dup})


def _hhmm(seconds: float, now: datetime) -> str:
    return (now + timedelta(seconds=seconds)).strftime("%H:%M")


def _prepare(
    roads: RoadNetwork,
    crews: Sequence[Crew],
    tasks: Sequence[Task],
    *,
    now: datetime,
    objective: str,
) -> _Prepared:
    """Check the input, explain every task that cannot be served, and build the matrix.

    Steps: input checks, precedence and commitments, the crews on shift, the
    candidate tasks (location, window, skills), one matrix over every place,
    who can make it in time, tasks whose predecessor is dropped, re-indexing.
    """
    crews, tasks = _checked_input(roads, crews, tasks, now=now, objective=objective)
    by_id = {t.id: t for t in tasks}
    dag = _precedence(tasks, by_id)
    committed_by = _commitments(crews, by_id)
    warnings: list[str] = []
    active = _active_crews(roads, crews, now=now, warnings=warnings)
    horizon = max((c.late_s for c in active), default=0.0)
    dropped: list[DroppedTask] = []
    cands = _candidates(roads, tasks, active, committed_by, now=now, horizon=horizon, dropped=dropped)
    secs, metres = _place_matrix(roads, cands, active)
    keep = _in_time(cands, active, secs, dropped=dropped)
    keep = _without_orphans(keep, dag, by_id, committed_by, dropped=dropped)
    # re-index the matrix to kept tasks + crew places
    nt = len(cands)
    where = {id(x): i for i, x in enumerate(cands)}
    sel = [where[id(x)] for x in keep] + list(range(nt, nt + 2 * len(active)))
    secs = secs[np.ix_(sel, sel)] if sel else secs
    metres = metres[np.ix_(sel, sel)] if sel else metres
    pos = {x.task.id: i for i, x in enumerate(keep)}
    preds = {pos[x.task.id]: [pos[a] for a in x.task.after] for x in keep}
    prep = _Prepared(
        now=now,
        objective=objective,
        crews=active,
        tasks=keep,
        dropped=dropped,
        warnings=warnings,
        seconds=secs,
        metres=metres,
        horizon_s=horizon,
        preds=preds,
    )
    _extend_for_committed(prep)
    return prep


def _checked_input(
    roads: RoadNetwork,
    crews: Sequence[Crew],
    tasks: Sequence[Task],
    *,
    now: datetime,
    objective: str,
) -> tuple[list[Crew], list[Task]]:
    """The crews and tasks as lists; RoutingInputError for anything that is not a valid call."""
    if not isinstance(roads, RoadNetwork):
        raise RoutingInputError("roads must be a RoadNetwork (see routing.load_roads)")
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise RoutingInputError(f"now must be a timezone-aware datetime, got {now!r}")
    if objective not in OBJECTIVES:
        raise RoutingInputError(f"unknown objective {objective!r}; expected one of {OBJECTIVES}")
    crews, tasks = list(crews), list(tasks)
    if not crews:
        raise RoutingInputError("no crews: at least one crew is needed to plan routes")
    for c in crews:
        if not isinstance(c, Crew):
            raise RoutingInputError(f"expected Crew objects, got {type(c).__name__}")
    for t in tasks:
        if not isinstance(t, Task):
            raise RoutingInputError(f"expected Task objects, got {type(t).__name__}")
    _check_ids(crews, "crew")
    _check_ids(tasks, "task")
    return crews, tasks


def _precedence(tasks: Sequence[Task], by_id: dict[str, Task]) -> nx.DiGraph:
    """The precedence graph (an edge a -> b: a must be finished before b starts); no cycles."""
    dag = nx.DiGraph()
    dag.add_nodes_from(by_id)
    for t in tasks:
        for a in t.after:
            if a not in by_id:
                raise RoutingInputError(f"task {t.id} must come after unknown task {a!r}")
            if a == t.id:
                raise RoutingInputError(f"task {t.id} cannot come after itself")
            dag.add_edge(a, t.id)
    try:
        cycle = nx.find_cycle(dag)
    except nx.NetworkXNoCycle:
        return dag
    ids = [a for a, _ in cycle]
    raise RoutingInputError(f"precedence cycle: {' -> '.join([*ids, ids[0]])}")


def _commitments(crews: Sequence[Crew], by_id: dict[str, Task]) -> dict[str, str]:
    """``{task id: crew id}`` of the committed stops; each known and on one crew only."""
    committed_by: dict[str, str] = {}
    for c in crews:
        for tid in c.committed:
            if tid not in by_id:
                raise RoutingInputError(f"crew {c.id} is committed to unknown task {tid!r}")
            if tid in committed_by:
                raise RoutingInputError(
                    f"task {tid} is committed to two crews: {committed_by[tid]} and {c.id}"
                )
            committed_by[tid] = c.id
    return committed_by


def _active_crews(
    roads: RoadNetwork, crews: Sequence[Crew], *, now: datetime, warnings: list[str]
) -> list[_Crew]:
    """The crews on shift after ``now`` with their places; the others are warned about."""
    active: list[_Crew] = []
    for c in crews:
        early, late, end_dt = _crew_times(c, now)
        start_pt = roads.locate(c.start)
        end_pt = None if c.end is None else roads.locate(c.end)
        for label, pt in (("start", start_pt), ("end", end_pt)):
            if pt is not None and not roads.on_network(pt):
                warnings.append(
                    f"crew {c.id} {label} is {pt.snap_distance_m:.0f} m from the nearest road"
                )
        if late <= early:
            if c.committed:
                raise RoutingInputError(
                    f"crew {c.id} is off shift but has committed stops {list(c.committed)}"
                )
            warnings.append(f"crew {c.id} is off shift (shift ends {end_dt.isoformat()})")
            continue
        active.append(_Crew(c, len(active), start_pt, end_pt, early, late))
    return active


def _crew_times(crew: Crew, now: datetime) -> tuple[float, float, datetime]:
    """(may leave at, must be done by) in seconds after ``now``, and the shift end."""
    start_dt, end_dt = _shift(crew, now)
    if end_dt <= start_dt:
        raise RoutingInputError(
            f"crew {crew.id}: shift ends ({end_dt.isoformat()}) before it starts "
            f"({start_dt.isoformat()})",
            details={"crew_id": crew.id},
        )
    early = max(0.0, (start_dt - now).total_seconds())
    avail = _rel(crew.available_from, now, f"crew {crew.id} available_from")
    if avail is not None:
        early = max(early, avail)
    return early, (end_dt - now).total_seconds(), end_dt


def _candidates(
    roads: RoadNetwork,
    tasks: Sequence[Task],
    active: list[_Crew],
    committed_by: dict[str, str],
    *,
    now: datetime,
    horizon: float,
    dropped: list[DroppedTask],
) -> list[_Task]:
    """The tasks some crew on shift could serve; the others go to ``dropped`` with a reason."""
    crew_index = {c.crew.id: c.index for c in active}
    cands: list[_Task] = []
    for t in tasks:
        committed_to = crew_index[committed_by[t.id]] if t.id in committed_by else None
        got = _candidate(roads, t, active, committed_to, now=now, horizon=horizon)
        if isinstance(got, DroppedTask):
            dropped.append(got)
        else:
            cands.append(got)
    return cands


def _candidate(
    roads: RoadNetwork,
    t: Task,
    active: list[_Crew],
    committed_to: int | None,
    *,
    now: datetime,
    horizon: float,
) -> _Task | DroppedTask:
    """One task as a visit (place, window, skilled crews), or why it cannot be one."""
    try:
        pt = roads.locate(t.location)
    except UnknownLocationError:
        return DroppedTask(t.id, "unknown_location", f"unknown location id {t.location!r}")
    if not roads.on_network(pt):
        return DroppedTask(
            t.id,
            "off_network",
            f"location is {pt.snap_distance_m:.0f} m from the nearest drivable road "
            f"(limit {roads.max_snap_m:.0f} m)",
        )
    ws = _rel(t.window_start, now, f"task {t.id} window_start")
    we = _rel(t.window_end, now, f"task {t.id} window_end")
    if ws is not None and we is not None and we < ws:
        raise RoutingInputError(f"task {t.id}: time window ends before it starts")
    service = t.service_min * 60.0
    if committed_to is not None:
        return _Task(t, pt, 0.0, horizon, service, allowed=[committed_to], committed_to=committed_to)
    if not active:
        return DroppedTask(t.id, "no_skilled_crew", "no crew is on shift")
    skilled = [c.index for c in active if t.skills <= c.crew.skills]
    if not skilled:
        return DroppedTask(t.id, "no_skilled_crew", _missing_skills(t, active))
    if we is not None and we < 0:
        return DroppedTask(t.id, "window_closed", f"its window closed at {_hhmm(we, now)}")
    early = max(0.0, ws or 0.0)
    late = horizon if we is None else min(we, horizon)
    if late < early:
        return DroppedTask(t.id, "window_closed", "its window lies outside every crew's shift")
    return _Task(t, pt, early, late, service, allowed=skilled)


def _missing_skills(t: Task, active: list[_Crew]) -> str:
    have = set().union(*(c.crew.skills for c in active))
    missing = sorted(t.skills - have)
    if missing:
        return f"no crew on shift has skill(s) {', '.join(missing)}"
    return f"no single crew on shift has all of {', '.join(sorted(t.skills))}"


def _place_matrix(
    roads: RoadNetwork, cands: list[_Task], active: list[_Crew]
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds and metres between every place: the tasks, then crew starts, then crew ends."""
    places = [x.point for x in cands] + [c.start for c in active]
    places += [c.end if c.end is not None else c.start for c in active]
    if not places:
        return np.zeros((0, 0)), np.zeros((0, 0))
    secs, metres = roads.matrix(places, places, with_length=True)  # type: ignore[misc]
    return secs, metres


def _in_time(
    cands: list[_Task], active: list[_Crew], secs: np.ndarray, *, dropped: list[DroppedTask]
) -> list[_Task]:
    """The candidates some skilled crew can reach in their window and finish within its shift.

    Judged for each task alone (ignoring the other tasks); committed stops are kept.
    """
    nt, nv = len(cands), len(active)
    keep: list[_Task] = []
    for i, x in enumerate(cands):
        if x.committed_to is not None:
            keep.append(x)
            continue
        ok = []
        for v in x.allowed:
            cv = active[v]
            begin = max(cv.early_s + secs[nt + v, i], x.early_s)
            back = 0.0 if cv.end is None else secs[i, nt + nv + v]
            if begin <= x.late_s and begin + x.service_s + back <= cv.late_s:
                ok.append(v)
        if not ok:
            dropped.append(DroppedTask(x.task.id, "unreachable_in_time", _UNREACHABLE))
            continue
        x.allowed = ok
        keep.append(x)
    return keep


_UNREACHABLE = "no skilled crew can arrive within the window and finish within its shift"


def _without_orphans(
    keep: list[_Task],
    dag: nx.DiGraph,
    by_id: dict[str, Task],
    committed_by: dict[str, str],
    *,
    dropped: list[DroppedTask],
) -> list[_Task]:
    """Drop a task whose predecessor is dropped (transitively, in topological order)."""
    gone = {d.task_id for d in dropped}
    kept_ids = {x.task.id for x in keep}
    for tid in nx.topological_sort(dag):
        if tid in kept_ids and any(a in gone for a in by_id[tid].after):
            first = next(a for a in by_id[tid].after if a in gone)
            if tid in committed_by:
                raise RoutingInputError(
                    f"committed task {tid} must come after task {first}, which cannot be served"
                )
            dropped.append(
                DroppedTask(tid, "predecessor_dropped", f"task {first} must come first and is dropped")
            )
            gone.add(tid)
            kept_ids.discard(tid)
    return [x for x in keep if x.task.id in kept_ids]


def _extend_for_committed(prep: _Prepared) -> None:
    """Let a crew work past its shift when its committed stops alone need it (with a warning)."""
    index = {x.task.id: i for i, x in enumerate(prep.tasks)}
    for c in prep.crews:
        if not c.crew.committed:
            continue
        t, place = c.early_s, prep.start_place(c.index)
        for tid in c.crew.committed:
            i = index[tid]
            t += prep.seconds[place, i] + prep.tasks[i].service_s
            place = i
        end = prep.end_place(c.index)
        if end is not None:
            t += prep.seconds[place, end]
        if t > c.late_s:
            prep.warnings.append(
                f"crew {c.crew.id} needs until {_hhmm(t, prep.now)} for its committed stops, "
                f"past its shift end {_hhmm(c.late_s, prep.now)}"
            )
            c.late_s = math.ceil(t) + 60.0
            prep.horizon_s = max(prep.horizon_s, c.late_s)


def _problem(prep: _Prepared) -> VrpProblem:
    """The integer model: seconds (rounded up) and metres."""
    nt, nv = len(prep.tasks), len(prep.crews)
    dur, metres = _arcs(prep)
    horizon = int(math.ceil(prep.horizon_s)) + 1
    service = np.zeros(nt + 2 * nv, dtype=np.int64)
    early = np.zeros(nt + 2 * nv, dtype=np.int64)
    late = np.full(nt + 2 * nv, horizon, dtype=np.int64)
    for i, x in enumerate(prep.tasks):
        service[i] = int(math.ceil(x.service_s))
        if x.committed_to is None:
            early[i] = int(math.floor(x.early_s))
            late[i] = int(math.floor(x.late_s))
    cost, penalty, completion = _objective_terms(prep, dur, metres, horizon)
    index = {x.task.id: i for i, x in enumerate(prep.tasks)}
    return VrpProblem(
        duration=dur,
        cost=cost,
        service=service,
        tw_early=early,
        tw_late=late,
        visits=list(range(nt)),
        starts=[nt + v for v in range(nv)],
        ends=[nt + nv + v for v in range(nv)],
        vehicle_early=[int(math.ceil(c.early_s)) for c in prep.crews],
        vehicle_late=[int(math.floor(c.late_s)) for c in prep.crews],
        horizon=horizon,
        penalty=penalty,
        completion_weight=completion,
        allowed={i: list(x.allowed) for i, x in enumerate(prep.tasks) if len(x.allowed) < nv},
        precedence=[(a, b) for b, ps in prep.preds.items() for a in ps],
        committed={
            c.index: [index[t] for t in c.crew.committed] for c in prep.crews if c.crew.committed
        },
    )


def _arcs(prep: _Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Whole seconds (rounded up) and metres between places; arcs into an open end cost nothing.

    (Arcs into a crew's start are never used.)
    """
    nt, nv = len(prep.tasks), len(prep.crews)
    dur = np.ceil(prep.seconds).astype(np.int64)
    metres = np.rint(prep.metres).astype(np.int64)
    for v, c in enumerate(prep.crews):
        if c.end is None:
            dur[:, nt + nv + v] = 0
            metres[:, nt + nv + v] = 0
    return dur, metres


def _objective_terms(
    prep: _Prepared, dur: np.ndarray, metres: np.ndarray, horizon: int
) -> tuple[np.ndarray, dict[int, int], dict[int, int]]:
    """(arc cost, drop penalty per optional visit, completion-time weight per visit).

    Drop penalties exceed any routing cost, so the most tasks are served first.
    """
    nt, nv = len(prep.tasks), len(prep.crews)
    weights = np.array([x.task.weight for x in prep.tasks], dtype=float)
    wmax = float(weights.max()) if nt and weights.max() > 0 else 1.0
    optional = [i for i, x in enumerate(prep.tasks) if x.committed_to is None]
    if prep.objective == "weighted_restoration":
        coef = {i: max(1, round(w / wmax * WEIGHT_SCALE)) for i, w in enumerate(weights) if w > 0}
        big = sum(coef.values()) * horizon + (nt + nv + 1) * int(dur.max(initial=0)) + 1
        return dur.copy(), {i: big + coef.get(i, 0) * horizon for i in optional}, coef
    big = 2 * (nt + nv + 1) * int(metres.max(initial=0)) + 1
    return metres, {i: big + round(weights[i] / wmax * 1000) for i in optional}, {}


def _schedule(prep: _Prepared, routes: list[list[int]]) -> dict[int, tuple[float, float, float]]:
    """Earliest (arrival, start, finish) per served task, precedence across crews included."""
    times: dict[int, tuple[float, float, float]] = {}
    for _ in range(len(prep.tasks) + 2):
        changed = False
        for v, route in enumerate(routes):
            t, place = prep.crews[v].early_s, prep.start_place(v)
            for i in route:
                arrive = t + prep.seconds[place, i]
                ready = max((times[p][2] for p in prep.preds.get(i, []) if p in times), default=0.0)
                begin = max(arrive, ready)
                if prep.tasks[i].committed_to is None:
                    begin = max(begin, prep.tasks[i].early_s)
                new = (arrive, begin, begin + prep.tasks[i].service_s)
                if times.get(i) != new:
                    times[i] = new
                    changed = True
                t, place = new[2], i
        if not changed:
            break
    return times


def _build_plan(
    roads: RoadNetwork,
    prep: _Prepared,
    routes: list[list[int]],
    *,
    status: str,
    engine: str,
    solve_time_s: float,
    unserved_code: str = "not_scheduled",
) -> RoutePlan:
    """The plan of these routes: the earliest schedule, road paths, totals, what was dropped."""
    times = _schedule(prep, routes)
    served = {i for r in routes for i in r}
    dropped = list(prep.dropped)
    for i, x in enumerate(prep.tasks):
        if i not in served:
            dropped.append(DroppedTask(x.task.id, unserved_code, DROP_CODES[unserved_code]))
    warnings = list(prep.warnings)
    paths = iter(roads.paths(_legs(prep, routes)))  # every leg's road path in one batch
    out_routes = [
        _crew_route(prep, v, route, times, paths, warnings) for v, route in enumerate(routes)
    ]
    # weight x minutes from now to the end of service, over every stop
    wcm = sum(prep.tasks[i].task.weight * times[i][2] / 60.0 for route in routes for i in route)
    return RoutePlan(
        status=status,
        objective=prep.objective,
        now=prep.now,
        routes=out_routes,
        dropped=dropped,
        weighted_customer_minutes=wcm,
        distance_m=sum(r.distance_m for r in out_routes),
        travel_time_s=sum(r.travel_time_s for r in out_routes),
        solve_time_s=solve_time_s,
        engine=engine,
        warnings=warnings,
    )


def _legs(prep: _Prepared, routes: list[list[int]]) -> list[tuple[SnappedPoint, SnappedPoint]]:
    """Every leg driven, crew by crew: start -> stops -> end (when the route has one)."""
    legs: list[tuple[SnappedPoint, SnappedPoint]] = []
    for v, route in enumerate(routes):
        c = prep.crews[v]
        pts = [c.start] + [prep.tasks[i].point for i in route]
        if c.end is not None:
            pts.append(c.end)
        legs.extend(zip(pts[:-1], pts[1:], strict=True))
    return legs


def _crew_route(
    prep: _Prepared,
    v: int,
    route: list[int],
    times: dict[int, tuple[float, float, float]],
    paths: Iterator[RoadPath],
    warnings: list[str],
) -> CrewRoute:
    """Crew ``v``'s route with its stops, taking its legs' paths from ``paths`` in order."""
    c = prep.crews[v]
    coords: list[tuple[float, float]] = []
    stops: list[Stop] = []
    travel = dist = 0.0
    for i in route:
        leg = next(paths)
        coords.extend(leg.coords)
        travel += leg.travel_time_s
        dist += leg.length_m
        x = prep.tasks[i]
        if x.committed_to is None and times[i][1] > x.late_s + 1.0:
            warnings.append(f"task {x.task.id} starts after its window")
        stops.append(_stop(prep, x, times[i], leg))
    end_time = times[route[-1]][2] if route else c.early_s
    if c.end is not None:
        leg = next(paths)
        coords.extend(leg.coords)
        travel += leg.travel_time_s
        dist += leg.length_m
        end_time += leg.travel_time_s
    return CrewRoute(
        crew_id=c.crew.id,
        crew_name=c.crew.name or c.crew.id,
        stops=tuple(stops),
        start_time=prep.now + timedelta(seconds=c.early_s),
        end_time=prep.now + timedelta(seconds=end_time),
        travel_time_s=travel,
        distance_m=dist,
        path=tuple(p for k, p in enumerate(coords) if k == 0 or coords[k - 1] != p),
        start_lonlat=(c.start.lon, c.start.lat),
        end_lonlat=None if c.end is None else (c.end.lon, c.end.lat),
    )


def _stop(
    prep: _Prepared, x: _Task, at: tuple[float, float, float], leg: RoadPath
) -> Stop:
    """A stop of task ``x`` with its (arrival, start, finish) seconds after now and its leg."""
    arrive, begin, finish = at
    return Stop(
        task_id=x.task.id,
        name=x.task.name or x.point.name or x.task.id,
        lon=x.point.lon,
        lat=x.point.lat,
        road_lon=x.point.road_lon,
        road_lat=x.point.road_lat,
        arrival=prep.now + timedelta(seconds=arrive),
        start=prep.now + timedelta(seconds=begin),
        departure=prep.now + timedelta(seconds=finish),
        travel_s=leg.travel_time_s,
        distance_m=leg.length_m,
        weight=x.task.weight,
        committed=x.committed_to is not None,
    )


def _check_time_limit(time_limit_s: float) -> float:
    try:
        value = float(time_limit_s)
    except (TypeError, ValueError):
        raise RoutingInputError(
            f"time limit must be a number of seconds, got {time_limit_s!r}"
        ) from None
    if not value > 0 or not math.isfinite(value):
        raise RoutingInputError(f"time limit must be > 0 seconds, got {time_limit_s!r}")
    if value > MAX_TIME_LIMIT_S:
        raise RoutingInputError(
            f"time limit {value:g} s is above the maximum of {MAX_TIME_LIMIT_S:g} s"
        )
    return value


def plan_routes(
    roads: RoadNetwork,
    crews: Sequence[Crew],
    tasks: Sequence[Task],
    *,
    now: datetime,
    objective: str = "weighted_restoration",
    time_limit_s: float = 10.0,
) -> RoutePlan:
    """Plan crew routes on real roads with OR-Tools.

    Parameters
    ----------
    roads
        The road network (:func:`routing.load_roads`).
    crews, tasks
        :class:`~routing.model.Crew` and :class:`~routing.model.Task` objects;
        ids must be unique. Crews' ``committed`` stops are kept on that crew in
        that order (re-plan); new tasks are inserted around them.
    now
        Timezone-aware "now"; no crew leaves before it.
    objective
        ``"weighted_restoration"`` minimises sum(weight x finish time of the
        task's service); ``"distance"`` minimises metres driven. Either way
        the plan first serves as many tasks as it can.
    time_limit_s
        Wall-clock budget of the solver, seconds (0 < limit <= 3600).

    Returns
    -------
    RoutePlan
        Per crew the ordered stops with ETAs (arrival, start and end of
        service), the road path (WGS84) and totals; dropped tasks with codes
        and reasons; the solver status.

    Raises
    ------
    RoutingInputError
        Zero crews, duplicate ids, a shift that ends before it starts, a time
        limit <= 0, naive datetimes, unknown or cyclic precedence, committed
        stops that cannot be kept.
    UnknownLocationError
        A crew's start or end id has no access point.
    """
    limit = _check_time_limit(time_limit_s)
    t0 = _time.monotonic()
    prep = _prepare(roads, crews, tasks, now=now, objective=objective)
    if not prep.crews or not prep.tasks:
        return _build_plan(
            roads,
            prep,
            [[] for _ in prep.crews],
            status="feasible" if prep.crews else "no_solution",
            engine="none",
            solve_time_s=_time.monotonic() - t0,
        )
    problem = _problem(prep)
    left = max(0.1, limit - (_time.monotonic() - t0))
    first = "parallel_cheapest_insertion" if problem.precedence or problem.committed else None
    sol = solve(problem, time_limit_s=left, engine="ortools", first_solution=first)
    if not sol.found:
        return _build_plan(
            roads,
            prep,
            [[] for _ in prep.crews],
            status="no_solution",
            engine=sol.engine,
            solve_time_s=_time.monotonic() - t0,
            unserved_code="no_solution",
        )
    return _build_plan(
        roads,
        prep,
        sol.routes,
        status=sol.status,
        engine=sol.engine,
        solve_time_s=_time.monotonic() - t0,
    )


def _earliest_arrival(
    prep: _Prepared,
    open_tasks: set[int],
    *,
    clock: list[float],
    place: list[int],
    finish: dict[int, float],
) -> tuple[float, float, int, int] | None:
    """The (arrival, start, crew, task) with the earliest arrival any free crew can make next.

    Only tasks whose predecessors are finished, within their window and the
    crew's shift (including the drive back to its end); None when there is none.
    """
    best: tuple[float, float, int, int] | None = None
    for i in open_tasks:
        preds = prep.preds.get(i, [])
        if any(p not in finish for p in preds):
            continue
        ready = max((finish[p] for p in preds), default=0.0)
        x = prep.tasks[i]
        for v in x.allowed:
            arrive = clock[v] + prep.seconds[place[v], i]
            begin = max(arrive, x.early_s, ready)
            end = prep.end_place(v)
            back = 0.0 if end is None else prep.seconds[i, end]
            if begin > x.late_s or begin + x.service_s + back > prep.crews[v].late_s:
                continue
            cand = (arrive, begin, v, i)
            if best is None or cand < best:
                best = cand
    return best


def greedy_routes(
    roads: RoadNetwork,
    crews: Sequence[Crew],
    tasks: Sequence[Task],
    *,
    now: datetime,
) -> RoutePlan:
    """Nearest-available-crew baseline, blind to weights.

    Repeatedly gives the task that some crew can reach first to that crew
    (earliest arrival over all free crews and open tasks, honouring skills,
    windows, shifts, precedence and committed stops), as a dispatcher without
    a planner would. Same input and output as :func:`plan_routes`.
    """
    t0 = _time.monotonic()
    prep = _prepare(roads, crews, tasks, now=now, objective="weighted_restoration")
    nv = len(prep.crews)
    routes: list[list[int]] = [[] for _ in range(nv)]
    clock = [c.early_s for c in prep.crews]
    place = [prep.start_place(v) for v in range(nv)]
    finish: dict[int, float] = {}

    def visit(v: int, i: int, begin: float) -> None:
        routes[v].append(i)
        finish[i] = begin + prep.tasks[i].service_s
        clock[v] = finish[i]
        place[v] = i

    index = {x.task.id: i for i, x in enumerate(prep.tasks)}
    for c in prep.crews:  # committed stops first, as promised
        for tid in c.crew.committed:
            i = index[tid]
            arrive = clock[c.index] + prep.seconds[place[c.index], i]
            ready = max((finish.get(p, 0.0) for p in prep.preds.get(i, [])), default=0.0)
            visit(c.index, i, max(arrive, ready))
    open_tasks = {i for i in range(len(prep.tasks)) if i not in finish}
    while open_tasks:
        best = _earliest_arrival(prep, open_tasks, clock=clock, place=place, finish=finish)
        if best is None:
            break
        _, begin, v, i = best
        visit(v, i, begin)
        open_tasks.discard(i)
    return _build_plan(
        roads,
        prep,
        routes,
        status="feasible",
        engine="greedy",
        solve_time_s=_time.monotonic() - t0,
    )
