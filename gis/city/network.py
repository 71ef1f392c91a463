"""Lay a 10 kV network over a city: substations, open rings, RMUs, rooms.

The design follows urban practice:

1. **Transformer areas** — customers are split recursively (longer axis,
   load-weighted median) until each area's coincident peak fits one
   distribution room (<= 80 % of 1000 kVA) and the area is compact
   (<= ``max_area_extent_m`` across).  Dense areas become distribution rooms
   (400-1000 kVA); small, spread-out areas become pole-mounted transformers on
   overhead spurs.
2. **Substations** — load-weighted k-means over the transformer areas; each
   substation takes the site of a large building near its cluster centre
   (an indoor 110/10 kV substation, as in dense European towns).  Synthetic.
3. **Rings** — transformers nearly equidistant (by street) from two
   substations form rings *between* those substations; the rest are swept by
   angle around their nearest substation into rings of about two feeders'
   worth of load.  Each ring is a tour along streets (nearest neighbour +
   2-opt) from its substation back to itself or to the other substation, cut
   where the two halves' coincident peaks balance: there sits the
   normally-open tie.
4. **RMUs** — along each half, consecutive transformers close to each other
   share one ring-main unit (two ring ways + up to three tee ways).  Every
   cable follows the street centrelines between the street nodes nearest to
   its two ends.
5. **Electrical design** — each ring gets the smallest YJV22 trunk cable
   meeting the thermal, voltage-drop and N-1 rules of
   :mod:`gis.city.electrical`, and the tie where its halves balance; rings no
   size satisfies are split in two (:func:`design_rings`).

All randomness comes from the seeded generator passed in; everything else is
sorted, so the output depends on the input and the seed only.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from gis.city import electrical as el
from gis.city.roads import StreetGraph

log = logging.getLogger(__name__)

NOMINAL_KV = 10.0
POWER_FACTOR = 0.9
#: Feeder ratings (A) of the first, load-only ring grouping (it fixes the
#: equipment ids; the cables are then designed by :func:`design_rings`).
FEEDER_RATINGS_A = (300, 400, 500, 600)
MAX_FEEDER_LOADING = 0.85
#: Design loading of a feeder at 500 A when grouping transformers into rings.
TARGET_LOADING_AT_500A = 0.60
#: Least coincident peak (kW) that justifies a substation of its own: two
#: feeders at 45 % of 400 A.
MIN_SUBSTATION_KW = 2 * 0.45 * math.sqrt(3.0) * 10.0 * 400 * 0.9
ROOM_SIZES_KVA = (400, 500, 630, 800, 1000)
POLE_SIZES_KVA = (50, 100, 160, 250)
MAX_TRANSFORMER_LOADING = 0.8
#: Transformer areas with a smaller peak than this (kVA) are pole-mounted.
POLE_MAX_KVA = 200.0
RMU_SWITCH_RATING_A = 630


def p_max_kw(rating_a: float) -> float:
    """Feeder capacity ``sqrt(3) x 10 kV x I x pf`` in kW."""
    return math.sqrt(3.0) * NOMINAL_KV * rating_a * POWER_FACTOR


@dataclass
class Transformer:
    """A distribution room or pole transformer and the customers it serves."""

    index: int
    members: np.ndarray  # customer row indices
    xy: np.ndarray  # metric location
    tap: int  # street graph node
    peak_kw: float
    kind: str  # distribution_room | pole_transformer
    kva: int
    id: str = ""


@dataclass
class Substation:
    index: int
    xy: np.ndarray
    tap: int
    building: int  # customer row whose site it takes
    id: str = ""
    name: str = ""
    peak_kw: float = 0.0  # coincident peak of its feeders


@dataclass
class Ring:
    """An open ring: tour from ``start`` substation to ``end`` substation."""

    start: int
    end: int
    transformers: list[int]
    cut: int = 0  # transformers[:cut] -> feeder A, the rest -> feeder B
    rating_a: int = 0
    loading: tuple[float, float] = (0.0, 0.0)
    cable: str = ""  # trunk cable type (catalogue name), set by design_rings


@dataclass
class Rmu:
    id: str
    xy: np.ndarray
    tap: int
    ways: list[list[int]]  # tee ways: each a list of transformer indices (spur order)
    key: tuple = ()  # the ways as transformer ids: the RMU's identity across layouts
    remote: bool = False
    fault_indicator: bool = True


@dataclass
class Feeder:
    id: str
    substation: int
    rmus: list[Rmu]
    rating_a: int
    peak_kw: float = 0.0
    substation_id: str = ""


@dataclass
class Network:
    """Everything the builder needs to write the grid layers (metric CRS)."""

    substations: list[Substation]
    transformers: list[Transformer]
    rings: list[Ring]
    feeders: list[Feeder]
    ties: list[tuple[str, str, str, str]]  # (switch id, rmu a, rmu b, kind)
    nodes: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    switches: list[dict] = field(default_factory=list)
    supply_node: np.ndarray | None = None  # per customer: node id


@dataclass(frozen=True)
class Params:
    """Tunable design parameters (defaults tuned on Monaco)."""

    n_substations: int = 3
    max_area_extent_m: float = 450.0
    boundary_ratio: float = 0.75
    rmu_reach_m: float = 350.0
    max_tee_ways: int = 3
    max_spur_length: int = 4
    remote_share: float = 1.0 / 3.0
    fault_indicator_share: float = 0.85


# ---------------------------------------------------------------------------
# 1. transformer areas


def transformer_areas(
    xy: np.ndarray,
    load: np.ndarray,
    demand_kw: np.ndarray,
    *,
    max_kva: float,
    max_extent_m: float,
) -> list[np.ndarray]:
    """Split customers into compact areas whose coincident peak fits ``max_kva``.

    Parameters
    ----------
    xy
        ``(n, 2)`` metric points.
    load
        ``(n, T)`` load time series (kW) per customer.
    demand_kw
        Peak per customer (kW), the weights for the load-balanced split.
    """
    areas: list[np.ndarray] = []
    stack = [np.arange(len(xy))]
    while stack:
        idx = stack.pop()
        pts = xy[idx]
        span = pts.max(axis=0) - pts.min(axis=0)
        extent = float(np.hypot(*span))
        peak_kva = float(load[idx].sum(axis=0).max()) / POWER_FACTOR
        if len(idx) == 1 or (peak_kva <= max_kva and extent <= max_extent_m):
            areas.append(np.sort(idx))
            continue
        axis = int(np.argmax(span))
        order = idx[np.lexsort((idx, xy[idx, axis]))]
        if peak_kva > max_kva:
            w = np.cumsum(demand_kw[order])
            cut = int(np.searchsorted(w, w[-1] / 2.0))
        else:
            mid = (pts[:, axis].min() + pts[:, axis].max()) / 2.0
            cut = int(np.searchsorted(xy[order, axis], mid))
        cut = min(max(cut, 1), len(order) - 1)
        # push the second half first so the first half is split first (stable ids)
        stack.append(order[cut:])
        stack.append(order[:cut])
    areas.sort(key=lambda a: int(a[0]))
    return areas


def _pick_size(peak_kva: float, sizes: tuple[int, ...]) -> int:
    for size in sizes:
        if peak_kva <= MAX_TRANSFORMER_LOADING * size:
            return size
    return sizes[-1]


def make_transformers(
    cust_xy: np.ndarray,
    load: np.ndarray,
    demand_kw: np.ndarray,
    streets: StreetGraph,
    params: Params,
) -> list[Transformer]:
    """Distribution rooms and pole transformers with their customers."""
    areas = transformer_areas(
        cust_xy,
        load,
        demand_kw,
        max_kva=MAX_TRANSFORMER_LOADING * ROOM_SIZES_KVA[-1],
        max_extent_m=params.max_area_extent_m,
    )
    out: list[Transformer] = []
    for i, members in enumerate(areas):
        series = load[members].sum(axis=0)
        peak_kw = float(series.max())
        peak_kva = peak_kw / POWER_FACTOR
        w = demand_kw[members]
        centre = (cust_xy[members] * w[:, None]).sum(axis=0) / w.sum()
        # the room sits in the building nearest the load centre
        d = np.hypot(*(cust_xy[members] - centre).T)
        site = members[int(np.argmin(d))]
        if peak_kva <= POLE_MAX_KVA:
            kind, kva = "pole_transformer", _pick_size(peak_kva, POLE_SIZES_KVA)
        else:
            kind, kva = "distribution_room", _pick_size(peak_kva, ROOM_SIZES_KVA)
        xy = cust_xy[site].copy()
        if kind == "pole_transformer":
            # poles stand by the street, not inside a building
            tap, _ = streets.nearest(centre)
            street_xy = streets.xy[int(tap[0])]
            xy = _towards(street_xy, centre, 6.0)
        tap, _ = streets.nearest(xy)
        out.append(Transformer(i, members, xy, int(tap[0]), peak_kw, kind, kva))
    return out


def _towards(a: np.ndarray, b: np.ndarray, dist: float) -> np.ndarray:
    v = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    n = float(np.hypot(*v))
    if n < 1e-9:
        return np.asarray(a, dtype=float) + np.array([dist, 0.0])
    return np.asarray(a, dtype=float) + v / n * min(dist, n)


# ---------------------------------------------------------------------------
# 2. substations


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.lexsort((np.arange(len(values)), values))
    cum = np.cumsum(weights[order])
    return float(values[order][int(np.searchsorted(cum, cum[-1] / 2.0))])


def load_strips(xy: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Label points with ``k`` strips across the principal axis, of equal load.

    Cities along a coast or a valley are long: cutting along their main axis
    gives each substation a similar share of the load (k-means would give the
    dense centre one substation and the sparse outskirts two).
    """
    k = max(1, min(k, len(xy)))
    centred = xy - (xy * weights[:, None]).sum(axis=0) / weights.sum()
    cov = (centred * weights[:, None]).T @ centred
    _vals, vecs = np.linalg.eigh(cov)
    axis = vecs[:, -1]
    if axis[0] < 0 or (axis[0] == 0 and axis[1] < 0):
        axis = -axis  # a sign convention, so the order is reproducible
    proj = centred @ axis
    order = np.lexsort((np.arange(len(xy)), proj))
    cum = np.cumsum(weights[order])
    label = np.empty(len(xy), dtype=np.int64)
    label[order] = np.minimum((cum - weights[order] / 2) / cum[-1] * k, k - 1).astype(np.int64)
    return label


def kmeans(
    xy: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator, iters: int = 100
) -> np.ndarray:
    """Weighted k-means (k-means++ seeding from ``rng``); centres sorted by x."""
    k = min(k, len(xy))
    first = int(rng.choice(len(xy), p=weights / weights.sum()))
    centres = [xy[first]]
    for _ in range(1, k):
        d2 = np.min([np.sum((xy - c) ** 2, axis=1) for c in centres], axis=0) * weights
        total = d2.sum()
        if total <= 0:
            break
        centres.append(xy[int(rng.choice(len(xy), p=d2 / total))])
    c = np.array(centres, dtype=float)
    for _ in range(iters):
        d = np.linalg.norm(xy[:, None, :] - c[None, :, :], axis=2)
        lab = np.argmin(d, axis=1)
        new = np.array(
            [
                (xy[lab == j] * weights[lab == j, None]).sum(axis=0) / weights[lab == j].sum()
                if np.any(lab == j)
                else c[j]
                for j in range(len(c))
            ]
        )
        if np.allclose(new, c):
            break
        c = new
    return c[np.lexsort((c[:, 1], c[:, 0]))]


def place_substations(
    transformers: list[Transformer],
    cust_xy: np.ndarray,
    footprint_m2: np.ndarray,
    importance: np.ndarray,
    streets: StreetGraph,
    params: Params,
    rng: np.random.Generator,
) -> list[Substation]:
    """Sites for the 110/10 kV substations (synthetic, near load centres)."""
    txy = np.array([t.xy for t in transformers])
    w = np.array([t.peak_kw for t in transformers])
    label = load_strips(txy, w, params.n_substations)
    # candidate sites: large ordinary buildings (an indoor substation)
    big = np.flatnonzero((footprint_m2 >= 250.0) & (importance == "normal"))
    if len(big) < params.n_substations:
        big = np.arange(len(cust_xy))
    # the substation takes the candidate site with the least load-weighted
    # distance to its area's transformers (a weighted median: drawn to where
    # the load is dense, not to the middle of a spread-out area)
    out: list[Substation] = []
    taken: set[int] = set()
    for i in range(int(label.max()) + 1):
        mine = label == i
        cand = np.array([b for b in big if int(b) not in taken])
        # only the candidates nearest the strip's weighted median are scored
        med = np.array([_weighted_median(txy[mine, k], w[mine]) for k in (0, 1)])
        near = np.argsort(np.hypot(*(cust_xy[cand] - med).T), kind="mergesort")[:400]
        cand = cand[np.sort(near)]
        d = np.linalg.norm(cust_xy[cand][:, None, :] - txy[mine][None, :, :], axis=2)
        cost = d @ w[mine]
        site = int(cand[int(np.argmin(cost))])
        taken.add(site)
        tap, _ = streets.nearest(cust_xy[site])
        out.append(Substation(i, cust_xy[site].copy(), int(tap[0]), site))
    return out


# ---------------------------------------------------------------------------
# 3. rings


def _split_equal(order: list[int], weight: dict[int, float], n: int) -> list[list[int]]:
    """Cut a sequence into ``n`` consecutive parts of about equal weight."""
    total = sum(weight[i] for i in order)
    parts: list[list[int]] = [[] for _ in range(n)]
    acc = 0.0
    for i in order:
        part = min(int(acc / total * n), n - 1) if total > 0 else 0
        parts[part].append(i)
        acc += weight[i]
    return [p for p in parts if p]


def _angle_sweep(items: list[int], xy: dict[int, np.ndarray], centre: np.ndarray) -> list[int]:
    """Items sorted by angle around ``centre``, starting after the widest gap."""
    if len(items) <= 1:
        return list(items)
    ang = {i: math.atan2(xy[i][1] - centre[1], xy[i][0] - centre[0]) for i in items}
    srt = sorted(items, key=lambda i: (ang[i], i))
    a = np.array([ang[i] for i in srt])
    gaps = np.diff(np.append(a, a[0] + 2 * math.pi))
    start = (int(np.argmax(gaps)) + 1) % len(srt)
    return srt[start:] + srt[:start]


def group_rings(
    transformers: list[Transformer],
    substations: list[Substation],
    sub_dist: np.ndarray,
    target_kw: float,
    params: Params,
) -> list[Ring]:
    """Assign transformers to rings (within one substation or between two).

    ``sub_dist[s, t]`` is the street distance (m) from substation ``s`` to
    transformer ``t``; ``target_kw`` is one feeder's design load.
    """
    n_sub = len(substations)
    weight = {t.index: t.peak_kw for t in transformers}
    xy = {t.index: t.xy for t in transformers}
    order = np.argsort(sub_dist, axis=0, kind="mergesort")
    nearest = order[0]
    second = order[1] if n_sub > 1 else order[0]
    cols = np.arange(sub_dist.shape[1])
    d1 = sub_dist[nearest, cols]
    d2 = sub_dist[second, cols]
    ratio = np.where(d2 > 0, d1 / np.maximum(d2, 1e-9), 0.0)

    rings: list[Ring] = []
    own: dict[int, list[int]] = {s: [] for s in range(n_sub)}
    boundary: dict[tuple[int, int], list[int]] = {}
    for t in transformers:
        i = t.index
        if n_sub > 1 and ratio[i] >= params.boundary_ratio:
            pair = (int(min(nearest[i], second[i])), int(max(nearest[i], second[i])))
            boundary.setdefault(pair, []).append(i)
        else:
            own[int(nearest[i])].append(i)
    # make sure neighbouring substations are tied: widen the boundary of the
    # closest pairs until each has at least one ring's worth of load
    if n_sub > 1:
        pairs = sorted(
            {(int(min(a, b)), int(max(a, b))) for a, b in zip(nearest, second, strict=True) if a != b}
        )
        for pair in pairs:
            members = boundary.setdefault(pair, [])
            if sum(weight[i] for i in members) >= 1.6 * target_kw:
                continue
            a, b = pair
            cand = [
                t.index
                for t in transformers
                if {int(nearest[t.index]), int(second[t.index])} == {a, b}
                and t.index not in members
            ]
            cand.sort(key=lambda i: (-ratio[i], i))
            for i in cand:
                if sum(weight[j] for j in members) >= 1.6 * target_kw:
                    break
                members.append(i)
                own[int(nearest[i])].remove(i)
        for pair in sorted(boundary):
            members = boundary[pair]
            load = sum(weight[i] for i in members)
            if load < 1.2 * target_kw or len(members) < 2:
                for i in members:
                    own[int(nearest[i])].append(i)
                continue
            a, b = pair
            axis = substations[b].xy - substations[a].xy
            normal = np.array([-axis[1], axis[0]])
            srt = sorted(members, key=lambda i: (float(np.dot(xy[i], normal)), i))
            n = max(1, int(round(load / (2.0 * target_kw))))
            for part in _split_equal(srt, weight, n):
                rings.append(Ring(a, b, part))
    for s in range(n_sub):
        members = sorted(own[s])
        if not members:
            continue
        load = sum(weight[i] for i in members)
        n = max(1, int(round(load / (2.0 * target_kw))))
        swept = _angle_sweep(members, xy, substations[s].xy)
        for part in _split_equal(swept, weight, n):
            rings.append(Ring(s, s, part))
    # a ring needs a transformer on each side of its tie
    rings = _merge_tiny(rings, xy)
    return rings


def _merge_tiny(rings: list[Ring], xy: dict[int, np.ndarray]) -> list[Ring]:
    while True:
        small = [r for r in rings if len(r.transformers) < 2]
        if not small or len(rings) == 1:
            return rings
        r = small[0]
        rest = [o for o in rings if o is not r]
        p = xy[r.transformers[0]]
        best = min(
            rest,
            key=lambda o: (min(float(np.hypot(*(xy[i] - p))) for i in o.transformers), rings.index(o)),
        )
        best.transformers.extend(r.transformers)
        rings = rest


def tour(dist: np.ndarray, start: int, end: int, stops: list[int]) -> list[int]:
    """Open path ``start -> stops (some order) -> end`` that is short.

    Nearest neighbour, then 2-opt with fixed end points.  ``dist`` is a full
    (symmetric) distance matrix over ``[start, end, *stops]`` positions.
    """
    remaining = list(stops)
    path = [start]
    while remaining:
        last = path[-1]
        nxt = min(remaining, key=lambda j: (dist[last, j], j))
        path.append(nxt)
        remaining.remove(nxt)
    path.append(end)
    improved = True
    while improved:
        improved = False
        for i in range(1, len(path) - 2):
            for j in range(i + 1, len(path) - 1):
                a, b, c, d = path[i - 1], path[i], path[j], path[j + 1]
                delta = dist[a, c] + dist[b, d] - dist[a, b] - dist[c, d]
                if delta < -1e-6:
                    path[i : j + 1] = path[i : j + 1][::-1]
                    improved = True
    return path[1:-1]


def order_ring(
    ring: Ring, transformers: list[Transformer], substations: list[Substation], streets: StreetGraph
) -> None:
    """Order the ring's transformers along a short street tour (in place)."""
    taps = [substations[ring.start].tap, substations[ring.end].tap] + [
        transformers[i].tap for i in ring.transformers
    ]
    uniq = sorted(set(taps))
    dist, _ = streets.distances(np.array(uniq))
    pos = {t: k for k, t in enumerate(uniq)}
    rows = np.array([pos[t] for t in taps])
    full = dist[np.ix_(rows, np.array(taps))]
    stops = list(range(2, len(taps)))
    path = tour(full, 0, 1, stops)
    ring.transformers = [ring.transformers[p - 2] for p in path]


def cut_ring(ring: Ring, load: dict[int, np.ndarray]) -> None:
    """Place the tie where the two halves' coincident peaks are most even."""
    series = np.array([load[i] for i in ring.transformers])
    prefix = np.cumsum(series, axis=0)
    total = prefix[-1]
    best = None
    for k in range(1, len(ring.transformers)):
        a = float(prefix[k - 1].max())
        b = float((total - prefix[k - 1]).max())
        key = (max(a, b), k)
        if best is None or key < best:
            best = key
    ring.cut = best[1] if best else 1


def rate_ring(ring: Ring, load: dict[int, np.ndarray]) -> None:
    """Smallest standard rating keeping both feeders at or below 85 %."""
    a = float(np.sum([load[i] for i in ring.transformers[: ring.cut]], axis=0).max())
    b = float(np.sum([load[i] for i in ring.transformers[ring.cut :]], axis=0).max())
    for rating in FEEDER_RATINGS_A:
        if max(a, b) <= MAX_FEEDER_LOADING * p_max_kw(rating):
            break
    ring.rating_a = rating
    ring.loading = (a / p_max_kw(rating), b / p_max_kw(rating))


def split_overloaded(
    rings: list[Ring], load: dict[int, np.ndarray], xy: dict[int, np.ndarray]
) -> list[Ring]:
    """Rings whose halves exceed the largest rating are split in two."""
    out: list[Ring] = []
    for ring in rings:
        rate_ring(ring, load)
        if max(ring.loading) <= MAX_FEEDER_LOADING or len(ring.transformers) < 4:
            out.append(ring)
            continue
        half = len(ring.transformers) // 2
        out.append(Ring(ring.start, ring.end, ring.transformers[:half]))
        out.append(Ring(ring.start, ring.end, ring.transformers[half:]))
    return out


# ---------------------------------------------------------------------------
# 4. RMUs along each feeder


def group_rmus(
    chain: list[int],
    transformers: list[Transformer],
    streets: StreetGraph,
    params: Params,
) -> list[list[list[int]]]:
    """Consecutive transformers -> RMUs; each RMU a list of tee ways.

    A tee way is one distribution room, or a spur of up to
    ``max_spur_length`` pole transformers in a row.
    """
    if not chain:
        return []
    taps = sorted({transformers[i].tap for i in chain})
    dist, _ = streets.distances(np.array(taps))
    row = {t: k for k, t in enumerate(taps)}

    def d(i: int, j: int) -> float:
        return float(dist[row[transformers[i].tap], transformers[j].tap])

    rmus: list[list[list[int]]] = []
    current: list[list[int]] = []
    anchor = chain[0]
    for i in chain:
        t = transformers[i]
        pole = t.kind == "pole_transformer"
        if current:
            last_way = current[-1]
            last = transformers[last_way[-1]]
            if (
                pole
                and last.kind == "pole_transformer"
                and len(last_way) < params.max_spur_length
                and d(last_way[-1], i) <= 2.5 * params.rmu_reach_m
            ):
                last_way.append(i)
                continue
            if len(current) < params.max_tee_ways and d(anchor, i) <= params.rmu_reach_m:
                current.append([i])
                continue
            rmus.append(current)
        current = [[i]]
        anchor = i
    if current:
        rmus.append(current)
    return rmus


def rmu_site(
    ways: list[list[int]], transformers: list[Transformer], streets: StreetGraph
) -> tuple[np.ndarray, int]:
    """RMU on the street next to its first transformer (a kiosk on the pavement)."""
    first = transformers[ways[0][0]]
    tap = first.tap
    xy = _towards(streets.xy[tap], first.xy, 5.0)
    return xy, tap


def choose_remote(n: int, favoured: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Pick ``round(n * share)`` RMUs to be remote-controlled, tie RMUs favoured."""
    k = int(round(n * share))
    if n == 0 or k == 0:
        return np.zeros(n, dtype=bool)
    w = np.where(favoured, 3.0, 1.0)
    pick = rng.choice(n, size=min(k, n), replace=False, p=w / w.sum())
    out = np.zeros(n, dtype=bool)
    out[pick] = True
    return out


# ---------------------------------------------------------------------------
# 3b. electrical design of the rings


def ring_gaps(ring: Ring, transformers: list[Transformer], substations: list[Substation], streets: StreetGraph) -> np.ndarray:
    """Street lengths (m): start substation -> first transformer -> ... -> last -> end substation."""
    taps = [substations[ring.start].tap, *(transformers[i].tap for i in ring.transformers), substations[ring.end].tap]
    uniq = sorted(set(taps))
    dist, _ = streets.distances(np.array(uniq))
    row = {t: k for k, t in enumerate(uniq)}
    return np.array([float(dist[row[a], b]) for a, b in zip(taps[:-1], taps[1:], strict=True)])


def _split(ring: Ring, cut: int, sub_dist: np.ndarray) -> list[Ring]:
    """Two rings from one: the first keeps the start substation, the second the end one; each
    closes at the substation nearest (by street) to its new end."""
    first, second = ring.transformers[:cut], ring.transformers[cut:]
    end_a = int(np.argmin(sub_dist[:, first[-1]]))
    start_b = int(np.argmin(sub_dist[:, second[0]]))
    return [Ring(ring.start, end_a, first), Ring(start_b, ring.end, second)]


def rmu_units(
    rmus: list[Rmu], transformers: list[Transformer], load: dict[int, np.ndarray]
) -> tuple[list[Transformer], dict[int, np.ndarray]]:
    """Each RMU with everything behind its tee ways as one ring point (index = position in ``rmus``).

    The ring functions above then group, order and cut RMUs as they do
    transformers; returns the points and their load series (kW).
    """
    units: list[Transformer] = []
    unit_load: dict[int, np.ndarray] = {}
    for k, rmu in enumerate(rmus):
        members = [i for way in rmu.ways for i in way]
        unit_load[k] = np.sum([load[i] for i in members], axis=0)
        everyone = np.concatenate([transformers[i].members for i in members])
        units.append(Transformer(k, everyone, rmu.xy, rmu.tap, float(unit_load[k].max()), "rmu", 0, rmu.id))
    return units, unit_load


def design_rings(
    rings: list[Ring],
    transformers: list[Transformer],
    substations: list[Substation],
    streets: StreetGraph,
    sub_dist: np.ndarray,
    load: dict[int, np.ndarray],
) -> list[Ring]:
    """Trunk cable and tie of every ring by the rules of :mod:`gis.city.electrical`.

    ``transformers`` are the ring points (transformers or RMU units),
    ``sub_dist[s, i]`` the street distance (m) from substation ``s`` to point
    ``i``, ``load`` their load series (kW). A ring that no YJV22 size can
    serve (too heavy or too long for the thermal or voltage-drop rule, or too
    heavy for N-1) is split into two rings of about equal peak, each re-toured
    and designed again; a ring of fewer than four points that still fails
    gets the best the rules allow (logged). Returns the rings in the given
    order, split parts in place.
    """
    out: list[Ring] = []
    queue = list(rings)
    while queue:
        ring = queue.pop(0)
        series = np.array([load[i] for i in ring.transformers])
        gaps = ring_gaps(ring, transformers, substations, streets)
        choice = _ring_choice(gaps, series, ring=ring, substations=substations)
        if choice is None and len(ring.transformers) >= 4:
            parts = _split(ring, el.split_point(series), sub_dist)
            for part in parts:
                order_ring(part, transformers, substations, streets)
            queue[0:0] = parts
            continue
        _apply_choice(ring, choice or _last_resort(gaps, series, ring=ring), series)
        out.append(ring)
    return out


def _ring_choice(gaps: np.ndarray, series: np.ndarray, *, ring: Ring, substations: list[Substation]) -> el.RingChoice | None:
    """Every rule, else N-1 kept thermally only on the largest cable (a long ring whose transfers go
    in parts: the largest cable keeps those parts as big as it can; logged), else None."""
    choice = el.choose_ring(gaps, series)
    if choice is not None:
        return choice
    if el.choose_ring(gaps, series, transfer_drop_pct=math.inf) is None:
        return None
    log.info(
        "ring %s-%s (%.1f km of street): a whole-ring transfer drops more than %.0f %%; largest cable, transfers in parts",
        substations[ring.start].id, substations[ring.end].id, gaps.sum() / 1e3, el.MAX_TRANSFER_DROP_PCT,
    )
    return el.best_cut(gaps, series, type_name=el.TRUNK_TYPES[-1])


def _last_resort(gaps: np.ndarray, series: np.ndarray, *, ring: Ring) -> el.RingChoice:
    """A ring too small to split that breaks the rules: normal-state rules only, else the largest cable."""
    choice = el.choose_ring(gaps, series, n_minus_1=False)
    if choice is None:
        cut = max(1, len(series) // 2)
        peaks = (float(series[:cut].sum(axis=0).max()), float(series[cut:].sum(axis=0).max()))
        choice = el.RingChoice(el.TRUNK_TYPES[-1], cut, peaks)
    log.warning("ring of points %s: no trunk size meets every rule; %s", ring.transformers, choice.type_name)
    return choice


def _apply_choice(ring: Ring, choice: el.RingChoice, series: np.ndarray) -> None:
    """Cut, cable, rating (A) and feeder loadings (share of capacity) of a designed ring."""
    ring.cut, ring.cable = choice.cut, choice.type_name
    ring.rating_a = int(round(el.ampacity_a(choice.type_name)))
    cap = p_max_kw(ring.rating_a)
    ring.loading = (choice.peaks_kw[0] / cap, choice.peaks_kw[1] / cap)
