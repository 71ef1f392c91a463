"""The planning clock and everything that depends on the hour: loads, energy, peak hours.

Time is cut into 15-minute *slots* (the resolution of the load profiles)
counted from ``origin`` = local midnight of the day of ``now`` in the grid's
time zone. Candidate starts are slot indices that are multiples of
``time_step_min / 15``. Loads (kW) come from ``demand_kw`` x profile factor of
the slot's local day type and time of day, exactly as :meth:`gis.Grid.customer_load_kw`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from gis import Grid
from gis.format import DAY_TYPES
from planning.outages.fixed import FixedOutage, FixedSet
from planning.outages.flows import FlowChecker
from planning.outages.options import PlanOptions
from planning.outages.repeats import RepeatHistory
from planning.reliability import Interruption

SLOT_MIN = 15
SLOTS_PER_DAY = 96
_PEAK_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_peak_hours(text: str) -> np.ndarray | None:
    """``"HH:MM-HH:MM;HH:MM-HH:MM"`` as a 96-slot boolean mask (ranges may wrap midnight); None if malformed."""
    mask = np.zeros(SLOTS_PER_DAY, dtype=bool)
    for part in str(text).split(";"):
        if not part.strip():
            continue
        m = _PEAK_RE.match(part)
        if not m:
            return None
        a = int(m[1]) * 60 + int(m[2])
        b = int(m[3]) * 60 + int(m[4])
        if a > 1440 or b > 1440:
            return None
        sa, sb = a // SLOT_MIN, -(-b // SLOT_MIN)
        if a < b:
            mask[sa:sb] = True
        else:
            mask[sa:] = True
            mask[:sb] = True
    return mask


@dataclass
class Timeline:
    """Slots, profile factors and customer arrays for one planning run (see module doc)."""

    grid: Grid
    options: PlanOptions
    now: datetime
    history: tuple[Interruption, ...] = ()  # executed interruptions (the repeated-interruption rule)
    fixed: tuple[FixedOutage, ...] = ()  # published outages the plan goes around (planning/outages/fixed.py)

    def __post_init__(self) -> None:
        g, o = self.grid, self.options
        tz = g.timezone
        local_now = self.now.astimezone(tz)
        self.origin = datetime(local_now.year, local_now.month, local_now.day, tzinfo=tz)
        self.n_slots = (o.horizon_days + 5) * SLOTS_PER_DAY
        utc = pd.date_range(pd.Timestamp(self.origin).tz_convert("UTC"), periods=self.n_slots, freq="15min")
        local = utc.tz_convert(tz)
        wd = local.weekday.to_numpy()
        self.day_type = np.where(wd < 5, 0, np.where(wd == 5, 1, 2)).astype(np.int64)
        self.iso_weekday = wd + 1
        self.slot_of_day = ((local.hour.to_numpy() * 60 + local.minute.to_numpy()) // SLOT_MIN).astype(np.int64)
        self.minute_of_day = local.hour.to_numpy() * 60 + local.minute.to_numpy()
        self.local_day = (local.normalize().tz_localize(None) - pd.Timestamp("2000-01-01")).days.to_numpy()
        self._profiles()
        self._customers()
        self.repeats = RepeatHistory(self, self.history)
        self.fixed_set = FixedSet(self, self.fixed)
        self._feeders()
        self.flows = FlowChecker(self, self.options.limits())

    # -- clock ----------------------------------------------------------------

    def slot_of(self, at: datetime) -> float:
        """Slot position (fractional) of an aware datetime."""
        return (at - self.origin).total_seconds() / (SLOT_MIN * 60)

    def time_of(self, slot: float) -> datetime:
        """Aware datetime (grid time zone) of a slot position."""
        return (self.origin + timedelta(minutes=SLOT_MIN * float(slot))).astimezone(self.grid.timezone)

    @property
    def step_slots(self) -> int:
        return self.options.time_step_min // SLOT_MIN

    # -- profiles -------------------------------------------------------------

    def _profiles(self) -> None:
        prof = self.grid.profiles
        names = sorted(set(prof["profile"])) if len(prof) else []
        factors = np.ones((len(names) + 1, len(DAY_TYPES), SLOTS_PER_DAY), dtype=float)  # last row: flat
        if len(prof):
            p = pd.Index(names).get_indexer(prof["profile"])
            d = pd.Index(DAY_TYPES).get_indexer(prof["day_type"])
            m = (prof["minute_of_day"].to_numpy(dtype=np.int64) // SLOT_MIN).clip(0, SLOTS_PER_DAY - 1)
            factors[p, d, m] = prof["factor"].to_numpy(dtype=float)
        self.profile_names = names
        self.day_factors = factors  # (profile, day type, slot of day)
        self.factor = factors[:, self.day_type, self.slot_of_day]  # (profile, slot)
        self.n_profiles = len(names) + 1

    # -- customers --------------------------------------------------------------

    def _customers(self) -> None:
        g, o = self.grid, self.options
        c = g.customers
        self.cust_ids = c["id"].to_numpy(dtype=object)
        self.cust_index = pd.Index(self.cust_ids)
        self._cust_pos = {str(x): i for i, x in enumerate(self.cust_ids)}
        self.demand = c["demand_kw"].to_numpy(dtype=float)
        cp = c["profile"]
        idx = pd.Index(self.profile_names).get_indexer(cp.where(cp.notna(), "\0"))
        idx[idx < 0] = len(self.profile_names)
        self.prof = idx.astype(np.int64)
        self.importance = c["importance"].to_numpy(dtype=object)
        self.weight = np.array([o.weight(str(x)) for x in self.importance], dtype=float)
        self.no_generator_needed = (c["backup_power"].to_numpy(dtype=bool) | c["dual_supply"].to_numpy(dtype=bool))
        self.gen_eligible = np.isin(self.importance, list(o.generator_grades)) & ~self.no_generator_needed
        self.peak_graded = np.isin(self.importance, list(o.peak_grades))
        self._peak_masks: dict[int, np.ndarray] = {}
        self.peak_source: dict[int, str] = {}
        ph = c["peak_hours"].to_numpy(dtype=object) if "peak_hours" in c.columns else np.full(len(c), None)
        for i in np.flatnonzero(self.peak_graded):
            stated = ph[i]
            if stated is not None and str(stated).strip():
                day_mask = parse_peak_hours(str(stated))
                if day_mask is not None:
                    self._peak_masks[int(i)] = day_mask[self.slot_of_day]
                    self.peak_source[int(i)] = "stated"
                    continue
            f = self.day_factors[self.prof[i]]  # (day type, slot)
            mx = f.max(axis=1, keepdims=True)
            mask = (f >= self.options.peak_threshold * mx) & (mx > 0)
            # A profile that never drops below the threshold (a 24-hour hospital)
            # has no distinguishable peak that day: its harm is in the weight.
            mask &= ~mask.all(axis=1, keepdims=True)
            self._peak_masks[int(i)] = mask[self.day_type, self.slot_of_day]
            self.peak_source[int(i)] = "profile"

    def peak_mask(self, cust: int) -> np.ndarray:
        """Per slot: is it a peak hour of customer ``cust`` (index)? All False for ungraded customers."""
        m = self._peak_masks.get(int(cust))
        return m if m is not None else np.zeros(self.n_slots, dtype=bool)

    def customer_idx(self, ids: Iterable[str]) -> np.ndarray:
        """Indices (Timeline order) of customer ids; -1 for unknown ids."""
        pos = self._cust_pos
        return np.fromiter((pos.get(x, -1) for x in ids), dtype=np.int64)

    def profile_demand(self, idx: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Demand (kW, optionally x weights) of customers ``idx`` summed per profile."""
        w = self.demand[idx] if weights is None else self.demand[idx] * weights
        return np.bincount(self.prof[idx], weights=w, minlength=self.n_profiles)

    def load(self, idx: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Load (kW) of customers ``idx`` at every slot."""
        if len(idx) == 0:
            return np.zeros(self.n_slots)
        return self.profile_demand(idx, weights) @ self.factor

    def customer_load(self, i: int) -> np.ndarray:
        return self.demand[i] * self.factor[self.prof[i]]

    # -- feeders -------------------------------------------------------------

    def _feeders(self) -> None:
        g, o = self.grid, self.options
        f = g.feeders
        self.feeder_ids = list(f["id"])
        self.feeder_index = {fid: i for i, fid in enumerate(self.feeder_ids)}
        self.feeder_substation = {str(r["id"]): (None if pd.isna(r["substation_id"]) else str(r["substation_id"])) for _, r in f.iterrows()}
        cap = f["capacity_kw"].to_numpy(dtype=float)
        self.feeder_limit = cap * (1.0 - o.capacity_margin)  # NaN when unknown
        normal = g.customer_feeders().reindex(self.cust_ids).to_numpy(dtype=object)
        self.cust_feeder_normal = normal
        codes = np.array([self.feeder_index.get(x, -1) if x is not None else -1 for x in normal], dtype=np.int64)
        self.cust_feeder_code = codes
        self.feeder_load = np.zeros((len(self.feeder_ids), self.n_slots))
        for k in range(len(self.feeder_ids)):
            self.feeder_load[k] = self.load(np.flatnonzero(codes == k))

        self.node_feeder = self._normal_node_feeders()
        sw = g.switches
        self.switch_ends = {str(i): (str(a), str(b)) for i, a, b in zip(sw["id"], sw["from_node"], sw["to_node"], strict=True)}

    def _normal_node_feeders(self) -> dict[str, str]:
        """Feeder of every node energised in the normal state (:meth:`gis.Grid.node_feeders`)."""
        return {str(n): str(f) for n, f in self.grid.node_feeders().items() if f is not None}

    def feeder_demand(self, feeder_of_customer: np.ndarray) -> np.ndarray:
        """(feeder, profile) demand (kW) when customers are fed as ``feeder_of_customer`` (codes, -1 dead)."""
        ok = feeder_of_customer >= 0
        nf, npf = len(self.feeder_ids), self.n_profiles
        flat = np.bincount(feeder_of_customer[ok] * npf + self.prof[ok], weights=self.demand[ok], minlength=nf * npf)
        return flat.reshape(nf, npf)

    # -- windows ---------------------------------------------------------------

    def windows(self, series: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
        """(len(starts), n) view of ``series`` from each start slot."""
        return series[starts[:, None] + np.arange(n)[None, :]]

    def energy(self, load: np.ndarray, starts: np.ndarray, duration_min: float) -> np.ndarray:
        """Energy (kWh) of ``load`` (kW per slot) over ``[start, start + duration)`` for each start slot."""
        cum = np.concatenate([[0.0], np.cumsum(load)]) * (SLOT_MIN / 60.0)
        full = int(duration_min // SLOT_MIN)
        frac = (duration_min - full * SLOT_MIN) / SLOT_MIN
        e = cum[starts + full] - cum[starts]
        if frac > 0:
            e = e + frac * load[starts + full] * (SLOT_MIN / 60.0)
        return e

    @staticmethod
    def touched(duration_min: float) -> int:
        """Number of slots an interval of this length touches from a slot boundary."""
        return max(1, int(-(-duration_min // SLOT_MIN)))

    @staticmethod
    def end_offset(duration_min: float) -> int:
        """Slots from the start slot to the slot holding the end of the work, where the hand-back
        switching (and a break-before-make block's second short break) happens."""
        return int(duration_min // SLOT_MIN)

    def any_in(self, mask: np.ndarray, starts: np.ndarray, duration_min: float) -> np.ndarray:
        """For each start slot: does ``mask`` hold in any slot of ``[start, start + duration)``?"""
        cum = np.concatenate([[0], np.cumsum(mask.astype(np.int64))])
        n = self.touched(duration_min)
        return (cum[starts + n] - cum[starts]) > 0
