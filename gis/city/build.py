"""Build a demo city (grid + roads + operations seed) from an OSM extract.

Deterministic: the same extract and seed give byte-identical files.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gis.city import network as nw
from gis.city.customers import build_customers
from gis.city.electrical import substation_transformers
from gis.city.identities import demo_identities
from gis.city.layout import design_network
from gis.city.operations import (
    crews_table,
    equipment_index,
    generators_table,
    jobs_table,
)
from gis.city.osm import centroid_lonlat, guess_timezone, read_osm, utm_epsg
from gis.city.profiles import peak_hours as profile_peak_hours
from gis.city.profiles import profile_arrays, profiles_table
from gis.city.roads import crew_graph, save_graph, street_graph

log = logging.getLogger(__name__)

ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"

# Backup generation / dual supply shares by importance grade: some important
# customers have them and some do not, so planning meets both cases.
_BACKUP_SHARE = {"special": 0.7, "first": 0.6, "second": 0.2, "temporary": 0.4, "normal": 0.0}
_DUAL_SHARE = {"special": 0.6, "first": 0.4, "second": 0.15, "temporary": 0.0, "normal": 0.0}


@dataclass
class BuildResult:
    """Paths written and headline figures of one build."""

    grid_path: Path
    roads_path: Path
    crews_path: Path
    generators_path: Path
    jobs_path: Path
    figures: dict = field(default_factory=dict)


def slug(text: str) -> str:
    """``"Monaco.osm.pbf"`` -> ``"monaco"`` (ASCII, lower case)."""
    stem = Path(text).name.split(".")[0]
    ascii_ = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_.lower()).strip("_") or "city"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _Names:
    """Nearest street / place names for metric points."""

    def __init__(self, road_edges: gpd.GeoDataFrame, places: gpd.GeoDataFrame, crs: int) -> None:
        named = road_edges[road_edges["name"].notna()] if "name" in road_edges else road_edges[:0]
        named = named.to_crs(crs)
        self._street_geoms = named.geometry.to_numpy()
        self._street_names = [" ".join(str(n).split()) for n in named["name"]]
        self._street_tree = shapely.STRtree(self._street_geoms) if len(named) else None
        pl = places.to_crs(crs) if len(places) else places
        self._place_xy = (
            np.column_stack([pl.geometry.x, pl.geometry.y]) if len(pl) else np.zeros((0, 2))
        )
        self._place_names = list(pl["name"]) if len(pl) else []

    def streets(self, xy: np.ndarray) -> list[str | None]:
        if self._street_tree is None or len(xy) == 0:
            return [None] * len(xy)
        pts = shapely.points(np.asarray(xy, dtype=float).reshape(-1, 2))
        idx_pt, idx_street = self._street_tree.query_nearest(pts, all_matches=False)
        out: list[str | None] = [None] * len(pts)
        for a, b in zip(idx_pt.tolist(), idx_street.tolist(), strict=True):
            out[a] = self._street_names[b]
        return out

    def street(self, xy: np.ndarray) -> str:
        return self.streets(np.asarray(xy).reshape(1, 2))[0] or "unnamed street"

    def place(self, xy: np.ndarray) -> str:
        if len(self._place_xy) == 0:
            return self.street(xy)
        d = np.hypot(*(self._place_xy - np.asarray(xy)).T)
        return str(self._place_names[int(np.argmin(d))])


def _access_points(xy: np.ndarray, graph, transformer: pyproj.Transformer) -> np.ndarray:
    """Nearest point on the crews' drivable graph (edge geometry), metric."""
    geoms = []
    for u, v, data in graph.edges(data=True):
        g = data.get("geometry")
        if g is None:
            g = shapely.LineString(
                [(graph.nodes[u]["x"], graph.nodes[u]["y"]), (graph.nodes[v]["x"], graph.nodes[v]["y"])]
            )
        geoms.append(g)
    metric = shapely.transform(np.array(geoms, dtype=object), lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])))
    tree = shapely.STRtree(metric)
    pts = shapely.points(xy)
    ip, ie = tree.query_nearest(pts, all_matches=False)
    out = np.array(xy, dtype=float).copy()
    for a, b in zip(ip.tolist(), ie.tolist(), strict=True):
        line = metric[b]
        p = shapely.line_interpolate_point(line, shapely.line_locate_point(line, pts[a]))
        out[a] = (p.x, p.y)
    return out


def _to_lonlat(xy: np.ndarray, back: pyproj.Transformer) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = back.transform(np.asarray(xy)[:, 0], np.asarray(xy)[:, 1])
    return np.round(np.asarray(lon), 7), np.round(np.asarray(lat), 7)


def _points(xy: np.ndarray, back: pyproj.Transformer) -> np.ndarray:
    lon, lat = _to_lonlat(xy, back)
    return shapely.points(np.column_stack([lon, lat]))


def _line_lonlat(line: shapely.LineString, back: pyproj.Transformer) -> shapely.LineString:
    c = np.asarray(line.coords)
    lon, lat = _to_lonlat(c, back)
    pts = np.column_stack([lon, lat])
    keep = np.ones(len(pts), dtype=bool)
    keep[1:] = np.any(pts[1:] != pts[:-1], axis=1)
    pts = pts[keep]
    if len(pts) == 1:
        pts = np.vstack([pts, pts + [1e-5, 0]])
    return shapely.LineString(pts)


def build_city(
    pbf: str | Path,
    outdir: str | Path,
    *,
    seed: int = 0,
    name: str | None = None,
    timezone: str | None = None,
    month: str = "2026-12",
    n_jobs: int = 120,
    params: nw.Params | None = None,
) -> BuildResult:
    """Build the demo city from an OSM extract into ``outdir``.

    Parameters
    ----------
    pbf
        OpenStreetMap extract (``.osm.pbf``); read offline with pyrosm.
    outdir
        Folder for ``<slug>.gpkg`` (the grid, EPSG:4326), ``<slug>_roads.graphml``
        (drivable graph: ``length`` m, ``speed_kph``, ``travel_time`` s),
        ``crews.csv``, ``generators.csv`` and ``jobs.csv``.
    seed
        Seed of the only random generator used.
    name
        City name (default: from the file name).
    timezone
        IANA time zone (default: guessed from the extract's location).
    month
        ``YYYY-MM`` of the maintenance jobs.
    """
    t0 = time.perf_counter()
    pbf = Path(pbf)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    params = params or nw.Params()
    rng = np.random.default_rng(seed)
    key = slug(name or pbf.name)
    city_name = name or key.replace("_", " ").title()

    osm = read_osm(pbf)
    lon0, lat0 = centroid_lonlat(osm.buildings)
    crs = utm_epsg(lon0, lat0)
    tz = timezone or guess_timezone(lon0, lat0)
    fwd = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    back = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    t_read = time.perf_counter()

    roads = crew_graph(osm.road_nodes, osm.road_edges)
    streets = street_graph(osm.road_nodes, osm.road_edges, fwd)
    names = _Names(osm.road_edges, osm.places, crs)
    t_roads = time.perf_counter()

    cust = build_customers(
        osm.buildings, osm.pois, metric_crs=crs, street_name_at=names.streets, rng=rng
    )
    arrays = profile_arrays()
    factor = np.array([arrays[p].ravel() for p in sorted(arrays)])
    prof_row = {p: i for i, p in enumerate(sorted(arrays))}
    demand = cust["demand_kw"].to_numpy(dtype=float)
    load = factor[[prof_row[p] for p in cust["profile"]]] * demand[:, None]
    cxy = np.column_stack([cust.geometry.x.to_numpy(), cust.geometry.y.to_numpy()])
    footprint = cust["floor_area_m2"].to_numpy(dtype=float) / cust["levels"].to_numpy(dtype=float)
    t_cust = time.perf_counter()

    net = design_network(
        cxy,
        load,
        demand,
        footprint,
        cust["importance"].to_numpy(),
        streets,
        params=params,
        rng=rng,
        street_name=names.street,
        place_name=names.place,
    )
    t_net = time.perf_counter()

    # ---- layers -------------------------------------------------------------
    sub_rows = []
    for s in net.substations:
        count, kva = substation_transformers(s.peak_kw)
        sub_rows.append(
            {
                "id": s.id,
                "name": s.name,
                "capacity_kva": float(count * kva),
                "n_transformers": count,
                "transformer_kva": float(kva),
                "synthetic": True,
                "geometry": _points(s.xy.reshape(1, 2), back)[0],
            }
        )
    substations = gpd.GeoDataFrame(sub_rows, geometry="geometry", crs=4326)

    node_xy = np.array([n["xy"] for n in net.nodes])
    access_kinds = {"rmu", "distribution_room", "pole_transformer"}
    need = np.array([n["kind"] in access_kinds for n in net.nodes])
    acc_xy = node_xy.copy()
    acc_xy[need] = _access_points(node_xy[need], roads, fwd)
    acc_lon, acc_lat = _to_lonlat(acc_xy, back)
    nodes = gpd.GeoDataFrame(
        {
            "id": [n["id"] for n in net.nodes],
            "kind": [n["kind"] for n in net.nodes],
            "name": [n["name"] for n in net.nodes],
            "substation_id": [n.get("substation_id") for n in net.nodes],
            "kva": [float(n["kva"]) if n.get("kva") else np.nan for n in net.nodes],
            "vm_pu": [n.get("vm_pu", np.nan) for n in net.nodes],
            "rating_a": [n.get("rating_a", np.nan) for n in net.nodes],
            "access_lon": np.where(need, acc_lon, np.nan),
            "access_lat": np.where(need, acc_lat, np.nan),
        },
        geometry=_points(node_xy, back),
        crs=4326,
    )
    lines = gpd.GeoDataFrame(
        {
            "id": [ln["id"] for ln in net.lines],
            "from_node": [ln["from_node"] for ln in net.lines],
            "to_node": [ln["to_node"] for ln in net.lines],
            "kind": [ln["kind"] for ln in net.lines],
            "type": [ln["type"] for ln in net.lines],
            "rating_a": [float(ln["rating_a"]) for ln in net.lines],
            "length_m": [ln["length_m"] for ln in net.lines],
        },
        geometry=[_line_lonlat(ln["geometry"], back) for ln in net.lines],
        crs=4326,
    )
    sw_xy = np.array([s["xy"] for s in net.switches])
    switches = gpd.GeoDataFrame(
        {
            "id": [s["id"] for s in net.switches],
            "from_node": [s["from_node"] for s in net.switches],
            "to_node": [s["to_node"] for s in net.switches],
            "kind": [s["kind"] for s in net.switches],
            "normally_open": [bool(s["normally_open"]) for s in net.switches],
            "remote": [bool(s["remote"]) for s in net.switches],
            "fault_indicator": [bool(s["fault_indicator"]) for s in net.switches],
            "rating_a": [float(s["rating_a"]) for s in net.switches],
        },
        geometry=_points(sw_xy, back),
        crs=4326,
    )

    importance = cust["importance"].to_numpy()
    backup = np.zeros(len(cust), dtype=bool)
    dual = np.zeros(len(cust), dtype=bool)
    for grade in ("special", "first", "second", "temporary"):
        idx = np.flatnonzero(importance == grade)
        if len(idx) == 0:
            continue
        backup[idx] = rng.random(len(idx)) < _BACKUP_SHARE[grade]
        dual[idx] = rng.random(len(idx)) < _DUAL_SHARE[grade]
        if len(idx) >= 2 and grade in ("special", "first"):
            # both cases must exist: one with neither, one with backup
            backup[idx[-1]] = dual[idx[-1]] = False
            backup[idx[0]] = True
    peak = {p: profile_peak_hours(a) for p, a in arrays.items()}
    supply = net.supply_node if net.supply_node is not None else np.full(len(cust), "", dtype=object)
    order = np.lexsort((cust["osm_id"].to_numpy(), supply.astype(str)))
    cust_ids = np.empty(len(cust), dtype=object)
    cust_ids[order] = [f"C{i:06d}" for i in range(1, len(cust) + 1)]
    customers = gpd.GeoDataFrame(
        {
            "id": cust_ids,
            "name": cust["name"].to_numpy(),
            "node_id": supply,
            "category": cust["category"].to_numpy(),
            "importance": importance,
            "demand_kw": cust["demand_kw"].to_numpy(dtype=float),
            "profile": cust["profile"].to_numpy(),
            "phone": cust["phone"].to_numpy(),
            "address": cust["address"].to_numpy(),
            "backup_power": backup,
            "dual_supply": dual,
            "peak_hours": [
                peak[p] if g != "normal" else None
                for p, g in zip(cust["profile"], importance, strict=True)
            ],
            "osm_id": cust["osm_id"].to_numpy(),
            "use": cust["use"].to_numpy(),
            "levels": cust["levels"].to_numpy(),
            "levels_source": cust["levels_source"].to_numpy(),
            "floor_area_m2": cust["floor_area_m2"].to_numpy(dtype=float),
        },
        geometry=_points(cxy, back),
        crs=4326,
    )
    customers = customers.iloc[order].reset_index(drop=True)
    # readable names, account numbers and fictitious phones (the same step can be re-run
    # on a shipped GeoPackage: python -m gis.city.identities GRID.gpkg)
    customers = demo_identities(customers)

    depots, depot_names = _depots(net, roads, fwd, back, names, rng)
    prof_table = profiles_table(arrays)
    osm_sha = sha256(pbf)
    meta = pd.DataFrame(
        [
            ("name", city_name),
            ("timezone", tz),
            ("nominal_kv", "10"),
            ("metric_crs", str(crs)),
            ("power_factor", str(nw.POWER_FACTOR)),
            ("source", f"OpenStreetMap extract {pbf.name} (sha256 {osm_sha})"),
            ("attribution", ATTRIBUTION),
            ("builder", f"python -m gis.build_city {pbf.name} OUTDIR --seed {seed}"),
            ("seed", str(seed)),
            ("synthetic", "substations, depots, the 10 kV network, demand, crews, jobs"),
        ],
        columns=["key", "value"],
    )
    layers = {
        "substations": substations,
        "nodes": nodes,
        "lines": lines,
        "switches": switches,
        "customers": customers,
        "depots": depots,
        "meta": meta,
        "profiles": prof_table,
    }
    from gis.format import write_grid

    grid_path = out / f"{key}.gpkg"
    write_grid(layers, grid_path)
    roads_path = out / f"{key}_roads.graphml"
    save_graph(roads, roads_path)

    crews = crews_table(list(depots["id"]), depot_names)
    gens = generators_table(list(depots["id"]))
    equipment = equipment_index(net.nodes, net.lines, net.switches)
    jobs = jobs_table(equipment, crews, timezone=tz, month=month, n_jobs=n_jobs, rng=rng)
    paths = {}
    for fname, frame in (("crews.csv", crews), ("generators.csv", gens), ("jobs.csv", jobs)):
        paths[fname] = out / fname
        frame.to_csv(paths[fname], index=False, encoding="utf-8", lineterminator="\n")
    t_end = time.perf_counter()

    loading = [f.peak_kw / nw.p_max_kw(f.rating_a) for f in net.feeders]
    figures = {
        "name": city_name,
        "metric_crs": crs,
        "timezone": tz,
        "osm_sha256": osm_sha,
        "road_nodes": roads.number_of_nodes(),
        "road_edges": roads.number_of_edges(),
        "customers": len(customers),
        "feeders": len(net.feeders),
        "ties": len(net.ties),
        "ties_between_substations": sum(1 for t in net.ties if t[3] == "between substations"),
        "feeder_loading_min": round(min(loading), 3),
        "feeder_loading_max": round(max(loading), 3),
        "peak_mw": round(float(load.sum(axis=0).max()) / 1e3, 1),
        "seconds": {
            "read_osm": round(t_read - t0, 2),
            "roads": round(t_roads - t_read, 2),
            "customers": round(t_cust - t_roads, 2),
            "network": round(t_net - t_cust, 2),
            "write": round(t_end - t_net, 2),
            "total": round(t_end - t0, 2),
        },
    }
    log.info("built %s in %.1f s", grid_path, t_end - t0)
    return BuildResult(
        grid_path, roads_path, paths["crews.csv"], paths["generators.csv"], paths["jobs.csv"], figures
    )


def _depots(net: nw.Network, roads, fwd, back, names: _Names, rng) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Three crew depots (synthetic): yards on a main road near the substations.

    Depot ``i`` sits at the main-road intersection nearest to substation
    ``i`` that is at least 150 m from every substation; with fewer than three
    substations the remaining depots go to the busiest other areas.
    """
    main = {"primary", "secondary", "tertiary", "trunk"}
    cand: set[int] = set()
    for u, v, data in roads.edges(data=True):
        hw = data.get("highway")
        hws = set(hw) if isinstance(hw, list) else {hw}
        if hws & main:
            cand.update((u, v))
    cand_ids = sorted(cand) or sorted(roads.nodes)
    lon = np.array([roads.nodes[n]["x"] for n in cand_ids])
    lat = np.array([roads.nodes[n]["y"] for n in cand_ids])
    x, y = fwd.transform(lon, lat)
    cxy = np.column_stack([x, y])
    sub_xy = np.array([s.xy for s in net.substations])
    anchors = list(sub_xy)
    if len(anchors) < 3:
        txy = np.array([t.xy for t in net.transformers])
        w = np.array([t.peak_kw for t in net.transformers])
        anchors += list(nw.kmeans(txy, w, 3, rng))[: 3 - len(anchors)]
    near_sub = np.min(
        np.hypot(cxy[:, None, 0] - sub_xy[None, :, 0], cxy[:, None, 1] - sub_xy[None, :, 1]), axis=1
    )
    rows, depot_names, used = [], [], set()
    for i, c in enumerate(anchors[:3]):
        d = np.hypot(*(cxy - c).T)
        d = np.where(near_sub < 150.0, d + 1e6, d)
        for j in np.argsort(d, kind="mergesort"):
            if int(j) not in used:
                used.add(int(j))
                break
        place = names.place(cxy[j])
        depot_names.append(place)
        rows.append(
            {
                "id": f"DEPOT-{i + 1}",
                "name": f"Depot {place} ({names.street(cxy[j])})",
                "synthetic": True,
                "road_node": str(cand_ids[j]),
                "geometry": shapely.Point(round(float(lon[j]), 7), round(float(lat[j]), 7)),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326), depot_names
