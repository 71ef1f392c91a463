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
* **Trouble calls** (customer ids): for every *device* (a closed switch of the
  supply tree) the likelihood that exactly the customers below it lost supply
  (:func:`call_log_likelihood`): calls from below it are explained, calls from
  elsewhere are stray reports (``stray_call_probability`` each), and the share
  of customers without supply who call is unknown (a Beta prior with mean
  ``call_probability``, integrated out), so a device that darkens 2,000
  customers of whom 3 called is far less likely than one that darkens exactly
  those 3.

  - **Calls only** (no tripped breaker, no indicator readings): every device
    that explains at least one call is a hypothesis "supply was lost right
    below it"; its candidate is the section right below it, scored by the
    device's posterior (uniform prior over devices; equal likelihoods go to the
    device darkening fewer customers). The best is the smallest device that
    covers the calls — their common upstream device on the supply tree when
    several branches called — then larger ones and ones that explain fewer calls.
  - **Calls with indicators**: half of a device's likelihood goes to the section
    right below it, half is spread over every section it feeds by exposure;
    the indicators then say where below it.
  - **Calls with a tripped breaker**: the calls cannot say where below the
    breaker the fault is, and only check the outage extent (a warning names
    calls from outside it).

The prior of a section is its exposure (km of line plus 0.1 km per cabinet).
Scores are posterior probabilities over the candidates (they sum to 1).

Every candidate carries a one-line :class:`Summary` (where, likelihood, the
one reason that matters) and its full evidence as :class:`~planning.faults.reasons.Reason`
items (codes with parameters, English and Chinese texts) for a dispatcher's page.
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
from planning.faults.reasons import Reason

log = logging.getLogger(__name__)

PROTECTIVE_KINDS = ("breaker", "fuse")
MIN_RELATIVE_SCORE = 1e-3  # candidates scoring below this share of the best are dropped
DEVICE_ZONE_SHARE = 0.5  # share of a call-inferred device's likelihood put on the section right below it

# how the outage of a candidate is explained (Candidate.outage_basis)
BASIS_TRIPPED = "tripped"  # a tripped breaker was reported
BASIS_CALLS = "calls"  # calls only: supply lost right below outage_device, nobody reported a trip


@dataclass(frozen=True)
class Summary:
    """One line for a dispatcher: where, how likely, and the one reason that matters.

    Where: the section's main cabinet ``node`` (an RMU, else a distribution room or
    pole transformer, else its first node; kind ``node_kind``, name ``name``, crew
    access point ``location`` (lon, lat) EPSG:4326); ``address`` is the node's own
    when the grid has one, else that of the nearest customer with one. ``device`` is
    the switch feeding the section in the normal state (where it is isolated from
    upstream), held in cabinet ``device_node``. ``likelihood`` is the candidate's
    posterior probability (0..1).
    """

    rank: int
    section: str
    device: str | None
    device_kind: str | None
    remote: bool | None
    device_node: str | None
    node: str | None
    node_kind: str | None
    name: str | None
    feeder: str | None
    address: str | None
    location: tuple[float, float] | None
    likelihood: float
    reason: Reason

    def line(self) -> Reason:
        """The one-line summary as a reason (``summary_line``: where — percent — reason)."""
        if self.device is not None:
            where = Reason("where_device", {"device": self.device, "node_name": self.name or self.node,
                                            "feeder": self.feeder})
        else:
            where = Reason("where_section", {"section": self.section, "feeder": self.feeder})
        percent = round(100 * self.likelihood) if self.likelihood >= 0.01 else round(100 * self.likelihood, 1)
        return Reason("summary_line", {"where": where, "percent": percent, "reason": self.reason})

    def to_json(self) -> dict[str, Any]:
        line = self.line()
        return {
            "rank": self.rank,
            "where": {
                "section": self.section,
                "device": self.device,
                "device_kind": self.device_kind,
                "remote": self.remote,
                "device_node": self.device_node,
                "node": self.node,
                "node_kind": self.node_kind,
                "name": self.name,
                "feeder": self.feeder,
                "address": self.address,
                "location": None if self.location is None else {"lon": self.location[0], "lat": self.location[1]},
            },
            "likelihood": round(self.likelihood, 4),
            "reason": self.reason.to_json(),
            "text": line.text,
            "texts": line.texts(),
        }


@dataclass(frozen=True)
class Candidate:
    """One candidate faulted section. ``score`` is its posterior probability (0..1).

    ``outage_device`` is the device whose opening explains who is dark, with its
    ``outage_basis``: ``"tripped"`` (the reported breaker) or ``"calls"`` (calls
    only: supply was lost right below it; nobody reported it tripped), else None.
    ``details`` are the evidence items ``reason`` is made of; ``summary`` the one line.
    """

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
    outage_device: str | None = None
    outage_basis: str | None = None
    details: tuple[Reason, ...] = ()
    summary: Summary | None = None

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
            "rank": None if self.summary is None else self.summary.rank,
            "outage_device": self.outage_device,
            "outage_basis": self.outage_basis,
            "summary": None if self.summary is None else self.summary.to_json(),
            "details": [d.to_json() for d in self.details],
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


@dataclass(frozen=True)
class _Evidence:
    """The parsed signals: the tripped breaker, indicator readings, known callers, warnings."""

    breaker: str | None
    readings: dict[str, bool]
    calls: list[str]
    warnings: list[str]

    @property
    def calls_only(self) -> bool:
        return self.breaker is None and not self.readings and bool(self.calls)


@dataclass(frozen=True)
class _Calls:
    """Trouble-call analysis: prior per section, the most likely device, per-section notes."""

    prior: dict[str, float]
    best_device: str | None
    info: dict[str, dict[str, Any]]


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
        customers, GeoJSON geometry (EPSG:4326), the outage device and a
        one-line summary with reason codes.

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
    ev = _evidence(net, tripped_breaker, fault_indicators, calls)
    universe = _universe(net, ev)
    calls_seen = _call_analysis(net, universe, ev, options)
    weights, ind_info = _posterior(net, universe, ev.readings, calls_seen.prior, options)
    total = sum(weights.values())
    if ev.calls_only:  # equal likelihoods: the device darkening fewer customers first
        def key(s: str) -> tuple[Any, ...]:
            return (-weights[s], len(net.customers_in(net.tree.subtree(s))), -len(net.tree.path_switches(s)), s)
    else:
        def key(s: str) -> tuple[Any, ...]:
            return (-weights[s], len(net.tree.path_switches(s)), s)
    ranked = sorted(universe, key=key)
    best = weights[ranked[0]]
    if best <= 0.0:
        raise InputError("the evidence points at no energised distribution section", code="no_candidates")
    candidates: list[Candidate] = []
    for sec in ranked:
        if weights[sec] < MIN_RELATIVE_SCORE * best:
            break
        candidates.append(_candidate(net, sec, len(candidates) + 1, weights[sec] / total, ev, ind_info[sec],
                                     calls_seen.info.get(sec)))
    log.info("fault location: %d candidate(s), best %s (%.3f)", len(candidates), candidates[0].section,
             candidates[0].score)
    return Location(tuple(candidates), now, ev.breaker, calls_seen.best_device, tuple(ev.warnings))


def _evidence(net: SectionNet, tripped_breaker: str | None, fault_indicators: Mapping[str, Any] | None,
              calls: Iterable[Any] | None) -> _Evidence:
    """Parse and check the signals (see :func:`locate_fault` for the errors)."""
    if tripped_breaker is None and not fault_indicators and not calls:
        raise InputError(
            "no evidence: give a tripped breaker, fault indicator readings or trouble calls",
            code="no_evidence",
        )
    readings = _parse_indicators(net, fault_indicators or {})
    known_calls, unknown_calls = _parse_calls(net, calls or [])
    warnings: list[str] = []
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
    if tripped_breaker is not None:
        _check_breaker(net, tripped_breaker)
    if known_calls and tripped_breaker is not None:
        inside = {net.sec_of_node[net.customers[c].node] for c in known_calls} & set(net.tree.below(tripped_breaker))
        outside = [c for c in known_calls if net.sec_of_node[net.customers[c].node] not in inside]
        if outside:
            warnings.append(
                f"{len(outside)} call(s) come from customers not fed through {tripped_breaker} "
                f"({', '.join(outside[:10])}): another fault, or a wrong report"
            )
    return _Evidence(tripped_breaker, readings, known_calls, warnings)


def _check_breaker(net: SectionNet, breaker: str) -> None:
    if breaker not in net.switches:
        raise NotFoundError(f"unknown breaker id: {breaker}", code="unknown_breaker", details={"id": breaker})
    info = net.switches[breaker]
    if info.kind not in PROTECTIVE_KINDS:
        raise InputError(
            f"{breaker} is a {info.kind} switch, not a breaker or fuse: it cannot trip",
            code="not_a_breaker", details={"id": breaker},
        )
    if not net.tree.below(breaker):
        raise InputError(
            f"breaker {breaker} is normally open or feeds nothing: it cannot have tripped on a fault",
            code="breaker_feeds_nothing", details={"id": breaker},
        )


def _universe(net: SectionNet, ev: _Evidence) -> list[str]:
    """The candidate sections: below the tripped breaker, else the feeders the evidence touches."""
    tree = net.tree
    if ev.breaker is not None:
        universe = [s for s in tree.below(ev.breaker) if not tree.is_source(s)]
    else:
        feeders: set[str] = set()
        for s, v in ev.readings.items():
            if v:
                feeders.update(_switch_feeders(net, s))
        for c in ev.calls:
            f = tree.feeder(net.sec_of_node[net.customers[c].node])
            if f:
                feeders.add(f)
        if not feeders:
            for s in ev.readings:
                feeders.update(_switch_feeders(net, s))
        universe = [s for s in tree.sections if tree.feeder(s) in feeders and not tree.is_source(s)]
    if not universe:
        raise InputError("the evidence points at no energised distribution section", code="no_candidates")
    return universe


def _switch_feeders(net: SectionNet, switch: str) -> set[str]:
    info = net.switches[switch]
    return {f for f in (net.tree.feeder(info.sec_a), net.tree.feeder(info.sec_b)) if f}


def call_log_likelihood(explained: int, darkened: int, calls: int, options: FaultOptions) -> float:
    """Log-likelihood of the calls if exactly ``darkened`` customers lost supply, up to a constant
    shared by every hypothesis on the same grid and calls.

    ``explained`` of the ``darkened`` customers called; the other ``calls - explained`` calls
    came from customers with supply, each a stray report with probability
    ``options.stray_call_probability`` (q). The share p of customers without supply who
    call is unknown: a Beta(1, b) prior with mean ``options.call_probability`` (b = (1 - p̄)/p̄),
    integrated out, gives B(k + 1, n - k + b) / B(1, b) for k calls among n dark customers.
    """
    k, n, m = explained, darkened, calls
    b = (1.0 - options.call_probability) / options.call_probability
    q = options.stray_call_probability
    log_beta = math.lgamma(k + 1) + math.lgamma(n - k + b) - math.lgamma(n + 1 + b) + math.log(b)
    return log_beta + (m - k) * math.log(q) - (n - k) * math.log1p(-q)


def _call_analysis(net: SectionNet, universe: list[str], ev: _Evidence, options: FaultOptions) -> _Calls:
    """Spread the posterior of each outage device over the sections it feeds.

    With calls only, devices that explain no call are no hypothesis and all of a
    device's posterior goes to the section right below it; with indicators, half of
    it (:data:`DEVICE_ZONE_SHARE`), the rest by exposure; with a tripped breaker
    (the only device) all by exposure. Without calls, the prior is the exposure.
    """
    if not ev.calls:
        return _Calls({s: net.exposure_km[s] for s in universe}, None, {})
    called = set(ev.calls)
    in_universe = set(universe)
    if ev.breaker is not None:
        devices = [ev.breaker]
    elif ev.calls_only:  # the devices that explain a call: those above a caller
        devices = sorted({sw for c in ev.calls for sw in net.tree.path_switches(net.sec_of_node[net.customers[c].node])})
    else:
        devices = sorted({sw for sec in universe for sw in net.tree.path_switches(sec)})
    scored: list[tuple[float, str, list[str], int, int, int]] = []
    for d in devices:
        below = net.tree.below(d)
        zone = [s for s in below if s in in_universe]
        if not zone:
            continue
        downstream = net.customers_in(below)
        k = sum(1 for c in downstream if c in called)
        silent = len(downstream) - k
        ll = call_log_likelihood(k, len(downstream), len(ev.calls), options)
        scored.append((ll, d, zone, k, silent, len(called) - k))
    if not scored:
        return _Calls({s: 0.0 for s in universe}, None, {})
    top = max(x[0] for x in scored)
    z = sum(math.exp(x[0] - top) for x in scored)
    prior: dict[str, float] = {s: 0.0 for s in universe}
    info: dict[str, dict[str, Any]] = {}
    best_device = max(scored, key=lambda x: (x[0], -x[3] - x[4], len(net.tree.path_switches(x[2][0]))))[1]
    # a device known to have operated (the tripped breaker) says nothing about where below it
    # the fault is; a device inferred from calls most likely bounds the fault in its own zone
    alpha = 0.0 if ev.breaker is not None else (1.0 if ev.calls_only else DEVICE_ZONE_SHARE)
    for ll, d, zone, k, silent, elsewhere in scored:
        pd_ = math.exp(ll - top) / z
        zone_exposure = sum(net.exposure_km[s] for s in zone)
        first = zone[0]  # below_switch lists the section right below the device first
        for s in zone:
            share = pd_ * ((1 - alpha) * net.exposure_km[s] / zone_exposure + (alpha if s == first else 0.0))
            prior[s] += share
            cur = info.get(s)
            if share > 0 and (cur is None or share > cur["_share"]):
                info[s] = {"device": d, "device_likelihood": round(pd_, 6), "calls_explained": k,
                           "silent_customers": silent, "calls_elsewhere": elsewhere, "_share": share}
    for v in info.values():
        v.pop("_share")
    return _Calls(prior, best_device, info)


def _posterior(net: SectionNet, universe: list[str], readings: dict[str, bool], prior: dict[str, float],
               options: FaultOptions) -> tuple[dict[str, float], dict[str, dict[str, Any]]]:
    """Unnormalised posterior weight per section (best = 1) and the indicator notes per section."""
    eps = options.indicator_error_rate
    post: dict[str, float] = {}
    ind_info: dict[str, dict[str, Any]] = {}
    for sec in universe:
        path_list = net.tree.path_switches(sec)
        path = set(path_list)
        agree: list[str] = []
        contra: list[str] = []
        for s, v in readings.items():
            (agree if (s in path) == v else contra).append(s)
        missing = [s for s in path_list if net.switches[s].fault_indicator and s not in readings]
        ind_info[sec] = {"agree": sorted(agree), "contradict": sorted(contra), "missing_on_path": missing}
        log_l = len(agree) * math.log1p(-eps) + len(contra) * math.log(eps)
        p = prior.get(sec, 0.0)
        post[sec] = (math.log(p) + log_l) if p > 0 else -math.inf
    top = max(post.values())
    if top == -math.inf:
        return {s: 0.0 for s in universe}, ind_info
    return {s: math.exp(v - top) for s, v in post.items()}, ind_info


def _details(net: SectionNet, sec: str, ev: _Evidence, ind: dict[str, Any],
             calls: dict[str, Any] | None) -> list[Reason]:
    """The full evidence list of one candidate, as reasons."""
    readings = ev.readings
    out: list[Reason] = []
    path = net.tree.path_switches(sec)
    if ev.breaker is not None:
        out.append(Reason("tripped_breaker", {"breaker": ev.breaker}))
    if readings:
        seen = [x for x in path if readings.get(x) is True]
        clear = sorted(x for x in net.switches_of[sec] if readings.get(x) is False and x not in path)
        if seen:
            out.append(Reason("fault_current_seen", {"switches": seen}))
        if clear:
            out.append(Reason("no_fault_current", {"switches": clear}))
        contra = ind["contradict"]
        if contra:
            items = [Reason("indicator_seen_off_path" if readings[x] else "indicator_clear_on_path", {"switch": x})
                     for x in contra]
            out.append(Reason("indicators_contradict", {"count": len(contra), "detail": items}))
        else:
            out.append(Reason("indicators_consistent", {"count": len(readings)}))
        if ind["missing_on_path"]:
            out.append(Reason("indicators_missing", {"switches": ind["missing_on_path"]}))
    if calls:
        out.append(Reason("calls", {"device": calls["device"], "likelihood": calls["device_likelihood"],
                                    "explained": calls["calls_explained"], "silent": calls["silent_customers"],
                                    "elsewhere": calls["calls_elsewhere"]}))
    if not readings and not calls:
        out.append(Reason("exposure", {"km": round(net.exposure_km[sec], 3)}))
    return out


def _headline(net: SectionNet, sec: str, ev: _Evidence, ind: dict[str, Any], calls: dict[str, Any] | None) -> Reason:
    """The one reason that matters: the indicators when read, else the calls, else the exposure."""
    readings = ev.readings
    if readings:
        if ind["contradict"]:
            return Reason("indicators_partial", {"agree": len(ind["agree"]), "total": len(readings),
                                                 "contradict": ind["contradict"]})
        seen = [x for x in net.tree.path_switches(sec) if readings.get(x) is True]
        clear = sorted(x for x in net.switches_of[sec] if readings.get(x) is False
                       and x not in net.tree.path_switches(sec))
        if seen and clear:
            return Reason("indicators_bracket", {"seen": seen[-1], "clear": clear})
        if seen:
            return Reason("indicator_seen", {"seen": seen[-1]})
        if clear:
            return Reason("indicator_clear", {"clear": clear})
        return Reason("indicators_consistent", {"count": len(readings)})
    if calls and ev.breaker is None:
        return Reason("calls_explained", {"explained": calls["calls_explained"], "calls": len(ev.calls),
                                          "silent": calls["silent_customers"], "device": calls["device"]})
    if ev.breaker is not None:
        return Reason("tripped_exposure", {"breaker": ev.breaker, "km": round(net.exposure_km[sec], 3)})
    return Reason("exposure", {"km": round(net.exposure_km[sec], 3)})


def _summary(net: SectionNet, sec: str, rank: int, score: float, headline: Reason) -> Summary:
    device = net.tree.supply_switch(sec)
    info = net.switches[device] if device is not None else None
    node = net.cabinet_of(sec)
    return Summary(
        rank=rank, section=sec, device=device, device_kind=None if info is None else info.kind,
        remote=None if info is None else info.remote, device_node=None if info is None else info.node, node=node,
        node_kind=None if node is None else net.node_kind[node],
        name=None if node is None else net.node_name(node), feeder=net.tree.feeder(sec),
        address=None if node is None else net.address_near(node),
        location=None if node is None else net.node_location(node), likelihood=score, reason=headline,
    )


def _candidate(net: SectionNet, sec: str, rank: int, score: float, ev: _Evidence, ind: dict[str, Any],
               calls: dict[str, Any] | None) -> Candidate:
    s = net.sections[sec]
    details = _details(net, sec, ev, ind, calls)
    evidence: dict[str, Any] = {"exposure_km": round(net.exposure_km[sec], 3), "path": net.tree.path_switches(sec)}
    if ev.readings:
        evidence["indicators"] = ind
    if calls:
        evidence["calls"] = calls
    if ev.breaker is not None:
        outage: tuple[str | None, str | None] = (ev.breaker, BASIS_TRIPPED)
    elif ev.calls_only and calls:
        outage = (calls["device"], BASIS_CALLS)
    else:
        outage = (None, None)
    return Candidate(
        section=sec,
        nodes=tuple(s.nodes),
        lines=tuple(s.lines),
        switches=tuple(s.switches),
        customers=tuple(net.customers_of[sec]),
        feeder=net.tree.feeder(sec),
        score=score,
        reason="; ".join(d.text for d in details),
        geometry=net.geometry([sec]),
        evidence=evidence,
        outage_device=outage[0],
        outage_basis=outage[1],
        details=tuple(details),
        summary=_summary(net, sec, rank, score, _headline(net, sec, ev, ind, calls)),
    )
