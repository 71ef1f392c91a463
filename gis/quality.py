"""Data-quality report of a grid: the defects a GIS engineer fixes in the source.

:func:`check_quality` looks at grid-format layers (``from_node``/``to_node`` given
or inferred by :mod:`gis.connectivity`) and returns one :class:`QualityItem` per
offending feature: code, severity, layer, id, message and location (WGS84
lon/lat). Distances are metres in the grid's metric CRS.

==============================  ========  ==================================================
code                            severity  meaning
==============================  ========  ==================================================
``dangling_line_end``           warning   a line end touching no node, switch or other line
``device_not_on_line``          error     a node with no line, switch or transformer; a
                                          switch with nothing on one of its sides
``duplicate_id``                error     an id used by more than one feature (any layers)
``lines_crossing``              warning   two lines crossing at a point away from their ends
                                          (no node there; lines sharing a stretch are not flagged)
``multipart_geometry``          error     a feature with a multi-part geometry
``feeder_without_breaker``      error     a line or non-breaker switch leaving a substation
``customer_without_transformer`` error    a customer naming no existing node and with no
                                          distribution room / pole transformer within the
                                          join distance
``missing_rating``              warning   a line without ``rating_a`` and ``type``, a
                                          transformer node without ``kva``, a busbar without
                                          ``rating_a``, a substation without ``capacity_kva``
                                          (and no transformers layer)
``ambiguous_switch``            error     more than two line ends meet at a switch with no node
                                          near (import with inferred connectivity only)
``missing_geometry``            error     a source feature without geometry (import only)
``bad_value``                   error     a value that is not a number / not true or false
==============================  ========  ==================================================

:func:`build_report` adds the grid loader's own errors (closed loops, unreachable
nodes, bad values, ...) when the quality checks find none, and
:func:`write_report` writes the report as JSON, CSV and a GeoJSON layer.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gis.errors import GridValidationError, Problem
from gis.format import LAYERS, SPATIAL_LAYERS, SUPPLY_NODE_KINDS, WGS84, Layers
from gis.geojson import to_geojson
from gis.records import json_safe

__all__ = ["QualityItem", "QualityReport", "Snap", "build_report", "check_quality", "quality_of_layers", "report_geojson", "write_report"]

#: Severity of each quality code (``error`` blocks an import).
SEVERITY: dict[str, str] = {
    "dangling_line_end": "warning",
    "device_not_on_line": "error",
    "duplicate_id": "error",
    "lines_crossing": "warning",
    "multipart_geometry": "error",
    "feeder_without_breaker": "error",
    "customer_without_transformer": "error",
    "missing_rating": "warning",
    "ambiguous_switch": "error",
    "missing_geometry": "error",
    "bad_value": "error",
}

_NEAR_M = 100.0  # how far to look for the nearest line named in a message (metres)


@dataclass(frozen=True)
class QualityItem:
    """One defect of one feature. ``lon``/``lat`` (WGS84) locate it; ``geometry`` (WGS84) is
    what the report's map highlights: the feature, or the point (line end, crossing) at fault."""

    code: str
    severity: str
    layer: str | None
    id: str | None
    message: str
    lon: float | None = None
    lat: float | None = None
    related: tuple[str, ...] = ()
    geometry: BaseGeometry | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "layer": self.layer, "id": self.id,
                "related": list(self.related), "message": self.message,
                "lon": json_safe(self.lon, digits=7), "lat": json_safe(self.lat, digits=7)}


@dataclass(frozen=True)
class Snap:
    """One connection guessed from geometry: ``end`` of feature ``id`` (``from``/``to`` of a line,
    ``a``/``b`` side of a switch) joined to ``target`` in ``target_layer`` at ``distance_m``.
    ``via`` says how: ``node``, ``switch``, ``line_end`` (a new junction shared with other line
    ends), ``none`` (nothing within the tolerance: a new junction of its own)."""

    layer: str
    id: str
    end: str
    target_layer: str
    target: str
    distance_m: float
    via: str

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "id": self.id, "end": self.end, "target_layer": self.target_layer,
                "target": self.target, "distance_m": round(float(self.distance_m), 3), "via": self.via}


@dataclass
class QualityReport:
    """Every defect (``items``), every guess (``snaps``), and the grid loader's warnings.
    ``valid`` when no item is an error."""

    items: list[QualityItem]
    snaps: list[Snap] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    grid: Any = None  # the validated gis.grid.Grid when valid

    @property
    def valid(self) -> bool:
        return not any(i.severity == "error" for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        counts = Counter(i.code for i in self.items)
        return {"valid": self.valid, "counts": dict(sorted(counts.items())),
                "items": [i.to_dict() for i in self.items], "snaps": [s.to_dict() for s in self.snaps],
                "validation_warnings": [p.to_dict() for p in self.warnings]}


# ----------------------------------------------------------------- helpers


def _text(v: Any) -> str | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v)


def _column(df: pd.DataFrame, name: str) -> list[Any]:
    return list(df[name]) if name in df.columns else [None] * len(df)


def _anchor(geom: BaseGeometry | None) -> tuple[float | None, float | None]:
    """A point on the feature (its middle for a line), WGS84."""
    if geom is None or geom.is_empty:
        return None, None
    if geom.geom_type in ("LineString", "MultiLineString"):
        p = shapely.line_interpolate_point(geom, 0.5, normalized=True)
    elif geom.geom_type == "Point":
        p = geom
    else:
        p = geom.representative_point()
    return float(p.x), float(p.y)


def _feature_item(code: str, layer: str, fid: Any, geom: Any, message: str, related: Sequence[str] = ()) -> QualityItem:
    g = geom if isinstance(geom, BaseGeometry) and not geom.is_empty else None
    lon, lat = _anchor(g)
    return QualityItem(code, SEVERITY[code], layer, _text(fid), message, lon, lat, tuple(related), g)


def _point_item(code: str, layer: str, fid: Any, point: BaseGeometry, message: str, related: Sequence[str] = ()) -> QualityItem:
    return QualityItem(code, SEVERITY[code], layer, _text(fid), message, float(point.x), float(point.y), tuple(related), point)


def _ends(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last coordinate of every line (multi-part: of the whole), NaN where missing."""
    first = np.full((len(geoms), 2), np.nan)
    last = np.full((len(geoms), 2), np.nan)
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        c = shapely.get_coordinates(g)
        first[i], last[i] = c[0, :2], c[-1, :2]
    return first, last


def _spatial(layers: Mapping[str, pd.DataFrame], name: str) -> gpd.GeoDataFrame | None:
    df = layers.get(name)
    return df if isinstance(df, gpd.GeoDataFrame) else None


def _metric(df: gpd.GeoDataFrame, metric_crs: str) -> np.ndarray:
    return np.asarray(df.to_crs(metric_crs).geometry.values, dtype=object)


def _inside(nodes: pd.DataFrame) -> set[str]:
    """Ids of nodes inside a substation (busbars and nodes with a ``substation_id``)."""
    kinds, subs = _column(nodes, "kind"), _column(nodes, "substation_id")
    return {str(i) for i, k, s in zip(_column(nodes, "id"), kinds, subs, strict=True) if k == "busbar" or _text(s)}


# ----------------------------------------------------------------- checks


def check_quality(layers: Mapping[str, pd.DataFrame], *, metric_crs: str, tolerance_m: float = 1.0,
                  join_distance_m: float = 500.0) -> list[QualityItem]:
    """Every quality defect of grid-format ``layers`` (spatial layers in WGS84, columns as
    :func:`gis.format.normalise` leaves them), sorted by severity, code, layer and id.

    ``tolerance_m`` (metres, measured in ``metric_crs``) is how close a crossing may be to
    a line end and still count as the lines' shared node; ``join_distance_m`` how far a
    customer without ``node_id`` may lie from its distribution room / pole transformer.
    """
    items: list[QualityItem] = []
    items += _duplicates(layers)
    items += _multipart(layers)
    items += _unconnected(layers, metric_crs)
    items += _crossings(layers, metric_crs, tolerance_m)
    items += _feeders_without_breaker(layers)
    items += _customers_without_transformer(layers, metric_crs, join_distance_m)
    items += _missing_ratings(layers)
    return sorted(items, key=lambda i: (i.severity != "error", i.code, i.layer or "", i.id or ""))


def _duplicates(layers: Mapping[str, pd.DataFrame]) -> list[QualityItem]:
    seen: list[tuple[str, str, Any]] = []
    for name in LAYERS:
        df = layers.get(name)
        if df is None or "id" not in df.columns:
            continue
        geoms = list(df.geometry) if isinstance(df, gpd.GeoDataFrame) else [None] * len(df)
        seen += [(name, str(i), g) for i, g in zip(df["id"], geoms, strict=True) if _text(i)]
    counts = Counter(fid for _, fid, _ in seen)
    where: dict[str, list[str]] = {}
    for name, fid, _ in seen:
        where.setdefault(fid, []).append(name)
    return [
        _feature_item("duplicate_id", name, fid, g,
                      f"id {fid!r} is used by {counts[fid]} features ({', '.join(sorted(where[fid]))}); ids must be unique across all layers")
        for name, fid, g in seen if counts[fid] > 1
    ]


def _multipart(layers: Mapping[str, pd.DataFrame]) -> list[QualityItem]:
    out = []
    for name in SPATIAL_LAYERS:
        df = _spatial(layers, name)
        if df is None or df.empty:
            continue
        for fid, g in zip(_column(df, "id"), df.geometry, strict=True):
            if g is not None and g.geom_type.startswith("Multi") and shapely.get_num_geometries(g) > 1:
                n = shapely.get_num_geometries(g)
                out.append(_feature_item("multipart_geometry", name, fid, g,
                                         f"{name} {fid}: geometry has {n} parts ({g.geom_type}); "
                                         "split it into one feature per part or join the parts"))
    return out


def _degrees(layers: Mapping[str, pd.DataFrame]) -> tuple[Counter[str], Counter[str]]:
    """Line ends per node id, and ends of every other edge (switches, transformers) per node id."""
    line_deg: Counter[str] = Counter()
    other: Counter[str] = Counter()
    for name, cols, counter in (("lines", ("from_node", "to_node"), line_deg), ("switches", ("from_node", "to_node"), other),
                                ("transformers", ("hv_node", "lv_node"), other)):
        df = layers.get(name)
        if df is None:
            continue
        for col in cols:
            counter.update(str(v) for v in _column(df, col) if _text(v))
    return line_deg, other


def _nearest_line(tree: shapely.STRtree, geoms: np.ndarray, ids: Sequence[Any], point: BaseGeometry, *, skip: int = -1) -> str:
    """``"line X at d m"`` for the nearest line (other than ``skip``) within :data:`_NEAR_M`, metric."""
    best: tuple[float, str] | None = None
    for j in tree.query(point, predicate="dwithin", distance=_NEAR_M):
        if j == skip:
            continue
        d = float(point.distance(geoms[j]))
        if best is None or d < best[0]:
            best = (d, str(ids[j]))
    return f"the nearest line is {best[1]} at {best[0]:.1f} m" if best else f"no line within {_NEAR_M:g} m"


def _unconnected(layers: Mapping[str, pd.DataFrame], metric_crs: str) -> list[QualityItem]:
    """Dangling line ends (a junction only this line reaches) and devices on no line."""
    nodes, lines, switches = _spatial(layers, "nodes"), _spatial(layers, "lines"), _spatial(layers, "switches")
    if nodes is None or lines is None:
        return []
    line_deg, other_deg = _degrees(layers)
    kind = {str(i): k for i, k in zip(_column(nodes, "id"), _column(nodes, "kind"), strict=True)}
    lgeoms = _metric(lines, metric_crs) if len(lines) else np.empty(0, dtype=object)
    valid = np.array([g is not None and not g.is_empty for g in lgeoms], dtype=bool)
    lgeoms[~valid] = None
    tree = shapely.STRtree(lgeoms)
    lids = _column(lines, "id")
    out: list[QualityItem] = []
    first, last = _ends(np.asarray(lines.geometry.values, dtype=object))
    mfirst, mlast = _ends(lgeoms)
    for i, lid in enumerate(lids):
        for end, col, wgs, met in (("from", "from_node", first, mfirst), ("to", "to_node", last, mlast)):
            n = _text(lines[col].iloc[i]) if col in lines.columns else None
            if n is None or kind.get(n) != "junction" or line_deg[n] + other_deg[n] != 1 or np.isnan(wgs[i, 0]):
                continue
            near = _nearest_line(tree, lgeoms, lids, shapely.Point(met[i]), skip=i)
            out.append(_point_item("dangling_line_end", "lines", lid, shapely.Point(wgs[i]),
                                   f"the {end} end of line {lid} touches no node, switch or other line; {near}", (n,)))
    mnodes = _metric(nodes, metric_crs) if len(nodes) else np.empty(0, dtype=object)
    for j, (nid, g) in enumerate(zip(_column(nodes, "id"), nodes.geometry, strict=True)):
        key = str(nid)
        if line_deg[key] + other_deg[key] == 0 and mnodes[j] is not None and not mnodes[j].is_empty:
            near = _nearest_line(tree, lgeoms, lids, mnodes[j])
            out.append(_feature_item("device_not_on_line", "nodes", nid, g,
                                     f"node {nid} ({kind.get(key)}) is on no line, switch or transformer; {near}"))
    if switches is not None:
        inside = _inside(nodes)
        for sid, a, b, g in zip(_column(switches, "id"), _column(switches, "from_node"), _column(switches, "to_node"),
                                switches.geometry, strict=True):
            dead = [str(n) for n in (a, b) if _text(n) and kind.get(str(n)) == "junction" and str(n) not in inside
                    and line_deg[str(n)] + other_deg[str(n)] <= 1]
            if dead:
                out.append(_feature_item("device_not_on_line", "switches", sid, g,
                                         f"switch {sid} has nothing on its {'sides' if len(dead) == 2 else 'side'} "
                                         f"{', '.join(dead)}: place it where two lines meet or between a node and a line end",
                                         dead))
    return out


def _crossings(layers: Mapping[str, pd.DataFrame], metric_crs: str, tolerance_m: float) -> list[QualityItem]:
    """Pairs of lines that intersect away from an end of either (no node where they cross)."""
    lines = _spatial(layers, "lines")
    if lines is None or len(lines) < 2:
        return []
    geoms = _metric(lines, metric_crs)
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    geoms[~ok] = None
    first, last = _ends(geoms)
    ids = _column(lines, "id")
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    out: list[QualityItem] = []
    for i, j in zip(left[keep], right[keep], strict=True):
        inter = geoms[i].intersection(geoms[j])
        # only points where the lines cross: lines sharing a stretch (cables in one trench) are no crossing
        for p in (q for q in shapely.get_parts(inter) if q.geom_type == "Point"):
            xy = np.array([p.x, p.y])
            near_i = min(np.hypot(*(xy - first[i])), np.hypot(*(xy - last[i]))) <= tolerance_m
            near_j = min(np.hypot(*(xy - first[j])), np.hypot(*(xy - last[j]))) <= tolerance_m
            if near_i or near_j:
                continue
            where = gpd.GeoSeries([p], crs=metric_crs).to_crs(WGS84).iloc[0]
            out.append(_point_item("lines_crossing", "lines", ids[i], where,
                                   f"lines {ids[i]} and {ids[j]} cross with no node: split both at the crossing "
                                   "and join them, or move one if they do not touch", (str(ids[j]),)))
            break
    return out


def _feeders_without_breaker(layers: Mapping[str, pd.DataFrame]) -> list[QualityItem]:
    nodes = layers.get("nodes")
    if nodes is None:
        return []
    inside = _inside(nodes)
    out = []
    for name in ("lines", "switches"):
        df = _spatial(layers, name)
        if df is None:
            continue
        for fid, a, b, k, g in zip(_column(df, "id"), _column(df, "from_node"), _column(df, "to_node"),
                                   _column(df, "kind") if name == "switches" else [None] * len(df), df.geometry, strict=True):
            if not (_text(a) and _text(b)) or (str(a) in inside) == (str(b) in inside) or k == "breaker":
                continue
            src, dst = (a, b) if str(a) in inside else (b, a)
            what = "line" if name == "lines" else f"{k} switch"
            out.append(_feature_item("feeder_without_breaker", name, fid, g,
                                     f"{what} {fid} leaves the substation at {src} towards {dst} without a breaker: "
                                     "a feeder starts at a breaker (add one, or map this switch's kind to breaker)",
                                     (str(src), str(dst))))
    return out


def _customers_without_transformer(layers: Mapping[str, pd.DataFrame], metric_crs: str, join_distance_m: float) -> list[QualityItem]:
    cust, nodes = _spatial(layers, "customers"), _spatial(layers, "nodes")
    if cust is None or nodes is None or cust.empty:
        return []
    node_ids = {str(i) for i in _column(nodes, "id")}
    supply = nodes[nodes["kind"].isin(SUPPLY_NODE_KINDS)] if "kind" in nodes.columns else nodes.iloc[:0]
    sgeoms = _metric(supply, metric_crs) if len(supply) else np.empty(0, dtype=object)
    tree = shapely.STRtree(sgeoms)
    cgeoms = _metric(cust, metric_crs)
    out = []
    for k, (cid, nid, g) in enumerate(zip(_column(cust, "id"), _column(cust, "node_id"), cust.geometry, strict=True)):
        if _text(nid):
            if str(nid) not in node_ids:
                out.append(_feature_item("customer_without_transformer", "customers", cid, g,
                                         f"customer {cid} names supply node {nid}, which does not exist", (str(nid),)))
            continue
        if cgeoms[k] is None or cgeoms[k].is_empty:
            continue
        hit = tree.query_nearest(cgeoms[k], max_distance=join_distance_m) if len(sgeoms) else []
        if len(hit) == 0:
            out.append(_feature_item("customer_without_transformer", "customers", cid, g,
                                     f"customer {cid} has no node_id and no distribution room or pole transformer "
                                     f"within {join_distance_m:g} m"))
    return out


def _missing_ratings(layers: Mapping[str, pd.DataFrame]) -> list[QualityItem]:
    out = []
    lines = _spatial(layers, "lines")
    if lines is not None:
        for fid, r, t, g in zip(_column(lines, "id"), _column(lines, "rating_a"), _column(lines, "type"), lines.geometry, strict=True):
            if pd.isna(r) and not _text(t):
                out.append(_feature_item("missing_rating", "lines", fid, g,
                                         f"line {fid} has neither rating_a nor type: its ampacity is a default guess"))
    nodes = _spatial(layers, "nodes")
    if nodes is not None:
        for fid, k, kva, ra, g in zip(_column(nodes, "id"), _column(nodes, "kind"), _column(nodes, "kva"),
                                      _column(nodes, "rating_a"), nodes.geometry, strict=True):
            if k in SUPPLY_NODE_KINDS and pd.isna(kva):
                out.append(_feature_item("missing_rating", "nodes", fid, g, f"{k} {fid} has no kva: its transformer loading is not checked"))
            elif k == "busbar" and pd.isna(ra):
                out.append(_feature_item("missing_rating", "nodes", fid, g, f"busbar {fid} has no rating_a"))
    subs, trafos = _spatial(layers, "substations"), layers.get("transformers")
    if subs is not None and (trafos is None or trafos.empty):
        for fid, cap, g in zip(_column(subs, "id"), _column(subs, "capacity_kva"), subs.geometry, strict=True):
            if pd.isna(cap):
                out.append(_feature_item("missing_rating", "substations", fid, g,
                                         f"substation {fid} has no capacity_kva (and the grid no transformers layer)"))
    return out


# ----------------------------------------------------------------- report


def _locate(layers: Mapping[str, pd.DataFrame], layer: str | None, fid: str) -> BaseGeometry | None:
    names = [layer] if layer in SPATIAL_LAYERS else list(SPATIAL_LAYERS)
    for name in names:
        df = _spatial(layers, name)
        if df is None or "id" not in df.columns:
            continue
        hit = df.geometry[df["id"].astype(str) == fid]
        if len(hit) and hit.iloc[0] is not None and not hit.iloc[0].is_empty:
            return hit.iloc[0]  # type: ignore[no-any-return]
    return None


def located(items: Iterable[QualityItem], layers: Mapping[str, pd.DataFrame]) -> list[QualityItem]:
    """``items`` with the ones that have no geometry placed on their feature (found by layer and id)."""
    out = []
    for it in items:
        g = _locate(layers, it.layer, it.id) if it.geometry is None and it.id is not None else None
        if g is None:
            out.append(it)
            continue
        lon, lat = _anchor(g)
        out.append(QualityItem(it.code, it.severity, it.layer, it.id, it.message, lon, lat, it.related, g))
    return out


def problem_items(problems: Iterable[Problem], layers: Mapping[str, pd.DataFrame]) -> list[QualityItem]:
    """The grid loader's errors as report items: one per id named, located in its layer."""
    out = []
    for p in problems:
        if p.severity != "error":
            continue
        out += [QualityItem(p.code, "error", p.layer, fid, p.message) for fid in p.ids or (None,)]
    return located(out, layers)


def build_report(layers: Layers, *, metric_crs: str, tolerance_m: float = 1.0, join_distance_m: float = 500.0,
                 snaps: Sequence[Snap] = (), source: str = "") -> QualityReport:
    """The quality report of grid-format ``layers``; when it has no errors, the grid is
    validated too (:meth:`gis.grid.Grid.from_layers`) and its errors join the items.
    ``report.grid`` is the validated grid when the report is valid."""
    from gis.grid import Grid

    report = QualityReport(check_quality(layers, metric_crs=metric_crs, tolerance_m=tolerance_m,
                                         join_distance_m=join_distance_m), list(snaps))
    if not report.valid:
        return report
    try:
        report.grid = Grid.from_layers(layers, join_distance_m=join_distance_m, source=source)
        report.warnings = list(report.grid.problems)
    except GridValidationError as exc:
        report.items += problem_items(exc.problems, layers)
        report.warnings = [p for p in exc.problems if p.severity != "error"]
    return report


def quality_of_layers(raw: Mapping[str, pd.DataFrame], *, tolerance_m: float = 1.0, join_distance_m: float = 500.0,
                      source: str = "") -> QualityReport:
    """The report of a grid as :func:`gis.format.read_layers` gives it (spatial layers reprojected
    to WGS84, columns normalised; the metric CRS from ``meta``)."""
    from gis.format import normalise

    layers = {n: df.to_crs(WGS84) if isinstance(df, gpd.GeoDataFrame) and df.crs is not None and not df.crs.equals(WGS84) else df
              for n, df in raw.items()}
    layers, _ = normalise(layers)
    meta = layers.get("meta")
    metric = {str(k): str(v) for k, v in zip(meta["key"], meta["value"], strict=True)}.get("metric_crs") if meta is not None else None
    if not metric:
        from gis.grid import Grid

        try:  # no metric CRS: the grid's own validation says so
            Grid.from_layers(raw, join_distance_m=join_distance_m, source=source)
        except GridValidationError as exc:
            return QualityReport(problem_items(exc.problems, layers), warnings=[p for p in exc.problems if p.severity != "error"])
    return build_report(layers, metric_crs=str(metric) if metric else WGS84, tolerance_m=tolerance_m,
                        join_distance_m=join_distance_m, source=source)


def report_paths(base: str | Path) -> dict[str, Path]:
    """Where :func:`write_report` writes: ``<base>.json``, ``<base>.csv``, ``<base>.geojson``."""
    b = str(base)
    return {ext: Path(f"{b}.{ext}") for ext in ("json", "csv", "geojson")}


def write_report(report: QualityReport, base: str | Path, *, extra: Mapping[str, Any] | None = None) -> dict[str, Path]:
    """Write the report as ``<base>.json`` (everything, plus ``extra`` members), ``<base>.csv``
    (one row per item: code, severity, layer, id, related, message, lon, lat) and
    ``<base>.geojson`` (one feature per item, the offending geometry in WGS84). Returns the paths."""
    paths = report_paths(base)
    paths["json"].parent.mkdir(parents=True, exist_ok=True)
    doc = {**(extra or {}), **report.to_dict()}
    paths["json"].write_text(json.dumps(json_safe(doc), ensure_ascii=False, indent=1, allow_nan=False), encoding="utf-8")
    with paths["csv"].open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "severity", "layer", "id", "related", "message", "lon", "lat"])
        for it in report.items:
            d = it.to_dict()
            w.writerow([d["code"], d["severity"], d["layer"] or "", d["id"] or "", ";".join(d["related"]), d["message"],
                        "" if d["lon"] is None else d["lon"], "" if d["lat"] is None else d["lat"]])
    paths["geojson"].write_text(json.dumps(report_geojson(report.items), ensure_ascii=False), encoding="utf-8")
    return paths


def report_geojson(items: Iterable[QualityItem]) -> dict[str, Any]:
    """The items as an RFC 7946 FeatureCollection: one feature per item, its geometry the
    offending feature or point (WGS84), its properties those of :meth:`QualityItem.to_dict`."""
    return to_geojson([(it.geometry, it.to_dict()) for it in items], coord_decimals=7)
