"""Electrical design rules of the demo city's 10 kV network.

Pure functions on load time series and street lengths; no grid objects.

* **Trunk cables** (feeder heads, ring cables, the tie cable) are YJV22
  8.7/15 kV copper cables, one size per ring. A feeder passes when its peak
  current is at most 85 % of the cable's ampacity (thermal rule) and the
  voltage drop from the substation busbar to its far end stays within 5 % of
  nominal at every time step (voltage-drop rule).
* **N-1 (tie headroom)**: either feeder of a ring can carry the whole ring
  through the tie: peak current at most 95 % of the ampacity (losses and
  the lower voltage of a transfer add a few per cent) and, where a
  size can achieve it, the drop along the whole ring within 8 % (the busbar
  runs at 1.03 pu, the limit is 0.93 pu: two points are left for tee cables,
  spurs and the approximations here). Long rings whose whole-ring transfer
  drops more than that on any size keep the thermal part of the rule and get
  the largest size: they are transferred in parts, as large as it allows.
* The smallest YJV22 size meeting all rules is chosen; a ring that no size
  satisfies (normal-state rules, N-1 thermal) is split into two rings (see
  ``gis.city.network.design_rings``).
* **Tee cables** to distribution rooms are YJV22 3x70; **overhead spurs** to
  pole transformers are JKLYJ-10/70 aerial cable in the built-up area, LGJ-70/10
  bare conductor on long spans (open country).
* **Busbars** are rated from the substation's coincident peak current (at
  most 95 % of a standard rating), the substation transformers from its
  coincident peak apparent power (two or more, all but one carrying the peak:
  N-1 firm capacity).

Units: lengths m, powers kW (apparent kVA), currents A, voltage drop % of
nominal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gis.catalogue import LINE_TYPES

NOMINAL_KV = 10.0
POWER_FACTOR = 0.9
#: Voltage set-point of the substations' 10 kV busbars (pu).
SOURCE_VM_PU = 1.03
#: Peak current of a feeder in the normal state, share of its trunk ampacity.
MAX_TRUNK_LOADING = 0.85
#: Voltage drop from the busbar to a feeder's far end in the normal state (% of nominal).
MAX_DROP_PCT = 5.0
#: Whole ring carried by one feeder through its tie: share of ampacity, and drop (%).
MAX_TRANSFER_LOADING = 0.95
MAX_TRANSFER_DROP_PCT = 8.0
#: Rings are grouped so that their coincident peak is about this share of the
#: largest trunk cable's ampacity (either feeder can then take the whole ring).
RING_DESIGN_LOADING = 0.8
#: Trunk cable sizes, smallest first.
TRUNK_TYPES: tuple[str, ...] = tuple(
    sorted((n for n in LINE_TYPES if n.startswith("YJV22")), key=lambda n: LINE_TYPES[n].rating_a)
)
TEE_CABLE_TYPE = "YJV22-8.7/15 3x70"
#: Overhead spurs: insulated aerial cable in town, bare ACSR on spans at least this long (m).
AERIAL_TYPE = "JKLYJ-10/70"
BARE_TYPE = "LGJ-70/10"
BARE_SPAN_M = 200.0
#: Standard busbar ratings (A) and the share of them the coincident peak may use.
BUSBAR_RATINGS_A = (1250, 1600, 2000, 2500, 3150, 4000)
MAX_BUSBAR_LOADING = 0.95
#: Standard HV/MV transformer sizes (kVA); a substation has two or more, and
#: all but one carry its peak (N-1 firm capacity).
SUBSTATION_TRANSFORMERS_KVA = (20000, 31500, 40000, 50000, 63000)
MAX_SUBSTATION_TRANSFORMERS = 4


def current_a(p_kw: np.ndarray | float, *, kv: float = NOMINAL_KV, pf: float = POWER_FACTOR) -> np.ndarray:
    """Line current (A) of a three-phase load ``p_kw`` at ``kv`` and power factor ``pf``."""
    return np.asarray(p_kw, dtype=float) / (math.sqrt(3.0) * kv * pf)


def ampacity_a(type_name: str) -> float:
    """Rated current (A) of a catalogue type."""
    return float(LINE_TYPES[type_name].rating_a)


def downstream_kw(series: np.ndarray) -> np.ndarray:
    """Load (kW) carried by each trunk segment of a radial chain.

    ``series`` is ``(n, T)``: the load of the n points in order from the
    feeder head; segment ``k`` (feeding point ``k``) carries points ``k..n-1``.
    """
    s = np.asarray(series, dtype=float)
    return np.cumsum(s[::-1], axis=0)[::-1]


def drop_pct(
    lengths_m: np.ndarray, series: np.ndarray, *, type_name: str, kv: float = NOMINAL_KV, pf: float = POWER_FACTOR
) -> np.ndarray:
    """Voltage drop (% of nominal) at the far end of a radial chain, per time step.

    ``lengths_m[k]`` is the trunk length (m) feeding point ``k``; ``series``
    ``(n, T)`` the points' loads (kW). The usual approximation
    ``dU/U = sum (P R + Q X) / U^2`` with Q from the power factor.
    """
    t = LINE_TYPES[type_name]
    p_mw = downstream_kw(series) / 1e3
    q_mvar = p_mw * math.tan(math.acos(pf))
    km = np.asarray(lengths_m, dtype=float)[:, None] / 1e3
    return 100.0 * np.sum(km * (t.r_ohm_per_km * p_mw + t.x_ohm_per_km * q_mvar), axis=0) / kv**2


def chain_ok(
    lengths_m: np.ndarray, series: np.ndarray, *, type_name: str, max_loading: float, max_drop_pct: float
) -> bool:
    """Thermal and voltage-drop rules for one radial chain on one cable type."""
    if len(series) == 0:
        return True
    head = float(np.asarray(series, dtype=float).sum(axis=0).max())
    if float(current_a(head)) > max_loading * ampacity_a(type_name):
        return False
    return float(drop_pct(lengths_m, series, type_name=type_name).max()) <= max_drop_pct


def smallest_trunk(
    lengths_m: np.ndarray,
    series: np.ndarray,
    *,
    max_loading: float = MAX_TRUNK_LOADING,
    max_drop_pct: float = MAX_DROP_PCT,
) -> str | None:
    """Smallest YJV22 size on which one radial chain meets the thermal and voltage-drop rules, or None."""
    for type_name in TRUNK_TYPES:
        if chain_ok(lengths_m, series, type_name=type_name, max_loading=max_loading, max_drop_pct=max_drop_pct):
            return type_name
    return None


@dataclass(frozen=True)
class RingChoice:
    """Trunk cable and tie position chosen for a ring."""

    type_name: str
    cut: int  # points[:cut] -> feeder A (from the start), the rest -> feeder B (from the end)
    peaks_kw: tuple[float, float]


def halves(gaps_m: np.ndarray, series: np.ndarray, cut: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The two feeders of a ring cut before point ``cut``, each as (lengths, series) from its head.

    ``gaps_m`` has ``n + 1`` street lengths: start substation -> point 0,
    point k-1 -> point k, point n-1 -> end substation.
    """
    g = np.asarray(gaps_m, dtype=float)
    a = (g[:cut], series[:cut])
    b = (g[cut + 1 :][::-1], series[cut:][::-1])
    return a, b


def transfer_ok(
    gaps_m: np.ndarray, series: np.ndarray, *, type_name: str, max_drop_pct: float = MAX_TRANSFER_DROP_PCT
) -> bool:
    """N-1: the whole ring fed from either end stays within the transfer limits (drop in %)."""
    g = np.asarray(gaps_m, dtype=float)
    s = np.asarray(series, dtype=float)
    return all(
        chain_ok(lengths, loads, type_name=type_name, max_loading=MAX_TRANSFER_LOADING, max_drop_pct=max_drop_pct)
        for lengths, loads in ((g[:-1], s), (g[1:][::-1], s[::-1]))
    )


def choose_ring(
    gaps_m: np.ndarray,
    series: np.ndarray,
    *,
    n_minus_1: bool = True,
    transfer_drop_pct: float = MAX_TRANSFER_DROP_PCT,
) -> RingChoice | None:
    """Smallest trunk type and the most even tie position meeting every rule, or None.

    ``series`` ``(n, T)`` are the loads (kW) of the ring's points in tour
    order, ``gaps_m`` the ``n + 1`` street lengths between them (see
    :func:`halves`). Among the feasible cuts the one with the smallest larger
    half-peak wins (ties: the first). ``n_minus_1=False`` drops the transfer
    rule; ``transfer_drop_pct`` is its voltage-drop limit (% of nominal; ``inf``:
    thermal only).
    """
    s = np.asarray(series, dtype=float)
    for type_name in TRUNK_TYPES:
        if n_minus_1 and not transfer_ok(gaps_m, s, type_name=type_name, max_drop_pct=transfer_drop_pct):
            continue
        choice = best_cut(gaps_m, s, type_name=type_name)
        if choice is not None:
            return choice
    return None


def best_cut(gaps_m: np.ndarray, series: np.ndarray, *, type_name: str) -> RingChoice | None:
    """The most even tie position at which both feeders meet the normal-state rules on ``type_name``."""
    best: tuple[float, int, float, float] | None = None
    for cut in range(1, len(series)):
        feeders = halves(gaps_m, series, cut)
        if not all(
            chain_ok(lengths, loads, type_name=type_name, max_loading=MAX_TRUNK_LOADING, max_drop_pct=MAX_DROP_PCT)
            for lengths, loads in feeders
        ):
            continue
        pa, pb = (float(loads.sum(axis=0).max()) for _lengths, loads in feeders)
        key = (max(pa, pb), cut, pa, pb)
        if best is None or key < best:
            best = key
    return None if best is None else RingChoice(type_name, best[1], (best[2], best[3]))


def split_point(series: np.ndarray) -> int:
    """Where to cut a ring's points into two rings of about equal peak (index of the second's first)."""
    peaks = np.asarray(series, dtype=float).max(axis=1)
    cum = np.cumsum(peaks)
    k = int(np.searchsorted(cum, cum[-1] / 2.0)) + 1
    return min(max(k, 2), len(peaks) - 2)


def spur_type(span_m: float) -> str:
    """Overhead conductor of a spur span: bare ACSR on long (rural) spans, else aerial cable."""
    return BARE_TYPE if span_m >= BARE_SPAN_M else AERIAL_TYPE


def busbar_rating_a(peak_kw: float, *, kv: float = NOMINAL_KV, pf: float = POWER_FACTOR) -> int:
    """Smallest standard busbar rating (A) keeping the coincident peak at or below 95 %.

    Raises ValueError beyond the largest (the substation needs more busbar sections).
    """
    amps = float(current_a(peak_kw, kv=kv, pf=pf))
    for rating in BUSBAR_RATINGS_A:
        if amps <= MAX_BUSBAR_LOADING * rating:
            return rating
    raise ValueError(f"a coincident peak of {amps:.0f} A exceeds every standard busbar rating")


def substation_transformers(peak_kw: float, *, pf: float = POWER_FACTOR) -> tuple[int, int]:
    """Fewest, then smallest, HV/MV transformers ``(count, kVA each)`` of which all but one carry the peak.

    Raises ValueError when even the largest set cannot (the load needs another substation).
    """
    kva = peak_kw / pf
    for count in range(2, MAX_SUBSTATION_TRANSFORMERS + 1):
        for size in SUBSTATION_TRANSFORMERS_KVA:
            if kva <= (count - 1) * size:
                return count, size
    raise ValueError(f"a peak of {kva:.0f} kVA exceeds {MAX_SUBSTATION_TRANSFORMERS} x {SUBSTATION_TRANSFORMERS_KVA[-1]} kVA")
