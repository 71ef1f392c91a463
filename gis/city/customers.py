"""Customers: one per OSM building, with category, importance and demand.

Category, profile and importance come from real OSM tags (the building's own
tags, POIs inside it, and POI areas — hospital grounds, school grounds,
stadiums — that contain it).  Demand is footprint area x levels x an intensity
per square metre of floor that depends on the use.  Where OSM has no
``building:levels``/``height`` (most buildings), levels are estimated from how
densely the surroundings are built, plus a small seeded jitter.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

log = logging.getLogger(__name__)

IMPORTANCE_ORDER = ("special", "first", "second", "temporary", "normal")

#: Largest single-customer peak (kW).  Bigger buildings would be medium-voltage
#: customers with their own substation; here they are capped so that one
#: 1000 kVA distribution room can supply them.
MAX_CUSTOMER_KW = 700.0
MIN_CUSTOMER_KW = 0.3
#: A POI point outside every footprint belongs to the nearest building this close (m).
NEAREST_POI_M = 20.0


@dataclass(frozen=True)
class Use:
    """What a building is used for, and what that means for the grid.

    Attributes
    ----------
    label
        Short use name (kept in the ``use`` column of customers).
    category, importance
        Values of the interchange format's enums.
    profile
        Load profile name (see :mod:`gis.city.profiles`).
    w_per_m2
        Diversified peak demand per m² of floor area (W/m²).
    max_levels
        Upper bound for estimated levels (single-hall buildings).
    """

    label: str
    category: str
    profile: str
    importance: str
    w_per_m2: float
    max_levels: int = 40


Match = Callable[[dict[str, str]], bool]


def _tag(key: str, *values: str) -> Match:
    if not values:
        return lambda tags: key in tags and tags[key] not in ("no", "")
    wanted = set(values)
    return lambda tags: tags.get(key) in wanted


_GOV_NAME = re.compile(
    r"(\bminist[eè]re\b|\bministry\b|\bministerium\b|\bgouvernement\b|government house|"
    r"\bconseil national\b|\bparlement\b|\bparliament\b|\bpr[ée]fecture\b|\beduskunta\b|"
    r"\bvaltioneuvosto\b|\bpalais princier\b|\bpresidential palace\b)",
    re.IGNORECASE,
)


def _gov_name(tags: dict[str, str]) -> bool:
    name = tags.get("name", "")
    return bool(name) and bool(_GOV_NAME.search(name))


def _palace(tags: dict[str, str]) -> bool:
    return (
        tags.get("building") == "palace"
        or tags.get("historic") == "palace"
        or (tags.get("historic") == "castle" and tags.get("castle_type") in ("palace", "stately"))
    )


# Uses in priority order: the first rule that matches any of a building's tag
# sets wins.  Importance grades per the utility's rules: government seat /
# palace / town hall -> special; hospital, police, fire -> first; schools,
# railway stations, telecom -> second; stadiums and event venues -> temporary.
RULES: list[tuple[Match, Use]] = [
    (_tag("amenity", "townhall"), Use("town hall", "public", "office", "special", 25, 8)),
    (_tag("office", "government"), Use("government", "public", "office", "special", 25)),
    (_tag("government"), Use("government", "public", "office", "special", 25)),
    (_tag("building", "government"), Use("government", "public", "office", "special", 25)),
    (_palace, Use("palace", "public", "office", "special", 25, 6)),
    (_gov_name, Use("government", "public", "office", "special", 25)),
    (_tag("amenity", "hospital"), Use("hospital", "public", "hospital", "first", 55)),
    (_tag("healthcare", "hospital"), Use("hospital", "public", "hospital", "first", 55)),
    (_tag("building", "hospital"), Use("hospital", "public", "hospital", "first", 55)),
    (_tag("amenity", "police"), Use("police", "public", "G3", "first", 25)),
    (_tag("amenity", "fire_station"), Use("fire station", "public", "G3", "first", 25, 4)),
    (_tag("building", "fire_station"), Use("fire station", "public", "G3", "first", 25, 4)),
    (_tag("emergency", "ambulance_station"), Use("ambulance", "public", "G3", "first", 25, 4)),
    (_tag("telecom"), Use("telecom", "public", "data_telecom", "second", 150, 6)),
    (_tag("man_made", "telephone_office"), Use("telecom", "public", "data_telecom", "second", 150, 6)),
    (_tag("building", "data_center"), Use("data centre", "commercial", "data_telecom", "second", 150, 6)),
    (_tag("office", "telecommunication"), Use("telecom", "commercial", "data_telecom", "second", 150, 6)),
    (_tag("railway", "station", "halt"), Use("railway station", "public", "G3", "second", 30, 3)),
    (_tag("public_transport", "station"), Use("station", "public", "G3", "second", 30, 3)),
    (_tag("building", "train_station"), Use("railway station", "public", "G3", "second", 30, 3)),
    (_tag("aeroway", "terminal"), Use("air terminal", "public", "G3", "second", 30, 3)),
    (_tag("amenity", "school", "kindergarten", "college", "university"), Use("school", "public", "school", "second", 15, 6)),
    (_tag("building", "school", "kindergarten", "college", "university"), Use("school", "public", "school", "second", 15, 6)),
    (_tag("leisure", "stadium"), Use("stadium", "public", "G6", "temporary", 20, 4)),
    (_tag("building", "stadium", "grandstand"), Use("stadium", "public", "G6", "temporary", 20, 4)),
    (_tag("amenity", "events_venue", "conference_centre", "exhibition_centre", "theatre", "concert_hall", "arts_centre"), Use("event venue", "commercial", "G2", "temporary", 40, 8)),
    (_tag("building", "conference_centre"), Use("event venue", "commercial", "G2", "temporary", 40, 8)),
    (_tag("amenity", "clinic", "doctors", "dentist"), Use("clinic", "public", "office", "normal", 30)),
    (_tag("healthcare"), Use("clinic", "public", "office", "normal", 30)),
    (_tag("amenity", "courthouse", "library", "community_centre", "public_building", "post_office", "embassy"), Use("public office", "public", "office", "normal", 25)),
    (_tag("building", "public", "civic"), Use("public office", "public", "office", "normal", 25)),
    (_tag("tourism", "museum"), Use("museum", "public", "G1", "normal", 25)),
    (_tag("amenity", "place_of_worship"), Use("church", "public", "G6", "normal", 8, 2)),
    (_tag("building", "church", "chapel", "cathedral", "mosque", "temple", "synagogue", "shrine"), Use("church", "public", "G6", "normal", 8, 2)),
    (_tag("tourism", "hotel", "guest_house", "hostel", "apartment"), Use("hotel", "commercial", "G0", "normal", 30)),
    (_tag("building", "hotel"), Use("hotel", "commercial", "G0", "normal", 30)),
    (_tag("amenity", "restaurant", "cafe", "bar", "pub", "fast_food", "nightclub", "casino", "ice_cream"), Use("restaurant", "commercial", "G2", "normal", 60)),
    (_tag("shop", "bakery", "pastry"), Use("bakery", "commercial", "G5", "normal", 60, 3)),
    (_tag("shop"), Use("shop", "commercial", "G4", "normal", 40)),
    (_tag("building", "retail", "supermarket", "kiosk"), Use("shop", "commercial", "G4", "normal", 40)),
    (_tag("amenity", "bank", "pharmacy"), Use("shop", "commercial", "G1", "normal", 35)),
    (_tag("office"), Use("office", "commercial", "office", "normal", 30)),
    (_tag("building", "office", "commercial"), Use("office", "commercial", "office", "normal", 30)),
    (_tag("amenity", "fuel", "car_wash"), Use("fuel station", "commercial", "G0", "normal", 40, 1)),
    (_tag("leisure", "sports_centre", "swimming_pool", "fitness_centre", "sports_hall", "ice_rink"), Use("sports", "public", "G0", "normal", 30, 3)),
    (_tag("man_made", "works", "wastewater_plant", "water_works", "pumping_station"), Use("works", "industrial", "G3", "normal", 40, 3)),
    (_tag("building", "industrial", "manufacture", "factory"), Use("industry", "industrial", "G1", "normal", 35, 4)),
    (_tag("building", "warehouse", "hangar", "storage_tank", "service", "transformer_tower"), Use("warehouse", "industrial", "G0", "normal", 8, 2)),
    (_tag("craft"), Use("workshop", "industrial", "G1", "normal", 30, 3)),
    (_tag("building", "cowshed", "stable", "sty"), Use("farm", "commercial", "L1", "normal", 6, 2)),
    (_tag("building", "farm_auxiliary", "barn", "greenhouse", "silo"), Use("farm", "commercial", "L2", "normal", 5, 2)),
    (_tag("building", "farm"), Use("farmhouse", "residential", "L0", "normal", 10, 3)),
    (_tag("landuse", "farmyard"), Use("farm", "commercial", "L0", "normal", 6, 2)),
    (_tag("landuse", "industrial"), Use("industry", "industrial", "G1", "normal", 30, 4)),
    (_tag("landuse", "retail", "commercial"), Use("office", "commercial", "G0", "normal", 30)),
    (
        _tag("building", "garage", "garages", "shed", "carport", "roof", "hut", "cabin", "toilets", "ruins"),
        Use("outbuilding", "residential", "H0", "normal", 4, 1),
    ),
]
DEFAULT_USE = Use("housing", "residential", "H0", "normal", 10)
#: Ground-floor shops and cafés in taller housing: the building stays housing,
#: the ground floor is counted at this intensity (W/m²).
MIXED_GROUND_FLOOR_W_PER_M2 = 35.0
_GROUND_FLOOR_USES = {"shop", "restaurant", "bakery", "office", "clinic"}


def classify(candidates: Sequence[dict[str, str]]) -> tuple[Use, int]:
    """Pick the highest-priority use among a building's tag sets.

    Returns the use and the index of the tag set that decided it (``-1`` for
    the default).
    """
    for match, use in RULES:
        for i, tags in enumerate(candidates):
            if match(tags):
                return use, i
    return DEFAULT_USE, -1


def _parse_number(text: str | None) -> float | None:
    if not text:
        return None
    m = re.search(r"[-+]?\d+(?:[.,]\d+)?", text)
    if not m:
        return None
    try:
        return float(m.group(0).replace(",", "."))
    except ValueError:
        return None


def tagged_levels(tags: dict[str, str]) -> float | None:
    """Levels from ``building:levels`` (+ roof levels) or ``height`` / 3.2 m."""
    levels = _parse_number(tags.get("building:levels"))
    if levels is not None and 0 < levels < 200:
        roof = _parse_number(tags.get("roof:levels")) or 0.0
        return max(1.0, levels + 0.5 * roof)
    height = _parse_number(tags.get("height"))
    if height is not None and 0 < height < 700:
        return max(1.0, round(height / 3.2))
    return None


def estimate_levels(
    xy: np.ndarray, area_m2: np.ndarray, rng: np.random.Generator, *, radius_m: float = 100.0
) -> np.ndarray:
    """Estimate storeys from the built-up share of the surroundings.

    The share of ground covered by building footprints within ``radius_m``
    grows from ~5 % in villages to ~50 % in a dense centre; storeys grow with
    it (1-2 in villages, 8-12 in the densest blocks).  Small footprints stay
    low.  A seeded +-1 jitter keeps neighbouring blocks from looking cloned.
    """
    tree = cKDTree(xy)
    neighbours = tree.query_ball_point(xy, r=radius_m)
    covered = np.array([area_m2[idx].sum() for idx in neighbours]) / (math.pi * radius_m**2)
    covered = np.clip(covered, 0.0, 1.0)
    levels = 1.0 + 16.0 * covered**1.15
    levels = np.where(area_m2 < 60, np.minimum(levels, 1.0), levels)
    levels = np.where(area_m2 < 150, np.minimum(levels, 3.0), levels)
    jitter = rng.integers(-1, 2, size=len(levels))
    levels = np.round(levels) + np.where(levels >= 3, jitter, 0)
    return np.clip(levels, 1, 20)


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(str(value).split())
    return value or None


def _address(tags: dict[str, str]) -> str | None:
    street = _clean_text(tags.get("addr:street"))
    number = _clean_text(tags.get("addr:housenumber"))
    city = _clean_text(tags.get("addr:city"))
    if not street:
        return None
    text = f"{number} {street}" if number else street
    return f"{text}, {city}" if city else text


def build_customers(
    buildings: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    *,
    metric_crs: int,
    street_name_at: Callable[[np.ndarray], list[str | None]],
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """One customer per building, in the metric CRS.

    Parameters
    ----------
    buildings, pois
        From :func:`gis.city.osm.read_osm` (EPSG:4326).
    metric_crs
        EPSG code used for areas and distances.
    street_name_at
        Returns the nearest named street for ``(n, 2)`` metric points; used
        as the address when OSM has none.
    rng
        Seeded generator (levels jitter).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``osm_id, name, address, phone, use, category, profile,
        importance, levels, floor_area_m2, demand_kw`` and a point geometry
        inside each footprint, in ``metric_crs``.
    """
    bld = buildings.to_crs(metric_crs)
    footprint = bld.geometry
    area = np.where(
        footprint.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy(),
        footprint.area.to_numpy(),
        10.0,
    )
    area = np.maximum(area, 4.0)
    points = shapely.point_on_surface(footprint.to_numpy())
    xy = np.column_stack([shapely.get_x(points), shapely.get_y(points)])

    candidates: list[list[dict[str, str]]] = [[t] for t in bld["tagdict"]]
    inside_points: list[list[dict[str, str]]] = [[] for _ in range(len(bld))]
    if len(pois):
        poi = pois.to_crs(metric_crs)
        is_point = poi.geometry.geom_type.eq("Point").to_numpy()
        is_area = poi.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        bld_tree = shapely.STRtree(footprint.to_numpy())
        # POI points: the building they are in, else the nearest within 25 m
        p_geoms = poi.geometry.to_numpy()[is_point]
        p_tags = poi["tagdict"].to_numpy()[is_point]
        if len(p_geoms):
            pi, bi = bld_tree.query(p_geoms, predicate="within")
            hit = np.zeros(len(p_geoms), dtype=bool)
            for a, b in sorted(zip(pi.tolist(), bi.tolist(), strict=True)):
                inside_points[b].append(p_tags[a])
                hit[a] = True
            miss = np.flatnonzero(~hit)
            if len(miss):
                near_i, near_b = bld_tree.query_nearest(
                    p_geoms[miss], max_distance=NEAREST_POI_M, all_matches=False
                )
                own_names = bld["tagdict"].to_numpy()
                for a, b in sorted(zip(near_i.tolist(), near_b.tolist(), strict=True)):
                    tags = p_tags[miss[a]]
                    # a POI on the pavement next to a named building is not that building
                    if own_names[b].get("name") and tags.get("name") != own_names[b].get("name"):
                        continue
                    inside_points[b].append(tags)
        # POI areas (grounds, sites, land use): buildings whose point is inside,
        # the smallest area first
        a_geoms = poi.geometry.to_numpy()[is_area]
        a_tags = poi["tagdict"].to_numpy()[is_area]
        if len(a_geoms):
            a_area = shapely.area(a_geoms)
            pt_tree = shapely.STRtree(points)
            ai, bi = pt_tree.query(a_geoms, predicate="contains")
            pairs = sorted(zip(bi.tolist(), a_area[ai].tolist(), ai.tolist(), strict=True))
            site_of: list[list[dict[str, str]]] = [[] for _ in range(len(bld))]
            for b, _area, a in pairs:
                site_of[b].append(a_tags[a])
            for b in range(len(bld)):
                candidates[b].extend(inside_points[b])
                candidates[b].extend(site_of[b])
        else:
            for b in range(len(bld)):
                candidates[b].extend(inside_points[b])

    uses: list[Use] = []
    names: list[str | None] = []
    addresses: list[str | None] = []
    phones: list[str | None] = []
    for b, cands in enumerate(candidates):
        use, which = classify(cands)
        own = cands[0]
        decider = cands[which] if which >= 0 else own
        name = None
        if which > 0:
            name = _clean_text(decider.get("name"))
        name = name or _clean_text(own.get("name"))
        if name is None:
            for tags in inside_points[b]:
                if _clean_text(tags.get("name")) and classify([tags])[0] == use:
                    name = _clean_text(tags["name"])
                    break
        uses.append(use)
        names.append(name)
        addresses.append(_address(own) or _address(decider))
        phones.append(_clean_text(own.get("phone") or decider.get("phone")))

    own_levels = np.array(
        [np.nan if (lv := tagged_levels(t)) is None else lv for t in bld["tagdict"]]
    )
    est = estimate_levels(xy, area, rng)
    cap = np.array([u.max_levels for u in uses], dtype=float)
    levels = np.where(np.isnan(own_levels), np.minimum(est, cap), own_levels)
    floor = area * levels
    w = np.array([u.w_per_m2 for u in uses], dtype=float)
    demand_w = floor * w
    mixed = np.array(
        [
            u is DEFAULT_USE
            and any(classify([t])[0].label in _GROUND_FLOOR_USES for t in inside_points[i])
            for i, u in enumerate(uses)
        ]
    )
    demand_w = np.where(
        mixed & (levels >= 2),
        area * MIXED_GROUND_FLOOR_W_PER_M2 + area * (levels - 1) * DEFAULT_USE.w_per_m2,
        demand_w,
    )
    demand_kw = np.clip(demand_w / 1000.0, MIN_CUSTOMER_KW, MAX_CUSTOMER_KW)

    missing = [i for i, a in enumerate(addresses) if a is None]
    if missing:
        streets = street_name_at(xy[missing])
        for i, street in zip(missing, streets, strict=True):
            addresses[i] = street
    labels = [u.label for u in uses]
    osm_ids = bld["osm_id"].tolist()
    names = [
        n if n else f"{label.capitalize()} ({oid})"
        for n, label, oid in zip(names, labels, osm_ids, strict=True)
    ]
    out = gpd.GeoDataFrame(
        {
            "osm_id": bld["osm_id"].to_numpy(),
            "name": names,
            "address": addresses,
            "phone": phones,
            "use": np.where(mixed & (levels >= 2), "housing, shops below", labels),
            "category": [u.category for u in uses],
            "profile": [u.profile for u in uses],
            "importance": [u.importance for u in uses],
            "levels": levels.astype(int),
            "levels_source": np.where(np.isnan(own_levels), "estimated", "osm"),
            "floor_area_m2": np.round(floor, 0),
            "demand_kw": np.round(demand_kw, 1),
        },
        geometry=points,
        crs=metric_crs,
    )
    counts = pd.Series(out["importance"]).value_counts().to_dict()
    log.info("customers: %d (%s), %.1f MW connected", len(out), counts, out["demand_kw"].sum() / 1e3)
    return out
