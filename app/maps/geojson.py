"""GeoJSON (RFC 7946, EPSG:4326, ``[lon, lat]``) for the web maps, built from a :class:`gis.Grid`.

Pure functions: grid (and switch states or results) in, plain ``dict`` out, ready for
``json.dumps``, written by the project's one GeoJSON writer (:func:`gis.geojson.to_geojson`).
The pages load the big layers (customers) by URL and the small ones inline. Coordinates
are rounded to 6 decimals (about 0.1 m), float properties to 3. Properties carry user
strings (names, addresses) as data only: the browser side puts them into the page with
``textContent``, never as HTML, so nothing here needs HTML escaping. Customers'
phone numbers are never included (only customer service and admin may see them,
through the API).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np

from gis import Grid
from gis.geojson import to_geojson
from gis.records import json_safe

FeatureCollection = dict[str, Any]
#: A feature before writing: its geometry (shapely or a GeoJSON geometry) and properties.
Feature = tuple[Any, Mapping[str, Any]]

#: Coordinates (degrees) are rounded to this many decimals: about 0.1 m.
COORD_DECIMALS = 6
#: Float properties (kW, ...) are rounded to this many decimals.
FLOAT_DECIMALS = 3

#: Importance grades from most to least important (drawing order and legend order).
IMPORTANCE_ORDER = ("special", "first", "second", "temporary", "normal")
#: Grades that are "important customers", always shown unclustered on the planner map.
IMPORTANT = ("special", "first", "second", "temporary")
#: Node kinds drawn as equipment (junctions and busbars are not drawn as nodes).
EQUIPMENT_KINDS = ("rmu", "distribution_room", "pole_transformer")

# A colour-blind-friendly cycle (Okabe-Ito plus Tableau) for feeders.
FEEDER_PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
    "#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#76B7B2", "#EDC948", "#FF9DA7", "#9C755F",
)


def _clean(v: Any) -> Any:
    """JSON-safe scalar (:func:`gis.records.json_safe`), floats rounded like the map's properties."""
    return json_safe(v, digits=FLOAT_DECIMALS)


def _collection(features: Iterable[Feature], **members: Any) -> FeatureCollection:
    """A FeatureCollection of the map (extra top-level members are allowed by RFC 7946)."""
    return to_geojson(features, coord_decimals=COORD_DECIMALS, float_decimals=FLOAT_DECIMALS, members=members)


def feeder_colors(grid: Grid) -> dict[str, str]:
    """A stable colour per feeder id (sorted by id, palette cycled)."""
    ids = sorted(map(str, grid.feeders["id"]))
    return {f: FEEDER_PALETTE[i % len(FEEDER_PALETTE)] for i, f in enumerate(ids)}


def normal_feeders(grid: Grid) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """Normal-state feeder of every node and of every line: ``(by_node, by_line)``."""
    by_node: dict[str, str | None] = {}
    by_line: dict[str, str | None] = {}
    for sec in grid.sections():
        for n in sec.nodes:
            by_node[n] = sec.feeder
        for ln in sec.lines:
            by_line[ln] = sec.feeder
    return by_node, by_line


def grid_bounds(grid: Grid) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((south, west), (north, east))`` of the grid's nodes (Leaflet order)."""
    b = grid.nodes.total_bounds
    return ((float(b[1]), float(b[0])), (float(b[3]), float(b[2])))


def fit_zoom(bounds: tuple[tuple[float, float], tuple[float, float]], *, width_px: int = 1024, height_px: int = 768) -> int:
    """The largest web-mercator zoom at which ``bounds`` fit in a viewport of that size."""
    import math

    (s, w), (n, e) = bounds

    def y(lat: float) -> float:
        r = math.radians(max(min(lat, 85.0), -85.0))
        return math.log(math.tan(math.pi / 4 + r / 2)) / (2 * math.pi)

    dx = max(abs(e - w) / 360.0, 1e-9)
    dy = max(abs(y(n) - y(s)), 1e-9)
    z = math.floor(min(math.log2(width_px / 256 / dx), math.log2(height_px / 256 / dy)))
    return int(max(1, min(18, z)))


def grid_layers(grid: Grid, *, colors: Mapping[str, str] | None = None) -> dict[str, FeatureCollection]:
    """The grid's static layers for the map, one FeatureCollection each.

    Keys: ``substations``, ``lines`` (property ``feeder`` and its ``color``),
    ``equipment`` (RMUs, distribution rooms, pole transformers with their
    ``feeder``), ``switches`` (``kind``, ``feeder``; ``normally_open`` (a tie, with the
    ``feeders`` it joins), ``remote`` and ``fault_indicator`` present only when true).
    """
    colors = dict(colors or feeder_colors(grid))
    by_node, by_line = normal_feeders(grid)

    subs = [
        (g, {"id": str(i), "name": n})
        for i, n, g in zip(grid.substations["id"], grid.substations["name"], grid.substations.geometry, strict=True)
    ]
    lines = []
    for i, k, g in zip(grid.lines["id"], grid.lines["kind"], grid.lines.geometry, strict=True):
        f = by_line.get(str(i))
        lines.append((g, {"id": str(i), "kind": k, "feeder": f, "color": colors.get(f or "", "#777777")}))
    nodes = grid.nodes[grid.nodes["kind"].isin(EQUIPMENT_KINDS)]
    equipment = []
    for i, k, n, g in zip(nodes["id"], nodes["kind"], nodes["name"], nodes.geometry, strict=True):
        f = by_node.get(str(i))
        equipment.append((g, {"id": str(i), "kind": str(k), "name": n, "feeder": f, "color": colors.get(f or "", "#777777")}))
    sw = grid.switches
    switches = []
    for row in zip(sw["id"], sw["kind"], sw["normally_open"], sw["remote"], sw["fault_indicator"], sw["from_node"], sw["to_node"], sw.geometry, strict=True):
        i, k, no, rem, fi, a, b, g = row
        fa, fb = by_node.get(str(a)), by_node.get(str(b))
        props: dict[str, Any] = {"id": str(i), "kind": str(k), "feeder": fa or fb}
        # flags only when set: 9k switches on a city grid, keep the layer small
        if no:
            props["normally_open"] = True
            props["feeders"] = sorted({f for f in (fa, fb) if f})
        if rem:
            props["remote"] = True
        if fi:
            props["fault_indicator"] = True
        switches.append((g, props))
    return {
        "substations": _collection(subs),
        "lines": _collection(lines),
        "equipment": _collection(equipment),
        "switches": _collection(switches),
    }


def customers_geojson(grid: Grid, *, importance: Sequence[str] | None = None, ids: Iterable[str] | None = None) -> FeatureCollection:
    """Customers as points: ``id, name, importance, category, demand_kw, node_id, feeder``.

    ``importance`` keeps only those grades; ``ids`` only those customers. No phone
    numbers. Built column-wise: about 0.2 s for 23k customers.
    """
    c = grid.customers
    mask = np.ones(len(c), dtype=bool)
    if importance is not None:
        mask &= c["importance"].isin(list(importance)).to_numpy()
    if ids is not None:
        mask &= c["id"].isin(list(ids)).to_numpy()
    c = c[mask]
    ids = c["id"].astype(str).to_numpy()
    frame = gpd.GeoDataFrame(
        {
            "id": ids, "name": c["name"].to_numpy(), "importance": c["importance"].to_numpy(), "category": c["category"].to_numpy(),
            "demand_kw": c["demand_kw"].to_numpy(), "node_id": c["node_id"].to_numpy(), "feeder": grid.customer_feeders().reindex(ids).to_numpy(),
        },
        geometry=c.geometry.to_numpy(),
        crs=c.crs,
    )
    return to_geojson(frame, coord_decimals=COORD_DECIMALS, float_decimals=FLOAT_DECIMALS)


def customers_columns(grid: Grid) -> dict[str, Any]:
    """All customers as columns, for the clustered map layer (parses ~3x faster than GeoJSON).

    ``{"count", "id", "name", "importance", "feeder", "demand_kw", "lon", "lat"}``; each
    value a list aligned by position; lon/lat in EPSG:4326 rounded to 6 decimals. No phones.
    """
    c = grid.customers
    feeders = grid.customer_feeders()
    ids = c["id"].astype(str)
    return {
        "count": int(len(c)),
        "id": ids.tolist(),
        "name": [_clean(v) for v in c["name"]],
        "importance": [_clean(v) for v in c["importance"]],
        "feeder": [_clean(v) for v in feeders.reindex(ids.to_numpy()).to_numpy()],
        "demand_kw": [_clean(v) for v in c["demand_kw"]],
        "lon": [round(x, COORD_DECIMALS) for x in c.geometry.x.tolist()],  # as the GeoJSON writer rounds
        "lat": [round(y, COORD_DECIMALS) for y in c.geometry.y.tolist()],
    }


def _state_features(
    grid: Grid, *, open_switches: Sequence[str], close_switches: Sequence[str], work_nodes: Iterable[str], colors: Mapping[str, str] | None
) -> tuple[list[Feature], set[str]]:
    """Lines and equipment a switching state touches, with their ``role``; and the dead nodes."""
    colors = dict(colors or feeder_colors(grid))
    work = set(work_nodes)
    dead = grid.dead_nodes(open_switches=open_switches, close_switches=close_switches)
    before = grid.dead_nodes(open_switches=open_switches) if close_switches else dead
    transferred = before - dead
    node_feeder: dict[str, str | None] = {}
    if transferred:
        by_sec: dict[str, str | None] = {}
        for n in transferred:
            sec = grid.section_of(n)
            if sec not in by_sec:
                by_sec[sec] = grid.feeder_of(n, open_switches=open_switches, close_switches=close_switches)
            node_feeder[n] = by_sec[sec]

    def role(node: str) -> str | None:
        if node in work:
            return "work"
        if node in dead:
            return "dead"
        if node in transferred:
            return "transferred"
        return None

    feats: list[Feature] = []
    for i, a, b, g in zip(grid.lines["id"], grid.lines["from_node"], grid.lines["to_node"], grid.lines.geometry, strict=True):
        ra, rb = role(str(a)), role(str(b))
        if ra is None or rb is None:
            continue
        r = "work" if "work" in (ra, rb) else ("dead" if "dead" in (ra, rb) else "transferred")
        f = node_feeder.get(str(a)) if r == "transferred" else None
        feats.append((g, {"id": str(i), "layer": "line", "role": r, "feeder": f, "color": colors.get(f or "")}))
    nodes = grid.nodes
    for i, k, n, g in zip(nodes["id"], nodes["kind"], nodes["name"], nodes.geometry, strict=True):
        node_role = role(str(i))
        if node_role is None or k not in EQUIPMENT_KINDS:
            continue
        f = node_feeder.get(str(i)) if node_role == "transferred" else None
        feats.append((g, {"id": str(i), "kind": str(k), "name": n, "layer": "equipment", "role": node_role, "feeder": f, "color": colors.get(f or "")}))
    return feats, dead


def _customer_points(customers: Any, roles: Sequence[str]) -> list[Feature]:
    """Customer points from rows with ``id, name, importance, demand_kw, lon, lat`` (WGS84), one role each."""
    return [
        ({"type": "Point", "coordinates": [x, y]}, {"id": str(cid), "name": name, "importance": imp, "demand_kw": kw, "layer": "customer", "role": r})
        for cid, name, imp, kw, x, y, r in zip(customers["id"], customers["name"], customers["importance"], customers["demand_kw"],
                                                customers["lon"], customers["lat"], roles, strict=True)
    ]


def state_overlay(
    grid: Grid,
    *,
    open_switches: Sequence[str] = (),
    close_switches: Sequence[str] = (),
    work_nodes: Iterable[str] = (),
    colors: Mapping[str, str] | None = None,
) -> FeatureCollection:
    """What a switching state does, for drawing an outage or a restoration stage.

    Lines and equipment get ``role``: ``work`` (in ``work_nodes``), ``dead`` (no supply
    in the state), or ``transferred`` (dead when only ``open_switches`` are opened but
    re-fed through ``close_switches``; ``feeder`` is the feeder that takes them and
    ``color`` its colour). Dead customers are included as points with ``role: "dead"``.
    Top-level ``summary`` counts dead/transferred customers.
    """
    feats, dead = _state_features(grid, open_switches=open_switches, close_switches=close_switches, work_nodes=work_nodes, colors=colors)
    affected = grid.affected_customers(open_switches=open_switches, close_switches=close_switches)
    feats += _customer_points(affected, ["dead"] * len(affected))
    n_before = len(grid.affected_customers(open_switches=open_switches)) if close_switches else len(affected)
    summary = {"dead_customers": len(affected), "transferred_customers": n_before - len(affected), "dead_nodes": len(dead)}
    return _collection(feats, summary=summary)


#: A stored customer's ``supply`` in an outage -> its ``role`` on the map.
SUPPLY_ROLES = {"interrupted": "dead", "short_breaks": "transferred", "generator": "generator"}


def outage_overlay(
    grid: Grid,
    customers: Any,
    *,
    open_switches: Sequence[str] = (),
    close_switches: Sequence[str] = (),
    work_nodes: Iterable[str] = (),
    colors: Mapping[str, str] | None = None,
) -> FeatureCollection:
    """A stored outage: its switching state during the work drawn as :func:`state_overlay`
    draws it, and its customers as the plan stored them, not recomputed from the state.

    ``customers``: the outage's rows joined with the grid (``id, name, importance,
    demand_kw, lon, lat, supply``; see :func:`app.services.customers.affected_customers`);
    each point's ``role`` follows its ``supply`` (``interrupted`` -> ``dead``,
    ``short_breaks`` -> ``transferred``, ``generator`` -> ``generator``). Top-level
    ``summary`` counts the customers by supply and the dead nodes.
    """
    feats, dead = _state_features(grid, open_switches=open_switches, close_switches=close_switches, work_nodes=work_nodes, colors=colors)
    supply = [str(v) for v in customers["supply"]]
    feats += _customer_points(customers, [SUPPLY_ROLES.get(v, "dead") for v in supply])
    summary = {f"{k}_customers": supply.count(k) for k in SUPPLY_ROLES} | {"dead_nodes": len(dead)}
    return _collection(feats, summary=summary)


def isolation_overlay(grid: Grid, equipment: str | Sequence[str], *, colors: Mapping[str, str] | None = None) -> FeatureCollection:
    """The outage zone of some equipment (``grid.isolate``) with the best tie transfer per dead block.

    A quick preview for the planner before a plan is run: work zone, downstream
    blocks re-fed by the tie that restores the most customers, what stays dead.
    Top-level ``isolation`` lists the switches to open and the ties used.
    """
    iso = grid.isolate(equipment)
    close: list[str] = []
    remaining = set(iso.nodes) - set(iso.work_nodes)
    for opt in grid.tie_options(remaining, open_switches=iso.switches):
        if opt.nodes & remaining and not (opt.nodes & set(iso.work_nodes)):
            close.append(opt.switch)
            remaining -= set(opt.nodes)
    fc = state_overlay(grid, open_switches=iso.switches, close_switches=close, work_nodes=iso.work_nodes, colors=colors)
    fc["isolation"] = {"equipment": list(iso.equipment), "open": list(iso.switches), "close": close, "ties": list(iso.ties)}
    return fc


def roads_geojson(graph: Any) -> FeatureCollection:
    """Drivable roads of an osmnx-style graph (nodes with ``x``/``y`` lon/lat, edges with an
    optional shapely ``geometry``) as one MultiLineString feature, each street once.

    Drawn under the grid when no basemap is configured.
    """
    seen: set[tuple[Any, Any]] = set()
    parts: list[list[tuple[float, float]]] = []
    for u, v, data in graph.edges(data=True):
        key = (u, v) if str(u) <= str(v) else (v, u)
        if key in seen:
            continue
        seen.add(key)
        geom = data.get("geometry")
        if geom is not None and getattr(geom, "geom_type", "") == "LineString":
            coords = [(x, y) for x, y, *_ in geom.coords]
        else:
            a, b = graph.nodes[u], graph.nodes[v]
            coords = [(a["x"], a["y"]), (b["x"], b["y"])]
        parts.append(coords)
    streets = {"type": "MultiLineString", "coordinates": parts}
    return _collection([(streets, {"id": "roads", "segments": len(parts)})] if parts else [])


def points_geojson(rows: Iterable[Mapping[str, Any]], *, lon: str = "lon", lat: str = "lat") -> FeatureCollection:
    """Points from records holding ``lon``/``lat`` (e.g. generator trucks, crew positions)."""
    feats = []
    for r in rows:
        x, y = r.get(lon), r.get(lat)
        if x is None or y is None:
            continue
        props = {k: v for k, v in r.items() if k not in (lon, lat)}
        feats.append(({"type": "Point", "coordinates": [x, y]}, props))
    return _collection(feats)
