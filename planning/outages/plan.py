"""``plan_outages``: jobs in, a validated outage plan with metrics against the naive baseline out.

Pipeline (the seeds' "five musts"):

1. check every job (per-job :class:`JobError`, the rest still plans) and find
   its zone (``grid.isolate``);
2. candidate windows of each job (:mod:`planning.outages.windows`);
3. merge (能合必合) jobs whose zones overlap and that share a feasible window,
   unless the union de-energises more customer-minutes than apart;
4. schedule all outages at once with CP-SAT (:mod:`planning.outages.cpsat`);
   a merged outage that cannot be placed is split back into its jobs;
5. per outage: transfers at the chosen start, switching plan validated step by
   step (fail closed), generator trucks from the fleet, notices, impact;
6. metrics for the plan and the baseline (each job alone at its earliest
   feasible start, no transfer, no generator).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from gis import Grid, InputError, OutageError
from planning.outages import cpsat
from planning.outages.fixed import FixedOutage, check_fixed
from planning.outages.jobs import Job, JobError, timing_problem, window_problem
from planning.outages.notices import build_notice
from planning.outages.options import IMPORTANCE_GRADES, PlanOptions
from planning.outages.switching import Step, Validator, build_steps
from planning.outages.timeline import SLOT_MIN, Timeline
from planning.outages.windows import Candidates, evaluate, generator_cover, start_range
from planning.outages.zones import Block, TransferOption, Zone, build_zone
from planning.reliability import Interruption, check_interruptions

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
METRIC_KEYS = ("outages", "jobs", "ci", "cmi", "ens_kwh", "peak_hits", "generator_hours")


@dataclass
class Group:
    """Jobs done in one outage (before scheduling)."""

    jobs: list[Job]
    zone: Zone
    cand: Candidates
    duration_min: int
    earliest: datetime
    latest: datetime
    night_work: bool
    comparisons: list[dict[str, Any]] = field(default_factory=list)

    @property
    def best_cm(self) -> float:
        return float(self.cand.customer_minutes[self.cand.best()]) if len(self.cand) else float("inf")


@dataclass
class Outage:
    """One planned outage (see :meth:`Plan.to_json` for the JSON shape)."""

    id: str
    jobs: list[str]
    start: datetime
    end: datetime
    steps: list[Step]
    valid: bool
    problems: list[str]
    transfers: list[dict[str, Any]]
    generators: list[dict[str, Any]]
    unmet_generator_needs: list[dict[str, Any]]
    customers: list[str]
    notices: dict[str, Any]
    window: dict[str, Any]
    merge: list[dict[str, Any]]
    zone: dict[str, Any]
    impact: dict[str, Any]
    power_flow: dict[str, Any] = field(default_factory=dict)
    repeat_over_limit: list[dict[str, Any]] = field(default_factory=list)
    # working arrays (customer indices of the run's Timeline); not serialised
    dark: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    short_break: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    on_generator: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    slots: tuple[int, int] = (0, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "jobs": self.jobs,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            # fail closed: a plan that broke a rule is never handed out as steps to follow
            "switching_steps": [s.to_dict() for s in self.steps] if self.valid else [],
            "valid": self.valid,
            "transfers": self.transfers,
            "generators": self.generators,
            "customers": self.customers,
            "problems": self.problems,
            "unmet_generator_needs": self.unmet_generator_needs,
            "duration_min": int(round((self.end - self.start).total_seconds() / 60)),
            "zone": self.zone,
            "window": self.window,
            "merge": self.merge,
            "notices": self.notices,
            "impact": self.impact,
            "power_flow": self.power_flow,
            "repeat_over_limit": self.repeat_over_limit,
        }


@dataclass
class Plan:
    """The result of :func:`plan_outages`; :meth:`to_json` is the stable contract (docs/planning.md)."""

    outages: list[Outage]
    errors: list[JobError]
    metrics: dict[str, dict[str, Any]]
    solver: dict[str, Any]
    now: datetime
    timezone: str
    options: PlanOptions
    baseline: list[dict[str, Any]]
    wall_s: float = 0.0
    timings_s: dict[str, float] = field(default_factory=dict)
    fixed: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (only str/int/float/bool/None/list/dict; datetimes ISO 8601 with offset)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "now": self.now.isoformat(),
            "timezone": self.timezone,
            "outages": [o.to_json() for o in self.outages],
            "fixed": self.fixed,
            "errors": [e.to_dict() for e in self.errors],
            "metrics": self.metrics,
            "solver": self.solver,
            "baseline": self.baseline,
            "options": self.options.to_dict(),
            "wall_s": round(self.wall_s, 3),
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
        }


# ---------------------------------------------------------------------------


def plan_outages(
    grid: Grid,
    jobs: Iterable[Job],
    *,
    now: datetime,
    options: PlanOptions | Mapping[str, Any] | None = None,
    input_errors: Sequence[JobError] = (),
    history: Iterable[Interruption] = (),
    fixed: Iterable[FixedOutage] = (),
) -> Plan:
    """Plan the outages for ``jobs`` on ``grid`` (see module doc).

    ``now`` is aware; nothing starts before ``now`` + notice lead. ``options`` is a
    :class:`PlanOptions` or a JSON-like dict for :meth:`PlanOptions.from_dict`.
    ``input_errors`` (e.g. bad CSV rows from :func:`load_jobs_csv`) are carried
    into ``Plan.errors``. Bad jobs never raise: each gets a :class:`JobError`.
    ``history``: executed interruptions for the repeated-interruption rule
    (:mod:`planning.outages.repeats`); a row that cannot be used is a ``bad_history`` error.
    ``fixed``: published outages that keep their windows (:mod:`planning.outages.fixed`): new
    jobs join them where nothing changes for their customers, else are planned around them.
    """
    t0 = time.perf_counter()
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise InputError("now must be a timezone-aware datetime", code="naive_datetime")
    if isinstance(options, Mapping):
        options = PlanOptions.from_dict(options)
    options = options or PlanOptions()
    jobs = list(jobs)
    errors: list[JobError] = list(input_errors)
    timings: dict[str, float] = {}
    tick = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal tick
        t = time.perf_counter()
        timings[name] = t - tick
        tick = t

    kept, refused = check_fixed(grid, fixed)
    errors += [JobError(None, "bad_fixed_outage", f"fixed outage {fid} is left out: {why}") for fid, why in refused]
    published = [Interruption(f.id, "planned", f.start, f.end, f.customers) for f in kept]
    usable, unusable = check_interruptions(grid, [*history, *published])
    errors += [JobError(None, "bad_history", f"history event {p.record}: {p.message}") for p in unusable]
    tl = Timeline(grid, options, now, tuple(usable), tuple(kept))
    lap("timeline")
    if not jobs:
        errors.append(JobError(None, "no_jobs", "the job list is empty: nothing to plan"))
    checked = _check_jobs(tl, jobs, now, errors)
    checked, joined = _join_fixed(tl, checked)
    log.info("%d of %d jobs pass the checks", len(checked), len(jobs))
    lap("zones")
    baseline_rows = [_baseline(tl, job, zone, now) for job, zone in checked]
    lap("baseline")
    singles: list[Group] = []
    for job, zone in checked:
        g = _group(tl, [job], zone, now)
        if len(g.cand) == 0:
            errors.append(_no_window_error(tl, job, zone, g.cand, now))
            continue
        singles.append(g)
    lap("windows")
    budget = Budget(t0, options)
    groups, unmerged = _merge(tl, singles, now, stop_at=budget.merge_until())
    lap("merge")
    groups.sort(key=lambda g: (g.cand.starts.min(), g.jobs[0].id))
    tasks = [_task(g) for g in groups]
    sched = cpsat.solve(
        tasks,
        fleet_size=len(options.generator_fleet),
        time_limit_s=budget.solver_s(),
        workers=options.solver_workers,
        max_candidates=options.solver_candidates,
    )
    groups, tasks, sched, split = _split_unscheduled(groups, tasks, sched, singles, len(options.generator_fleet),
                                                     deadline=budget.repair_until())
    lap("schedule")
    placed = [(g, j) for g, j in zip(groups, sched.choice, strict=True) if j is not None]
    errors += _not_scheduled(groups, tasks, sched.choice, len(options.generator_fleet))
    placed.sort(key=lambda gj: (int(gj[0].cand.starts[gj[1]]), gj[0].jobs[0].id))
    validator = Validator(tl)
    outages = [_realise(tl, validator, f"OUT-{i + 1:03d}", g, j, now) for i, (g, j) in enumerate(placed)]
    lap("switching")
    _assign_generators(tl, outages, placed)
    for o, (g, j) in zip(outages, placed, strict=True):
        _finish(tl, o, g, j)
    _explain_windows(tl, outages, placed, tasks, groups, sched)
    planned = {jid for o in outages for jid in o.jobs}
    metrics = {
        "plan": _metrics_plan(outages, len(planned)),
        "baseline": _metrics_baseline(baseline_rows),
        "baseline_planned_jobs": _metrics_baseline([r for r in baseline_rows if r["job"] in planned]),
        "repeat_interruptions": tl.repeats.report(tl, [(np.setdiff1d(o.dark, o.on_generator), o.slots[0]) for o in outages]),
    }
    lap("generators_notices_metrics")
    solver = {
        "status": sched.status,
        "objective_weighted_kwh": sched.objective,
        "best_bound_weighted_kwh": sched.best_bound,
        "gap": sched.gap,
        "wall_s": sched.wall_s,
        "outages_considered": len(groups),
        "unscheduled": sched.unscheduled,
        "unscheduled_greedy": sched.greedy_unscheduled,
        "split_after_solve": split,
        "unscheduled_proven_minimal": sched.placement_proven,
        "time_limit_s": options.solver_time_limit_s,
        "plan_time_limit_s": options.time_limit_s,
        "jobs_not_merged_for_time": unmerged,
    }
    plan = Plan(outages, errors, metrics, solver, now, grid.timezone.key, options, baseline_rows, timings_s=timings,
                fixed=[{"id": f.id, "start": f.start.isoformat(), "end": f.end.isoformat(), "joined_jobs": joined.get(f.id, [])}
                       for f in kept])
    plan.wall_s = time.perf_counter() - t0
    return plan


MERGE_SHARE, SOLVER_SHARE, REPAIR_SHARE = 0.3, 0.7, 0.75  # of PlanOptions.time_limit_s, from the start


@dataclass(frozen=True)
class Budget:
    """The whole plan's time limit (``PlanOptions.time_limit_s``; None: stages unbounded) shared by
    the stages that can stop early: merging until 30 % of it has passed, the solver until 70 %
    (never longer than ``solver_time_limit_s``), repairs until 75 %; the rest is kept for the
    switching plans, trucks, notices and metrics, which every placed outage needs."""

    t0: float  # time.perf_counter() at the start of the plan
    options: PlanOptions

    def _at(self, share: float) -> float | None:
        limit = self.options.time_limit_s
        return None if limit is None else self.t0 + share * limit

    def merge_until(self) -> float | None:
        return self._at(MERGE_SHARE)

    def repair_until(self) -> float | None:
        return self._at(REPAIR_SHARE)

    def solver_s(self) -> float:
        end = self._at(SOLVER_SHARE)
        cap = self.options.solver_time_limit_s
        return cap if end is None else max(1.0, min(cap, end - time.perf_counter()))


def _not_scheduled(groups: list[Group], tasks: list[cpsat.Task], choice: list[int | None], fleet_size: int) -> list[JobError]:
    """One error per job of an outage left out, naming what its starts collide with."""
    out: list[JobError] = []
    for i, (g, j) in enumerate(zip(groups, choice, strict=True)):
        if j is not None:
            continue
        hits = cpsat.collisions(tasks, choice, fleet_size, i)
        top = sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        n = len(tasks[i].starts)
        why = "; ".join(f"{_resource_name(r)} at {k} of its {n} start(s)" for r, k in top) or "the other outages"
        ids = ", ".join(x.id for x in g.jobs)
        out += [JobError(job.id, "not_scheduled", f"no start left for outage of {ids}: its starts collide with other outages on {why}")
                for job in g.jobs]
    return out


def _resource_name(resource: str) -> str:
    if resource == "generators":
        return "the generator trucks (all in use)"
    kind, _, name = resource.partition(":")
    return f"{kind} {name}"


# -- checks -------------------------------------------------------------------


def _check_jobs(tl: Timeline, jobs: list[Job], now: datetime, errors: list[JobError]) -> list[tuple[Job, Zone]]:
    o = tl.options
    seen: set[str] = set()
    out: list[tuple[Job, Zone]] = []
    zones: dict[tuple[str, ...], Zone | OutageError] = {}
    for job in jobs:
        if not isinstance(job, Job):
            errors.append(JobError(None, "bad_job", f"not a Job: {job!r}"[:200]))
            continue
        if job.id in seen:
            errors.append(JobError(job.id, "duplicate_id", f"job id {job.id} appears more than once; only the first is planned"))
            continue
        seen.add(job.id)
        err = _static_problem(tl, job, now)
        if err is not None:
            errors.append(JobError(job.id, err[0], err[1]))
            continue
        key = tuple(job.equipment)
        z = zones.get(key)
        if z is None:
            try:
                z = build_zone(tl, job.equipment)
            except OutageError as exc:
                z = exc
            zones[key] = z
        if isinstance(z, OutageError):
            code = z.code
            msg = z.message
            if code == "source_equipment":
                msg = f"{msg} (the zone would contain a substation busbar; plan it with the substation outage)"
            errors.append(JobError(job.id, code, msg))
            continue
        if not z.isolation.switches:
            errors.append(JobError(job.id, "cannot_isolate", f"no switch can isolate {', '.join(job.equipment)}"))
            continue
        out.append((job, z))
    del o
    return out


def _static_problem(tl: Timeline, job: Job, now: datetime) -> tuple[str, str] | None:
    o = tl.options
    if not job.id.strip():
        return "missing_id", "job has no id"
    if not job.equipment:
        return "no_equipment", "job names no equipment"
    for name in ("earliest", "latest"):
        v = getattr(job, name)
        if not isinstance(v, datetime) or v.tzinfo is None or v.utcoffset() is None:
            return "naive_datetime", f"{name} must be a timezone-aware datetime, got {v!r}"
    if isinstance(job.duration_min, bool) or not isinstance(job.duration_min, int | np.integer) or job.duration_min <= 0:
        return "bad_duration", f"duration_min must be a positive whole number of minutes, got {job.duration_min!r}"
    window = window_problem(job.earliest, job.latest, job.duration_min)
    if window is not None:
        return window[0], window[1]
    timing = timing_problem(job.earliest, job.latest, job.duration_min, now=now, notice_lead_days=o.notice_lead_days)
    if timing is not None:
        return timing[0], timing[1]
    if job.earliest > now + timedelta(days=o.horizon_days):
        return "beyond_horizon", f"earliest ({job.earliest.isoformat()}) is beyond the planning horizon of {o.horizon_days} days"
    if job.duration_min > (o.horizon_days + 1) * 1440:
        return "bad_duration", "duration is longer than the planning horizon"
    return None


def _no_window_error(tl: Timeline, job: Job, zone: Zone, cand: Candidates, now: datetime) -> JobError:
    d = cand.dropped
    if d.get("peak_hours"):
        who = sorted({str(tl.cust_ids[c]) for c in zone.all_customers[tl.peak_graded[zone.all_customers]]})
        hint = ""
        if not job.night_work:
            night = evaluate(tl, zone, duration_min=job.duration_min, earliest=job.earliest, latest=job.latest, night_work=True, now=now)
            if len(night):
                hint = f"; with night work allowed it could start {tl.time_of(int(night.starts[night.best()])).isoformat()}"
        return JobError(
            job.id,
            "peak_hours_conflict",
            f"every start in the window overlaps the peak hours of important customer(s) {', '.join(who[:5])} who would lose supply "
            f"({d['peak_hours']} start(s) rejected){hint}; otherwise widen the window or arrange supply",
        )
    if d.get("outside_working_hours"):
        return JobError(job.id, "no_working_window", f"no start fits {job.duration_min} min inside working hours in the window; allow night work or widen the window")
    return JobError(job.id, "no_feasible_window", "no start on the time step fits the window, notice lead and horizon")


# -- groups and merging ---------------------------------------------------------


def _join_fixed(tl: Timeline, checked: list[tuple[Job, Zone]]) -> tuple[list[tuple[Job, Zone]], dict[str, list[str]]]:
    """Jobs that join a fixed outage without changing its dark customers or its window (same
    isolating switches with the job's equipment added, a crew of its own, the work inside the
    window); the rest go on to be planned."""
    fixed = tl.fixed_set.outages
    if not fixed:
        return checked, {}
    zones: dict[str, Zone | None] = {}
    joined: dict[str, list[str]] = {}
    rest: list[tuple[Job, Zone]] = []
    published = {j for f in fixed for j in f.jobs}
    for job, zone in checked:
        if job.id in published:  # already done by a published outage
            continue
        target = next((f for f in fixed if _fits_inside(tl, job, f, zones)), None)
        if target is None:
            rest.append((job, zone))
        else:
            joined.setdefault(target.id, []).append(job.id)
    return rest, joined


def _fits_inside(tl: Timeline, job: Job, f: FixedOutage, zones: dict[str, Zone | None]) -> bool:
    if (job.crew and job.crew in f.crews) or max(job.earliest, f.start) + timedelta(minutes=job.duration_min) > min(job.latest, f.end):
        return False
    try:
        if f.id not in zones:
            zones[f.id] = build_zone(tl, list(f.equipment))
        both = build_zone(tl, sorted({*f.equipment, *job.equipment}))
    except OutageError:
        zones.setdefault(f.id, None)
        return False
    own = zones[f.id]
    return own is not None and set(both.isolation.switches) == set(own.isolation.switches)



def _merged_duration(jobs: Sequence[Job]) -> int:
    by_crew: dict[str, int] = {}
    solo = 0
    for j in jobs:
        if j.crew:
            by_crew[j.crew] = by_crew.get(j.crew, 0) + j.duration_min
        else:
            solo = max(solo, j.duration_min)
    return max([solo, *by_crew.values()])


def _group(tl: Timeline, jobs: list[Job], zone: Zone, now: datetime, *, flows: bool = True) -> Group:
    dur = _merged_duration(jobs)
    earliest = max(j.earliest for j in jobs)
    latest = min(j.latest for j in jobs)
    night = all(j.night_work for j in jobs)
    cand = evaluate(tl, zone, duration_min=dur, earliest=earliest, latest=latest, night_work=night, now=now, flows=flows)
    g = Group(jobs, zone, cand, dur, earliest, latest, night)
    if tl.fixed_set and len(cand):
        task = _task(g)
        held = [task.resources_at(j) for j in range(len(cand))]
        g.cand = cand.subset(~tl.fixed_set.blocked(cand.starts, dur / SLOT_MIN, held), reason="fixed_outages")
    return g


def _merge(tl: Timeline, singles: list[Group], now: datetime, *, stop_at: float | None = None) -> tuple[list[Group], int]:
    """能合必合: greedily fold each job into the overlapping group that saves the most customer-minutes.

    Merges are screened with the transfers' head check only; the best screened merge is then
    evaluated in full (power flow included) and taken if it still saves, else the next one.
    Anytime: from ``stop_at`` (``time.perf_counter``) on, the remaining jobs stay on their own
    (returned: the groups and how many jobs were not tried for lack of time)."""
    groups: dict[int, Group] = {}
    node_index: dict[str, set[int]] = {}
    zone_cache: dict[frozenset[str], Zone | None] = {}
    next_id = unmerged = 0
    for single in sorted(singles, key=lambda g: (g.earliest, g.jobs[0].id)):
        if stop_at is not None and time.perf_counter() > stop_at:
            groups[next_id] = single
            next_id += 1
            unmerged += 1
            continue
        job = single.jobs[0]
        near = set().union(*(node_index.get(n, set()) for n in single.zone.isolation.nodes)) if single.zone.isolation.nodes else set()
        screened: list[tuple[float, int, Group, dict[str, Any]]] = []
        rejected: list[tuple[int, dict[str, Any]]] = []
        for gid in sorted(near):
            g = groups[gid]
            ids = [j.id for j in g.jobs] + [job.id]
            earliest = max(g.earliest, single.earliest)
            latest = min(g.latest, single.latest)
            apart = g.best_cm + single.best_cm
            cmp: dict[str, Any] = {"jobs": ids, "apart_customer_minutes": round(apart, 1)}
            dur = _merged_duration([*g.jobs, job])
            if latest - earliest < timedelta(minutes=dur):
                cmp.update(decision="kept_apart", reason="the job windows share no slot long enough for the merged work")
                rejected.append((gid, cmp))
                continue
            eq = frozenset(e for j in [*g.jobs, job] for e in j.equipment)
            zone = zone_cache.get(eq)
            if eq not in zone_cache:
                try:
                    zone = build_zone(tl, sorted(eq))
                except OutageError:
                    zone = None
                zone_cache[eq] = zone
            if zone is None:
                cmp.update(decision="kept_apart", reason="the union of the zones cannot be isolated")
                rejected.append((gid, cmp))
                continue
            merged = _group(tl, [*g.jobs, job], zone, now, flows=False)
            if len(merged.cand) == 0:
                cmp.update(decision="kept_apart", reason="no common start fits working hours, notice and peak hours")
                rejected.append((gid, cmp))
                continue
            together = merged.best_cm
            cmp["merged_customer_minutes"] = round(together, 1)
            if together > apart + 1e-6:
                cmp.update(decision="kept_apart", reason="merging would de-energise more customer-minutes than doing them apart")
                rejected.append((gid, cmp))
                continue
            screened.append((apart - together, gid, merged, cmp))
        best = _confirm_merge(tl, screened, groups, job, now, rejected)
        if best is None:
            gid = next_id
            next_id += 1
            single.comparisons = [c for _, c in rejected]
            groups[gid] = single
        else:
            _, gid, merged, cmp = best
            merged.comparisons = groups[gid].comparisons + [cmp] + [c for _, c in rejected]
            groups[gid] = merged
        for n in groups[gid].zone.isolation.nodes:
            node_index.setdefault(n, set()).add(gid)
    return list(groups.values()), unmerged


def _confirm_merge(tl: Timeline, screened: list[tuple[float, int, Group, dict[str, Any]]], groups: dict[int, Group],
                   job: Job, now: datetime, rejected: list[tuple[int, dict[str, Any]]]) -> tuple[float, int, Group, dict[str, Any]] | None:
    """The screened merge with the largest saving that still saves with the power flow checked."""
    for _, gid, merged, cmp in sorted(screened, key=lambda x: (-x[0], x[1])):
        full = _group(tl, merged.jobs, merged.zone, now)
        apart = cmp["apart_customer_minutes"]
        if len(full.cand) == 0 or full.best_cm > apart + 1e-6:
            cmp.update(decision="kept_apart", reason="with the power flow of its transfers checked, merging would not save customer-minutes")
            if len(full.cand):
                cmp["merged_customer_minutes"] = round(full.best_cm, 1)
            rejected.append((gid, cmp))
            continue
        cmp["merged_customer_minutes"] = round(full.best_cm, 1)
        n_before = len(groups[gid].jobs)
        cmp.update(decision="merged", reason=f"saves {apart - full.best_cm:.0f} customer-minutes and {n_before} outage(s) of the same customers")
        others = [(g, c) for _, g, _, c in screened if c is not cmp and c.get("decision") is None]
        rejected.extend(others)
        for _, c in others:
                c.update(decision="kept_apart", reason=f"merging with outage of {', '.join(j.id for j in groups[gid].jobs)} saves more")
        return apart - full.best_cm, gid, full, cmp
    return None


def _receiving_masks(g: Group) -> dict[str, np.ndarray]:
    """Per receiving feeder, the starts at which a transfer chosen for that start loads it."""
    out: dict[str, np.ndarray] = {}
    ns = len(g.cand.starts)
    for blk, a in zip(g.zone.blocks, g.cand.assign, strict=True):
        for oi, opt in enumerate(blk.options):
            hit = a == oi
            if hit.any():
                out[opt.feeder] = out.get(opt.feeder, np.zeros(ns, dtype=bool)) | hit
    for b, j in zip(*np.nonzero(g.cand.split_of >= 0), strict=True):
        for part, pa in zip(g.zone.splits[b][g.cand.split_of[b, j]].parts, g.cand.part_assign[b, j], strict=True):
            if pa >= 0:
                out.setdefault(part.options[pa].feeder, np.zeros(ns, dtype=bool))[j] = True
    return out


def _task(g: Group) -> cpsat.Task:
    """Feeders the outage de-energises and its crews are held at every start; a feeder that
    receives a transfer only at the starts whose chosen transfers use it."""
    res = {f"feeder:{f}" for f in g.zone.own_feeders}
    res |= {f"crew:{j.crew}" for j in g.jobs if j.crew}
    cond = tuple((f"feeder:{f}", mask) for f, mask in sorted(_receiving_masks(g).items()) if f"feeder:{f}" not in res)
    return cpsat.Task(
        starts=g.cand.starts * SLOT_MIN,
        cost=g.cand.cost,
        duration_min=g.duration_min,
        resources=frozenset(res),
        generators=int(g.cand.generators_needed.max()) if len(g.cand) else 0,
        conditional=cond,
        weight=len(g.jobs),
    )


def _split_unscheduled(
    groups: list[Group], tasks: list[cpsat.Task], sched: cpsat.Schedule, singles: list[Group], fleet_size: int, *,
    deadline: float | None = None,
) -> tuple[list[Group], list[cpsat.Task], cpsat.Schedule, dict[str, int]]:
    """A merged outage the schedule could not place is split back into its jobs, and each job is
    placed alone where it fits among the placed outages (:func:`cpsat.repair` may move a few of
    them to another of their starts). Jobs that still fit nowhere are left out."""
    drop = [i for i, (g, j) in enumerate(zip(groups, sched.choice, strict=True)) if j is None and len(g.jobs) > 1]
    info = {"outages": len(drop), "jobs": 0, "jobs_placed": 0}
    if not drop:
        return groups, tasks, sched, info
    single_of = {g.jobs[0].id: g for g in singles}
    extra = [single_of[jb.id] for i in drop for jb in groups[i].jobs]
    info["jobs"] = len(extra)
    kept = [i for i in range(len(groups)) if i not in set(drop)]
    groups2 = [groups[i] for i in kept] + extra
    tasks2 = [tasks[i] for i in kept] + [_task(g) for g in extra]
    choice = cpsat.repair(tasks2, [sched.choice[i] for i in kept] + [None] * len(extra), fleet_size, max_blockers=3, rounds=5,
                          deadline=deadline)
    info["jobs_placed"] = sum(1 for j in choice[len(kept):] if j is not None)
    objective = round(sum(float(t.cost[j]) for t, j in zip(tasks2, choice, strict=True) if j is not None), 3)
    sched = replace(sched, choice=choice, objective=objective, unscheduled=sum(1 for j in choice if j is None))
    return groups2, tasks2, sched, info


# -- realising one outage --------------------------------------------------------


def _chosen_options(g: Group, j: int) -> tuple[Zone, list[TransferOption | None]]:
    """The zone as operated at start ``j`` (a split block replaced by its parts, and the customers no
    tie reaches) and the transfer of each of its blocks (None: dark); break-before-make where the
    loop failed."""
    blocks: list[Block] = []
    out: list[TransferOption | None] = []
    cand = g.cand
    for b, (blk, a) in enumerate(zip(g.zone.blocks, cand.assign[:, j], strict=True)):
        si = int(cand.split_of[b, j]) if cand.split_of.size else -1
        if a < 0 and si >= 0:
            sp = g.zone.splits[b][si]
            for part, pa in zip(sp.parts, cand.part_assign[b, j], strict=True):
                blocks.append(part)
                out.append(part.options[pa] if pa >= 0 else None)
            if len(sp.rest):
                blocks.append(replace(blk, customers=sp.rest, options=[], split_switch=sp.switch))
                out.append(None)
            continue
        opt = blk.options[int(a)] if a >= 0 else None
        if opt is not None and opt.make_before_break and not cand.mbb_ok[b, j]:
            opt = replace(opt, make_before_break=False)
        blocks.append(blk)
        out.append(opt)
    return replace(g.zone, blocks=blocks), out


def _realise(tl: Timeline, validator: Validator, oid: str, g: Group, j: int, now: datetime) -> Outage:
    s_slot = int(g.cand.starts[j])
    start = tl.time_of(s_slot)
    end = start + timedelta(minutes=g.duration_min)
    e_slot = s_slot + tl.touched(g.duration_min)
    zone, chosen = _chosen_options(g, j)
    problems: list[str] = []
    steps, chosen, problems, notes, flow_states = _safe_steps(tl, validator, zone, chosen, start, end, s_slot, e_slot)
    dark = [zone.fixed_dead] + [b.customers for b, c in zip(zone.blocks, chosen, strict=True) if c is None]
    dark_idx = np.unique(np.concatenate(dark)) if dark else np.zeros(0, dtype=np.int64)
    bbm_idx = [b.customers for b, c in zip(zone.blocks, chosen, strict=True) if c is not None and not c.make_before_break]
    bbm = np.unique(np.concatenate(bbm_idx)) if bbm_idx else np.zeros(0, dtype=np.int64)
    transfers = []
    for blk, c in zip(zone.blocks, chosen, strict=True):
        if c is None:
            continue
        slots = np.arange(s_slot, s_slot + tl.touched(g.duration_min) + 1)
        base = tl.feeder_load[c.feeder_code, slots]
        moved = blk.load[slots]
        k = int(np.argmax(base + moved))
        transfers.append(
            {
                "tie": c.tie,
                "from_feeder": blk.own_feeder,
                "to_feeder": c.feeder,
                "to_substation": c.substation,
                "mode": "make_before_break" if c.make_before_break else "break_before_make",
                "isolating_switches": list(blk.isolating_switches),
                "split_at": blk.split_switch,  # the block was parted by opening this switch inside it
                "customers": [str(x) for x in tl.cust_ids[blk.customers]],
                "transferred_peak_kw": round(float(moved.max()), 1),
                "receiving_peak_kw": round(float((base + moved)[k]), 1),
                "receiving_peak_at": tl.time_of(int(slots[k])).isoformat(),
                "receiving_limit_kw": round(float(tl.feeder_limit[c.feeder_code]), 1),
            }
        )
    rejected = _rejected_transfers(tl, zone, chosen, s_slot, g.duration_min)
    iso = zone.isolation
    zone_json = {
        "equipment": list(zone.equipment),
        "work_nodes": sorted(iso.work_nodes),
        "isolating_switches": list(iso.switches),
        "ties_kept_open": list(iso.ties),
        "feeders": sorted(zone.own_feeders),
        "dead_before_transfer": len(zone.all_customers),
        "transfer_rejected": rejected,
        "validation_notes": notes,  # findings that made the planner give up a transfer
    }
    out = Outage(
        id=oid,
        jobs=[jb.id for jb in g.jobs],
        start=start,
        end=end,
        steps=steps,
        valid=not problems,
        problems=problems,
        transfers=transfers,
        generators=[],
        unmet_generator_needs=[],
        customers=[],
        notices={},
        window={},
        merge=g.comparisons,
        zone=zone_json,
        impact={},
        power_flow=_flow_json(tl, flow_states),
        dark=dark_idx,
        short_break=bbm,
        slots=(s_slot, e_slot),
    )
    return out


def _safe_steps(
    tl: Timeline, validator: Validator, zone: Zone, chosen: list[TransferOption | None], start: datetime, end: datetime, s_slot: int, e_slot: int
) -> tuple[list[Step], list[TransferOption | None], list[str], list[str], list[dict[str, Any]]]:
    """Steps that pass validation: as chosen, else without one transfer, else without any.

    Returns ``(steps, transfers used, problems, notes)``: ``problems`` (the findings of the first
    and last attempts) only when no attempt is safe (fail closed); ``notes`` the findings that
    made a safer fallback necessary."""
    attempts = [chosen]
    moved = [i for i, c in enumerate(chosen) if c is not None]
    if len(moved) > 1:  # give up one transfer at a time, the least valuable block first
        attempts += [[None if i == k else c for i, c in enumerate(chosen)] for k in reversed(moved)]
    if moved:
        attempts.append([None] * len(chosen))
    first: list[str] = []
    steps: list[Step] = []
    for k, ch in enumerate(attempts):
        steps = build_steps(zone, ch, start=start, end=end)
        allowed = [zone.fixed_dead] + [b.customers for b, c in zip(zone.blocks, ch, strict=True) if c is None or not c.make_before_break]
        problems = validator.validate(zone, steps, allowed_dark=np.concatenate(allowed) if allowed else np.zeros(0, dtype=np.int64), start_slot=s_slot, end_slot=e_slot)
        if not problems:
            if k:
                log.info("transfers dropped after validation failed: %s", first)
            return steps, ch, [], first, validator.states
        if k == 0:
            first = problems
    return steps, attempts[-1], problems if len(attempts) == 1 else first + problems, [], validator.states


def _flow_json(tl: Timeline, states: list[dict[str, Any]]) -> dict[str, Any]:
    """Per distinct switching state, the AC power flow's worst loading and voltage and when; the worst
    over all states; the limits they were checked against."""
    solved = [s for s in states if s["max_line_loading_pct"] is not None]
    return {
        "limits": {"loading_pct": tl.options.loading_limit_pct, "voltage_band_pct": tl.options.voltage_band_pct},
        "states": states,
        "max_line_loading_pct": max((s["max_line_loading_pct"] for s in solved), default=None),
        "min_vm_pu": min((s["min_vm_pu"] for s in solved), default=None),
        "max_vm_pu": max((s["max_vm_pu"] for s in solved), default=None),
    }


def _rejected_transfers(tl: Timeline, zone: Zone, chosen: list[TransferOption | None], s_slot: int, duration_min: int) -> list[dict[str, Any]]:
    out = []
    slots = np.arange(s_slot, s_slot + tl.touched(duration_min) + 1)
    for blk, c in zip(zone.blocks, chosen, strict=True):
        for opt in blk.options:
            if c is not None and opt.tie == c.tie:
                continue
            if c is not None:
                reason = f"block already re-fed through {c.tie}"
            else:
                lim = tl.feeder_limit[opt.feeder_code] if opt.feeder_code >= 0 else np.nan
                if not np.isfinite(lim):
                    reason = f"feeder {opt.feeder} has no known rating: the transfer cannot be checked"
                else:
                    tot = tl.feeder_load[opt.feeder_code, slots] + blk.load[slots]
                    k = int(np.argmax(tot))
                    if tot[k] > lim:
                        reason = f"{opt.feeder} would carry {tot[k]:.0f} kW at {tl.time_of(int(slots[k])).isoformat()}, above its limit {lim:.0f} kW"
                    else:
                        also = (blk.split_switch,) if blk.split_switch else ()
                        why = tl.flows.first_failure((*zone.isolation.switches, *also), (opt.tie,), slots)
                        reason = f"power flow: {why}" if why else "the switching plan with it failed validation (see validation_notes)"
            out.append({"tie": opt.tie, "to_feeder": opt.feeder, "customers": len(blk.customers), "reason": reason})
        if not blk.options:
            why = f"no tie reaches this part of the block split at {blk.split_switch}" if blk.split_switch else "no tie reaches this block"
            out.append({"tie": None, "to_feeder": None, "customers": len(blk.customers), "reason": why})
    return out


def _assign_generators(tl: Timeline, outages: list[Outage], placed: list[tuple[Group, int]]) -> None:
    """能发必发: chronologically, the smallest free truck at least as large as each customer's peak."""
    o = tl.options
    fleet = sorted(o.generator_fleet, key=lambda x: (x.kw, x.id))
    taken = tl.fixed_set.busy_trucks()
    pad = timedelta(minutes=o.generator_setup_min)
    busy: dict[str, list[tuple[datetime, datetime]]] = {x.id: [(a - pad, b + pad) for a, b in taken.get(x.id, [])] for x in fleet}
    for out, (g, _) in zip(outages, placed, strict=True):
        dark = out.dark
        s_slot, _ = out.slots
        fed = []
        for c in dark[tl.gen_eligible[dark]]:
            peak, _ = generator_cover(tl, int(c), np.array([s_slot]), g.duration_min)
            kw = float(peak[0])
            a, b = out.start - pad, out.end + pad
            big_enough = [x for x in fleet if x.kw + 1e-9 >= kw]
            free = [x for x in big_enough if all(not (s < b and a < e) for s, e in busy[x.id])]
            cid = str(tl.cust_ids[c])
            if free:
                truck = free[0]
                busy[truck.id].append((a, b))
                out.generators.append(
                    {
                        "generator": truck.id,
                        "name": truck.name,
                        "kw": truck.kw,
                        "depot_id": truck.depot_id,
                        "customer": cid,
                        "importance": str(tl.importance[c]),
                        "peak_kw": round(kw, 1),
                        "from": out.start.isoformat(),
                        "to": out.end.isoformat(),
                        "hours": round(g.duration_min / 60, 3),
                    }
                )
                fed.append(int(c))
            else:
                reason = (
                    "no generator in the fleet" if not fleet
                    else f"no truck of at least {kw:.0f} kW in the fleet" if not big_enough
                    else "every large-enough truck is busy at that time"
                )
                out.unmet_generator_needs.append({"customer": cid, "importance": str(tl.importance[c]), "peak_kw": round(kw, 1), "reason": reason})
        out.on_generator = np.array(fed, dtype=np.int64)


def _finish(tl: Timeline, out: Outage, g: Group, j: int) -> None:
    """Impact, affected customers and notices of a realised outage."""
    o = tl.options
    dark, bbm, gen = out.dark, out.short_break, out.on_generator
    s_slot, _ = out.slots
    out.impact = _impact(tl, dark, bbm, gen, s_slot, g.duration_min)
    supply: dict[int, str] = {int(c): "interrupted" for c in dark}
    supply.update({int(c): "short_breaks" for c in bbm})
    supply.update({int(c): "generator" for c in gen})
    out.customers = [str(tl.cust_ids[c]) for c in sorted(supply)]
    out.repeat_over_limit = [
        {"customer": str(tl.cust_ids[c]), "importance": str(tl.importance[c]), "earlier": n, "limit": int(tl.repeats.limit[c])}
        for c, n in tl.repeats.over(np.setdiff1d(dark, gen), s_slot)
    ]
    equipment = [e for jb in g.jobs for e in jb.equipment]
    out.notices = build_notice(tl, outage_id=out.id, start=out.start, end=out.end, equipment=list(dict.fromkeys(equipment)), supply=supply, options=o)


def _impact(tl: Timeline, dark: np.ndarray, bbm: np.ndarray, gen: np.ndarray, s_slot: int, duration_min: int) -> dict[str, Any]:
    """CI, CMI, ENS, peak hits (see docs/planning.md for the definitions)."""
    o = tl.options
    starts = np.array([s_slot])
    off = np.setdiff1d(dark, gen)
    ens = float(tl.energy(tl.load(off), starts, duration_min)[0]) if len(off) else 0.0
    brk = o.switching_break_min
    e_slot = s_slot + tl.end_offset(duration_min)  # the hand-back
    if len(bbm):
        ld = tl.load(bbm)
        ens += float((ld[s_slot] + ld[e_slot]) * brk / 60.0)
    hit = 0
    for c in dark[tl.peak_graded[dark]]:
        hit += bool(tl.any_in(tl.peak_mask(c), starts, duration_min)[0])
    for c in bbm[tl.peak_graded[bbm]]:
        m = tl.peak_mask(c)
        hit += bool(m[s_slot] or m[e_slot])
    interrupted = np.concatenate([off, bbm])
    by = {grade: 0 for grade in IMPORTANCE_GRADES}
    for grade, cnt in zip(*np.unique(tl.importance[interrupted].astype(str), return_counts=True), strict=True):
        by[str(grade)] = int(cnt)
    return {
        "ci": int(len(off) + len(bbm)),
        "cmi": round(float(len(off) * duration_min + len(bbm) * 2 * brk), 1),
        "ens_kwh": round(ens, 2),
        "peak_hits": int(hit),
        "generator_hours": round(len(gen) * duration_min / 60.0, 3),
        "short_interruptions": int(len(bbm)),
        "interruptions_by_importance": by,
    }


def _explain_windows(
    tl: Timeline, outages: list[Outage], placed: list[tuple[Group, int]], tasks: list[cpsat.Task], groups: list[Group], sched: cpsat.Schedule
) -> None:
    """能小必小, explained: chosen start, its cost, the next-best starts and why they were not taken."""
    o = tl.options
    task_of = {id(g): t for g, t in zip(groups, tasks, strict=True)}
    spans = [(out, task_of[id(g)].resources_at(j), out.start, out.end) for out, (g, j) in zip(outages, placed, strict=True)]
    for out, (g, j) in zip(outages, placed, strict=True):
        c = g.cand
        order = np.lexsort((c.starts, c.cost))
        alts = []
        for k in order:
            if int(k) == j:
                continue
            res = task_of[id(g)].resources_at(int(k))
            st = tl.time_of(int(c.starts[k]))
            en = st + timedelta(minutes=g.duration_min)
            blockers = sorted({other.id for other, r2, a, b in spans if other is not out and (res & r2) and a < en and st < b})
            alts.append({"start": st.isoformat(), "cost": round(float(c.cost[k]), 3), "customer_minutes": round(float(c.customer_minutes[k]), 1), "blocked_by": blockers})
            if len(alts) >= o.alternatives:
                break
        cheaper = int((c.cost < c.cost[j] - 1e-9).sum())
        lo, hi = c.window
        dropped = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in c.dropped.items())
        text = f"Chosen {out.start:%Y-%m-%d %H:%M} (cost {c.cost[j]:.1f} weighted kWh) among {len(c)} feasible start(s)"
        text += f"; rejected: {dropped}" if dropped else ""
        if cheaper:
            text += f"; {cheaper} cheaper start(s) collide with other outages on the same feeders or crews"
        else:
            text += "; it is the cheapest feasible start"
        out.window = {
            "earliest_start": tl.time_of(lo).isoformat(),
            "latest_start": tl.time_of(max(lo, hi)).isoformat(),
            "feasible_starts": len(c),
            "rejected_starts": dict(c.dropped),
            "chosen": {"start": out.start.isoformat(), "cost": round(float(c.cost[j]), 3), "customer_minutes": round(float(c.customer_minutes[j]), 1)},
            "next_best": alts,
            "explanation": text,
        }
    del sched


# -- metrics -------------------------------------------------------------------


def _empty_metrics() -> dict[str, Any]:
    return {
        "outages": 0,
        "jobs": 0,
        "ci": 0,
        "cmi": 0.0,
        "ens_kwh": 0.0,
        "peak_hits": 0,
        "generator_hours": 0.0,
        "short_interruptions": 0,
        "interruptions_by_importance": {g: 0 for g in IMPORTANCE_GRADES},
        "unmet_generator_needs": 0,
        "invalid_outages": 0,
    }


def _add(m: dict[str, Any], impact: dict[str, Any]) -> None:
    for k in ("ci", "cmi", "ens_kwh", "peak_hits", "generator_hours", "short_interruptions"):
        m[k] += impact[k]
    for k, v in impact["interruptions_by_importance"].items():
        m["interruptions_by_importance"][k] += v


def _round(m: dict[str, Any]) -> dict[str, Any]:
    m["cmi"] = round(m["cmi"], 1)
    m["ens_kwh"] = round(m["ens_kwh"], 1)
    m["generator_hours"] = round(m["generator_hours"], 2)
    return m


def _metrics_plan(outages: list[Outage], jobs: int) -> dict[str, Any]:
    m = _empty_metrics()
    m["outages"] = len(outages)
    m["jobs"] = jobs
    for o in outages:
        _add(m, o.impact)
        m["unmet_generator_needs"] += len(o.unmet_generator_needs)
        m["invalid_outages"] += int(not o.valid)
    return _round(m)


def _baseline(tl: Timeline, job: Job, zone: Zone, now: datetime) -> dict[str, Any]:
    """Each job alone at its earliest feasible start (window, notice, working hours), no transfer, no generator."""
    cand = evaluate(tl, zone, duration_min=job.duration_min, earliest=job.earliest, latest=job.latest,
                    night_work=job.night_work, now=now, respect_peaks=False, transfers=False)
    if len(cand) == 0:
        lo, _ = start_range(tl, earliest=job.earliest, latest=job.latest, duration_min=job.duration_min, now=now)
        return {"job": job.id, "start": None, "impact": None}
    s = int(cand.starts.min())
    impact = _impact(tl, zone.all_customers, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), s, job.duration_min)
    return {"job": job.id, "start": tl.time_of(s).isoformat(), "impact": impact}


def _metrics_baseline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    m = _empty_metrics()
    for r in rows:
        if r["impact"] is None:
            continue
        m["outages"] += 1
        m["jobs"] += 1
        _add(m, r["impact"])
    return _round(m)
