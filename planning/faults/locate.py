"""Fault location: which section most likely holds the fault.

Three kinds of evidence, combined as independent likelihoods over the
candidate sections (Bayes with a prior by exposure):

* **Tripped breaker** (or fuse): the fault is downstream of it in the normal state.
* **Fault indicators** ``{switch_id: saw_fault_current}``: in a radial feeder,
  fault current flows through exactly the closed switches between the source
  and the faulted section. For a candidate section each reading either agrees
  with that or contradicts it; a reading is wrong with probability
  ``options.indicator_error_rate``, so a contradiction lowers a candidate's
  score but never crashes the analysis, and missing readings only widen the
  set of candidates.
* **Trouble calls** (customer ids): the *device* (a closed switch) whose
  downstream customers best explain the calls — most calls explained, fewest
  silent customers, few calls from elsewhere — under a model where a customer
  without supply calls with probability ``call_probability`` and one with
  supply with ``stray_call_probability``. The fault lies downstream of the
  device: half of the device's likelihood goes to the section right below it
  (the device most likely bounds the fault), half is spread over every
  section it feeds by exposure. With a known tripped breaker the calls cannot
  say where below it the fault is, and only check the outage extent.

The prior of a section is its exposure (km of line plus 0.1 km per cabinet).
Scores are posterior probabilities over the candidates (they sum to 1).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gis import Grid, InputError, NotFoundError
from gis.records import parse_bool
from planning.faults.network import SectionNet, section_net
from planning.faults.options import FaultOptions

log = logging.getLogger(__name__)

PROTECTIVE_KINDS = ("breaker", "fuse")
MIN_RELATIVE_SCORE = 1e-3  # candidates scoring below this share of the best are dropped
DEVICE_ZONE_SHARE = 0.5  # share of a call-inferred device's likelihood put on the section right below it


@dataclass(frozen=True)
class Candidate:
    """One candidate faulted section. ``score`` is its posterior probability (0..1)."""

    section: str
    nodes: tuple[str, ...]
    lines: tuple[str, ...]
    switches: tuple[str, ...]
    customers: tuple[str, ...]
    feeder: str | None
    score: float
    reason: str
    geometry: dict[str, Any] | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "nodes": list(self.nodes),
            "lines": list(self.lines),
            "switches": list(self.switches),
            "customers": list(self.customers),
            "feeder": self.feeder,
            "score": round(self.score, 6),
            "reason": self.reason,
            "geometry": self.geometry,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class Location:
    """Result of :func:`locate_fault`: candidates best first, plus what was ignored and why."""

    candidates: tuple[Candidate, ...]
    time: datetime
    tripped_breaker: str | None = None
    outage_device: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def best(self) -> Candidate:
        return self.candidates[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "tripped_breaker": self.tripped_breaker,
            "outage_device": self.outage_device,
            "candidates": [c.to_json() for c in self.candidates],
            "warnings": list(self.warnings),
        }


def _check_now(now: datetime) -> None:
    if not isinstance(now, datetime):
        raise InputError(f"now must be a datetime, got {type(now).__name__}", code="bad_time")
    if now.tzinfo is None or now.utcoffset() is None:
        raise InputError("now must be timezone-aware (e.g. 2026-03-02T08:15:00+01:00)", code="naive_datetime")


def _parse_indicators(net: SectionNet, readings: Mapping[str, Any]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    unknown = [s for s in readings if s not in net.switches]
    if unknown:
        raise NotFoundError(
            f"fault indicator reading(s) for unknown switch id(s): {', '.join(map(str, unknown[:10]))}",
            code="unknown_switch",
            details={"ids": unknown},
        )
    without = [s for s in readings if not net.switches[s].fault_indicator]
    if without:
        raise InputError(
            f"switch(es) {', '.join(without[:10])} have no fault indicator: their reading cannot be used "
            "(check the SCADA point mapping)",
            code="no_fault_indicator",
            details={"ids": without},
        )
    for s, v in readings.items():
        try:
            out[s] = parse_bool(v)
        except InputError:
            raise InputError(f"fault indicator {s}: reading must be true/false or 1/0, got {v!r}", code="bad_reading") from None
    return out


def _parse_calls(net: SectionNet, calls: Iterable[Any]) -> tuple[list[str], list[str]]:
    ids: list[str] = []
    for c in calls:
        if isinstance(c, Mapping):
            cid = c.get("customer") or c.get("customer_id") or c.get("id")
        else:
            cid = c
        if cid is None or (isinstance(cid, float) and math.isnan(cid)):
            continue
        ids.append(str(cid).strip())
    ids = list(dict.fromkeys(i for i in ids if i))
    known = [i for i in ids if i in net.customers]
    unknown = [i for i in ids if i not in net.customers]
    return known, unknown


def locate_fault(
    grid: Grid,
    *,
    tripped_breaker: str | None = None,
    fault_indicators: Mapping[str, Any] | None = None,
    calls: Iterable[Any] | None = None,
    now: datetime,
    options: FaultOptions | None = None,
) -> Location:
    """Rank the sections that may hold a fault, best first.

    Parameters
    ----------
    grid
        The grid (normal switch states are assumed before the fault).
    tripped_breaker
        Id of the breaker (or fuse) that tripped: the fault is downstream of it.
    fault_indicators
        ``{switch_id: True/False}``: whether each indicator saw fault current.
        Readings may be missing or contradictory.
    calls
        Trouble calls: customer ids, or mappings with a ``customer`` key.
        Calls from unknown customers are ignored with a warning.
    now
        Timezone-aware time of the analysis.

    Returns
    -------
    Location
        Candidates with posterior ``score`` (sums to 1), reason, nodes, lines,
        customers and GeoJSON geometry (EPSG:4326).

    Raises
    ------
    gis.InputError
        No evidence, a naive time, a breaker that is not a breaker, an indicator
        reading on a switch without indicator.
    gis.NotFoundError
        Unknown breaker or switch ids, or calls only from unknown customers.
    """
    _check_now(now)
    options = options or FaultOptions()
    net = section_net(grid)
    warnings: list[str] = []
    if tripped_breaker is None and not fault_indicators and not calls:
        raise InputError(
            "no evidence: give a tripped breaker, fault indicator readings or trouble calls",
            code="no_evidence",
        )
    readings = _parse_indicators(net, fault_indicators or {})
    known_calls, unknown_calls = _parse_calls(net, calls or [])
    if unknown_calls:
        warnings.append(
            f"{len(unknown_calls)} call(s) from unknown customer id(s) ignored: {', '.join(unknown_calls[:10])}"
        )
        if not known_calls and tripped_breaker is None and not readings:
            raise NotFoundError(
                f"every call is from an unknown customer id ({', '.join(unknown_calls[:10])}): nothing to locate",
                code="unknown_customer",
                details={"ids": unknown_calls},
            )

    # -- the universe of candidate sections -------------------------------------------
    if tripped_breaker is not None:
        if tripped_breaker not in net.switches:
            raise NotFoundError(f"unknown breaker id: {tripped_breaker}", code="unknown_breaker",
                                details={"id": tripped_breaker})
        info = net.switches[tripped_breaker]
        if info.kind not in PROTECTIVE_KINDS:
            raise InputError(
                f"{tripped_breaker} is a {info.kind} switch, not a breaker or fuse: it cannot trip",
                code="not_a_breaker", details={"id": tripped_breaker},
            )
        below = net.tree.below(tripped_breaker)
        if not below:
            raise InputError(
                f"breaker {tripped_breaker} is normally open or feeds nothing: it cannot have tripped on a fault",
                code="breaker_feeds_nothing", details={"id": tripped_breaker},
            )
        universe = [s for s in below if not net.tree.is_source(s)]
    else:
        feeders: set[str] = set()
        for s, v in readings.items():
            if v:
                inf = net.switches[s]
                feeders.update(f for f in (net.tree.feeder(inf.sec_a), net.tree.feeder(inf.sec_b)) if f)
        for c in known_calls:
            f = net.tree.feeder(net.sec_of_node[net.customers[c].node])
            if f:
                feeders.add(f)
        if not feeders:
            for s in readings:
                inf = net.switches[s]
                feeders.update(f for f in (net.tree.feeder(inf.sec_a), net.tree.feeder(inf.sec_b)) if f)
        universe = [s for s in net.tree.sections if net.tree.feeder(s) in feeders and not net.tree.is_source(s)]
    if not universe:
        raise InputError("the evidence points at no energised distribution section", code="no_candidates")

    # -- prior (exposure) and trouble-call analysis -----------------------------------------
    in_universe = set(universe)
    prior = {s: net.exposure_km[s] for s in universe}
    outage_device: str | None = None
    call_info: dict[str, dict[str, Any]] = {}
    if known_calls:
        outside = [c for c in known_calls if net.sec_of_node[net.customers[c].node] not in in_universe]
        if outside and tripped_breaker is not None:
            warnings.append(
                f"{len(outside)} call(s) come from customers not fed through {tripped_breaker} "
                f"({', '.join(outside[:10])}): another fault, or a wrong report"
            )
        prior, outage_device, call_info = _call_analysis(net, universe, known_calls, tripped_breaker, options)

    # -- indicator likelihood ----------------------------------------------------------
    eps = options.indicator_error_rate
    post: dict[str, float] = {}
    ind_info: dict[str, dict[str, Any]] = {}
    for sec in universe:
        path = set(net.tree.path_switches(sec))
        agree: list[str] = []
        contra: list[str] = []
        for s, v in readings.items():
            (agree if (s in path) == v else contra).append(s)
        missing = [s for s in net.tree.path_switches(sec) if net.switches[s].fault_indicator and s not in readings]
        ind_info[sec] = {"agree": sorted(agree), "contradict": sorted(contra), "missing_on_path": missing}
        log_l = len(agree) * math.log1p(-eps) + len(contra) * math.log(eps)
        post[sec] = math.log(max(prior.get(sec, 0.0), 1e-300)) + log_l
    top = max(post.values())
    weights = {s: math.exp(v - top) for s, v in post.items()}
    total = sum(weights.values())
    ranked = sorted(universe, key=lambda s: (-weights[s], len(net.tree.path_switches(s)), s))
    best = weights[ranked[0]]
    candidates = []
    for sec in ranked:
        if weights[sec] < MIN_RELATIVE_SCORE * best:
            break
        candidates.append(_candidate(net, sec, weights[sec] / total, readings, ind_info[sec],
                                     call_info.get(sec), tripped_breaker))
    log.info("fault location: %d candidate(s), best %s (%.3f)", len(candidates), candidates[0].section,
             candidates[0].score)
    return Location(tuple(candidates), now, tripped_breaker, outage_device, tuple(warnings))


def _call_analysis(
    net: SectionNet,
    universe: list[str],
    calls: list[str],
    tripped_breaker: str | None,
    options: FaultOptions,
) -> tuple[dict[str, float], str | None, dict[str, dict[str, Any]]]:
    """Spread the posterior of each outage device over the sections it feeds (exposure-weighted).

    Returns the call-based prior per section, the most likely device, and per-section notes.
    """
    p, q = options.call_probability, options.stray_call_probability
    called = set(calls)
    in_universe = set(universe)
    if tripped_breaker is not None:
        devices = [tripped_breaker]
    else:
        devices = sorted({sw for sec in universe for sw in net.tree.path_switches(sec)})
    scored: list[tuple[float, str, list[str], int, int, int]] = []
    for d in devices:
        below = [s for s in net.tree.below(d)]
        zone = [s for s in below if s in in_universe]
        if not zone:
            continue
        downstream = net.customers_in(below)
        k = sum(1 for c in downstream if c in called)
        silent = len(downstream) - k
        elsewhere = len(called) - k
        # log-likelihood relative to "no outage": explained calls gain, silent customers cost
        ll = k * (math.log(p) - math.log(q)) + silent * (math.log1p(-p) - math.log1p(-q))
        scored.append((ll, d, zone, k, silent, elsewhere))
    if not scored:
        return {s: 0.0 for s in universe}, None, {}
    top = max(x[0] for x in scored)
    z = sum(math.exp(x[0] - top) for x in scored)
    prior: dict[str, float] = {s: 0.0 for s in universe}
    info: dict[str, dict[str, Any]] = {}
    best_device = max(scored, key=lambda x: (x[0], -len(x[2])))[1]
    # a device known to have operated (the tripped breaker) says nothing about where below it
    # the fault is; a device inferred from calls most likely bounds the fault in its own zone
    alpha = 0.0 if tripped_breaker is not None else DEVICE_ZONE_SHARE
    for ll, d, zone, k, silent, elsewhere in scored:
        pd_ = math.exp(ll - top) / z
        zone_exposure = sum(net.exposure_km[s] for s in zone)
        first = zone[0]  # below_switch lists the section right below the device first
        for s in zone:
            share = pd_ * ((1 - alpha) * net.exposure_km[s] / zone_exposure + (alpha if s == first else 0.0))
            prior[s] += share
            cur = info.get(s)
            if cur is None or share > cur["_share"]:
                info[s] = {"device": d, "device_likelihood": round(pd_, 6), "calls_explained": k,
                           "silent_customers": silent, "calls_elsewhere": elsewhere, "_share": share}
    for v in info.values():
        v.pop("_share")
    return prior, best_device, info


def _candidate(
    net: SectionNet,
    sec: str,
    score: float,
    readings: dict[str, bool],
    ind: dict[str, Any],
    calls: dict[str, Any] | None,
    tripped_breaker: str | None,
) -> Candidate:
    s = net.sections[sec]
    parts: list[str] = []
    path = net.tree.path_switches(sec)
    if tripped_breaker is not None:
        parts.append(f"fed through tripped breaker {tripped_breaker}")
    if readings:
        seen = [x for x in path if readings.get(x) is True]
        clear = [x for x in net.switches_of[sec] if readings.get(x) is False and x not in path]
        if seen:
            parts.append(f"downstream of {', '.join(seen)} (fault current seen)")
        if clear:
            parts.append(f"upstream of {', '.join(sorted(clear))} (no fault current)")
        contra = ind["contradict"]
        if contra:
            descr = []
            for x in contra:
                if readings[x]:
                    descr.append(f"{x} saw fault current but is not between the source and this section")
                else:
                    descr.append(f"{x} saw no fault current but lies between the source and this section")
            parts.append(f"{len(contra)} contradicting reading(s): " + "; ".join(descr))
        else:
            parts.append(f"consistent with all {len(readings)} indicator reading(s)")
        if ind["missing_on_path"]:
            parts.append(f"no reading from {', '.join(ind['missing_on_path'])} on the path")
    if calls:
        parts.append(
            f"trouble calls point at {calls['device']} (likelihood {calls['device_likelihood']:.2f}: "
            f"{calls['calls_explained']} call(s) explained, {calls['silent_customers']} silent customer(s), "
            f"{calls['calls_elsewhere']} call(s) from elsewhere)"
        )
    if not readings and not calls:
        parts.append(f"no indicator or call evidence: ranked by exposure ({net.exposure_km[sec]:.2f} km)")
    evidence: dict[str, Any] = {"exposure_km": round(net.exposure_km[sec], 3), "path": path}
    if readings:
        evidence["indicators"] = ind
    if calls:
        evidence["calls"] = calls
    return Candidate(
        section=sec,
        nodes=tuple(s.nodes),
        lines=tuple(s.lines),
        switches=tuple(s.switches),
        customers=tuple(net.customers_of[sec]),
        feeder=net.tree.feeder(sec),
        score=score,
        reason="; ".join(parts),
        geometry=net.geometry([sec]),
        evidence=evidence,
    )
