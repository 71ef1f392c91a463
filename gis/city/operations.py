"""Operations seed: crew depots, crews, generator trucks and a month of jobs.

All synthetic, drawn from the seeded generator, on the equipment of the grid
that was just built.  Formats (CSV, UTF-8):

* ``crews.csv`` — ``id,name,depot_id,skills,shift_start,shift_end``; skills
  ``;``-separated from ``cable|overhead|switching``; shifts ``HH:MM`` local
  time (a shift ending before it starts runs past midnight).
* ``generators.csv`` — ``id,name,kw,depot_id``.
* ``jobs.csv`` — ``id,equipment,duration_min,earliest,latest,crew,description,
  requested_by,night_work``; equipment ``;``-separated node/line/switch ids
  (never a busbar or a feeder breaker); ``earliest``/``latest`` ISO 8601 with
  the local UTC offset; ``crew`` empty when not pre-assigned.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

CREW_COLUMNS = ["id", "name", "depot_id", "skills", "shift_start", "shift_end"]
GENERATOR_COLUMNS = ["id", "name", "kw", "depot_id"]
JOB_COLUMNS = [
    "id",
    "equipment",
    "duration_min",
    "earliest",
    "latest",
    "crew",
    "description",
    "requested_by",
    "night_work",
]

# (letter, skills, shift start, shift end, depot slot)
_CREWS = [
    ("A", ("cable", "switching"), "07:30", "16:00", 0),
    ("B", ("cable",), "07:30", "16:00", 0),
    ("C", ("switching",), "08:00", "17:00", 0),
    ("D", ("cable", "overhead"), "07:30", "16:00", 1),
    ("E", ("overhead", "switching"), "07:00", "15:30", 1),
    ("F", ("cable", "switching"), "13:00", "21:30", 1),
    ("G", ("overhead",), "07:00", "15:30", 2),
    ("H", ("cable", "overhead", "switching"), "21:00", "05:30", 2),
]
GENERATOR_KW = (250, 500, 800)
#: How often each kind of equipment is the subject of a job.
TARGET_WEIGHTS = {
    "cable": 0.22,
    "room": 0.2,
    "rmu": 0.14,
    "load_break": 0.1,
    "fault_indicator": 0.05,
    "tee": 0.07,
    "pole": 0.08,
    "overhead": 0.08,
    "fuse": 0.06,
}


@dataclass(frozen=True)
class JobType:
    target: str  # rmu | load_break | fault_indicator | fuse | room | pole | cable | tee | overhead
    description: str
    skill: str
    minutes: tuple[int, int]
    requested_by: str
    night_share: float = 0.0


JOB_TYPES: tuple[JobType, ...] = (
    JobType("rmu", "RMU preventive maintenance (SF6 pressure, mechanism, earthing)", "switching", (180, 300), "maintenance planning"),
    JobType("rmu", "Replace RMU control cabinet for telecontrol retrofit", "switching", (300, 480), "protection & automation"),
    JobType("load_break", "Replace load-break switch operating mechanism", "switching", (240, 420), "asset management"),
    JobType("fault_indicator", "Replace fault indicator sensors", "switching", (60, 120), "protection & automation"),
    JobType("fuse", "Replace fuse-switch on overhead spur", "overhead", (90, 180), "maintenance planning"),
    JobType("room", "Transformer maintenance (oil sample, tap changer, bushings)", "cable", (180, 300), "maintenance planning"),
    JobType("room", "LV board replacement in distribution room", "cable", (300, 480), "asset management"),
    JobType("room", "New customer connection in distribution room", "cable", (120, 240), "customer connections", 0.2),
    JobType("pole", "Pole transformer replacement", "overhead", (240, 420), "asset management"),
    JobType("pole", "Pole and cross-arm repair", "overhead", (120, 300), "maintenance planning"),
    JobType("cable", "Cable joint replacement", "cable", (300, 480), "asset management", 0.2),
    JobType("cable", "Cable diversion for municipal roadworks", "cable", (360, 480), "municipal roadworks", 0.5),
    JobType("cable", "Cable sheath test and repair", "cable", (180, 360), "maintenance planning"),
    JobType("tee", "Replace cable terminations on transformer tee", "cable", (120, 240), "maintenance planning"),
    JobType("overhead", "Vegetation clearance along overhead line", "overhead", (120, 300), "vegetation management"),
    JobType("overhead", "Insulator and conductor repair", "overhead", (180, 360), "maintenance planning"),
)


def crews_table(depot_ids: list[str], depot_names: list[str]) -> pd.DataFrame:
    """Eight crews spread over the depots, with skills and shifts."""
    rows = []
    for letter, skills, start, end, slot in _CREWS:
        d = slot % len(depot_ids)
        label = " & ".join(skills)
        rows.append(
            (
                f"CREW-{letter}",
                f"Crew {letter} ({label}, {depot_names[d]})",
                depot_ids[d],
                ";".join(skills),
                start,
                end,
            )
        )
    return pd.DataFrame(rows, columns=CREW_COLUMNS)


def generators_table(depot_ids: list[str]) -> pd.DataFrame:
    """Three mobile generator trucks, one per depot."""
    rows = [
        (f"GEN-{kw}", f"Generator truck {kw} kW", kw, depot_ids[i % len(depot_ids)])
        for i, kw in enumerate(GENERATOR_KW)
    ]
    return pd.DataFrame(rows, columns=GENERATOR_COLUMNS)


@dataclass(frozen=True)
class Equipment:
    """What jobs can be planned on, grouped by RMU neighbourhood."""

    by_target: dict[str, list[str]]  # target -> sorted ids
    neighbourhood: dict[str, dict[str, list[str]]]  # rmu id -> target -> ids
    cable_ends: dict[str, tuple[str, ...]]  # trunk cable -> its end switches


def _working_days(year: int, month: int) -> list[date]:
    days = []
    for d in range(1, calendar.monthrange(year, month)[1] + 1):
        day = date(year, month, d)
        if day.weekday() < 5 and not (month == 12 and d in (24, 25, 26, 31)) and not (
            month == 1 and d == 1
        ):
            days.append(day)
    return days


def jobs_table(
    equipment: Equipment,
    crews: pd.DataFrame,
    *,
    timezone: str,
    month: str,
    n_jobs: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """A month of maintenance jobs with deliberate overlaps.

    About 60 % of the jobs come in clusters of 2-4 on the same RMU
    neighbourhood (the RMU, its switches, the cables next to it, its rooms)
    with overlapping windows, so that merging outages has something to find;
    the rest are spread over the network and the month.
    """
    tz = ZoneInfo(timezone)
    year, mon = (int(x) for x in month.split("-"))
    days = _working_days(year, mon)
    last_day = date(year, mon, calendar.monthrange(year, mon)[1])
    types_by_target: dict[str, list[JobType]] = {}
    for jt in JOB_TYPES:
        if equipment.by_target.get(jt.target):
            types_by_target.setdefault(jt.target, []).append(jt)
    targets = sorted(types_by_target)

    def draw_target(options: list[str]) -> str:
        w = np.array([TARGET_WEIGHTS.get(t, 0.05) for t in options])
        return options[int(rng.choice(len(options), p=w / w.sum()))]

    crew_ids = crews["id"].tolist()
    crew_skills = [set(s.split(";")) for s in crews["skills"]]
    night_crews = [c for c, start in zip(crew_ids, crews["shift_start"], strict=True) if start >= "20:00"]

    def window(start_day: date, width: int, night: bool) -> tuple[str, str]:
        start_day = min(start_day, last_day - timedelta(days=width))
        end_day = start_day + timedelta(days=width)
        if night:
            a = datetime(start_day.year, start_day.month, start_day.day, 22, 0, tzinfo=tz)
            b = datetime(end_day.year, end_day.month, end_day.day, 6, 0, tzinfo=tz)
            if b <= a + timedelta(hours=8):
                b = a + timedelta(hours=8)
        else:
            a = datetime(start_day.year, start_day.month, start_day.day, 8, 0, tzinfo=tz)
            b = datetime(end_day.year, end_day.month, end_day.day, 17, 0, tzinfo=tz)
        return a.isoformat(), b.isoformat()

    def make(jt: JobType, ids: list[str], start_day: date, width: int) -> dict:
        lo, hi = jt.minutes
        duration = int(rng.integers(lo // 30, hi // 30 + 1)) * 30
        night = bool(rng.random() < jt.night_share)
        earliest, latest = window(start_day, width, night)
        crew = ""
        if night and night_crews:
            crew = night_crews[0]
        elif rng.random() < 0.35:
            able = [c for c, sk in zip(crew_ids, crew_skills, strict=True) if jt.skill in sk]
            able = [c for c in able if c not in night_crews] or able
            crew = able[int(rng.integers(len(able)))]
        return {
            "equipment": ";".join(ids),
            "duration_min": duration,
            "earliest": earliest,
            "latest": latest,
            "crew": crew,
            "description": jt.description,
            "requested_by": jt.requested_by,
            "night_work": "true" if night else "false",
        }

    def pick_ids(jt: JobType, pool: list[str]) -> list[str]:
        eq = pool[int(rng.integers(len(pool)))]
        if jt.target == "cable" and jt.description.startswith("Cable joint") and eq in equipment.cable_ends:
            # a joint next to a terminal: the end switch is worked on too
            ends = equipment.cable_ends[eq]
            return [eq, ends[int(rng.integers(len(ends)))]]
        return [eq]

    jobs: list[dict] = []
    rmus = sorted(equipment.neighbourhood)
    n_clustered = int(round(0.6 * n_jobs))
    hot = list(rng.permutation(rmus))
    while len(jobs) < n_clustered and hot:
        rid = str(hot.pop())
        hood = equipment.neighbourhood[rid]
        avail = sorted(t for t in hood if hood[t] and t in types_by_target)
        if not avail:
            continue
        base = days[int(rng.integers(max(1, len(days) - 5)))]
        k = int(rng.integers(2, 5))
        for _ in range(min(k, n_clustered - len(jobs))):
            target = draw_target(avail)
            jt = types_by_target[target][int(rng.integers(len(types_by_target[target])))]
            start = base + timedelta(days=int(rng.integers(-2, 3)))
            start = min(max(start, days[0]), days[-1])
            jobs.append(make(jt, pick_ids(jt, hood[target]), start, int(rng.integers(3, 8))))
    while len(jobs) < n_jobs:
        target = draw_target(targets)
        jt = types_by_target[target][int(rng.integers(len(types_by_target[target])))]
        start = days[int(rng.integers(len(days)))]
        jobs.append(
            make(jt, pick_ids(jt, equipment.by_target[target]), start, int(rng.integers(2, 8)))
        )
    frame = pd.DataFrame(jobs)
    frame = frame.sort_values(["earliest", "equipment", "description"], kind="mergesort")
    frame.insert(0, "id", [f"JOB-{i:03d}" for i in range(1, len(frame) + 1)])
    return frame[JOB_COLUMNS].reset_index(drop=True)


def equipment_index(nodes: list[dict], lines: list[dict], switches: list[dict]) -> Equipment:
    """Group the grid's plannable equipment by kind and by RMU neighbourhood."""
    kind = {n["id"]: n["kind"] for n in nodes}
    by_target: dict[str, list[str]] = {}
    hood: dict[str, dict[str, list[str]]] = {}

    def rmu_of(node_id: str) -> str | None:
        if kind.get(node_id) == "rmu":
            return node_id
        if kind.get(node_id) == "junction" and node_id.startswith("RMU"):
            return node_id.split("-")[0]
        return None

    def add(target: str, eid: str, rmus: list[str]) -> None:
        by_target.setdefault(target, []).append(eid)
        for r in rmus:
            hood.setdefault(r, {}).setdefault(target, []).append(eid)

    feeds: dict[str, str] = {}  # transformer -> rmu feeding its way
    for ln in sorted(lines, key=lambda x: x["id"]):
        r = rmu_of(ln["from_node"])
        if r and kind.get(ln["to_node"]) in ("distribution_room", "pole_transformer"):
            feeds[ln["to_node"]] = r
        elif kind.get(ln["from_node"]) == "pole_transformer" and ln["from_node"] in feeds:
            feeds[ln["to_node"]] = feeds[ln["from_node"]]
    cable_ends: dict[str, tuple[str, ...]] = {}
    for ln in sorted(lines, key=lambda x: x["id"]):
        ends = [r for r in (rmu_of(ln["from_node"]), rmu_of(ln["to_node"])) if r]
        if ln["kind"] == "overhead":
            add("overhead", ln["id"], [feeds[ln["to_node"]]] if ln["to_node"] in feeds else [])
        elif kind.get(ln["to_node"]) in ("distribution_room",):
            add("tee", ln["id"], ends)
        else:
            add("cable", ln["id"], ends)
            sw = []
            for end in (ln["from_node"], ln["to_node"]):
                if rmu_of(end) and end.endswith("-JO"):
                    sw.append(end[:-3] + "-SO")
                elif rmu_of(end) and end.endswith("-JI"):
                    sw.append(end[:-3] + "-SI")
            if sw:
                cable_ends[ln["id"]] = tuple(sorted(sw))
    for n in sorted(nodes, key=lambda x: x["id"]):
        if n["kind"] == "rmu":
            add("rmu", n["id"], [n["id"]])
        elif n["kind"] == "distribution_room":
            add("room", n["id"], [feeds[n["id"]]] if n["id"] in feeds else [])
        elif n["kind"] == "pole_transformer":
            add("pole", n["id"], [feeds[n["id"]]] if n["id"] in feeds else [])
    for s in sorted(switches, key=lambda x: x["id"]):
        if s["kind"] == "breaker":
            continue
        r = rmu_of(s["from_node"]) or rmu_of(s["to_node"])
        rm = [r] if r else []
        if s["kind"] == "fuse":
            add("fuse", s["id"], rm)
        elif s["kind"] == "load_break":
            add("load_break", s["id"], rm)
            if s["fault_indicator"]:
                add("fault_indicator", s["id"], rm)
    for v in by_target.values():
        v.sort()
    for h in hood.values():
        for v in h.values():
            v.sort()
    return Equipment(by_target, hood, cable_ends)
