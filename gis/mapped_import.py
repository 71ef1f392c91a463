"""Import a utility's GIS export through a field mapping (TOML): ``python -m gis import-mapped``.

The only module that reads mapping files (``tomllib``) and foreign OGR sources (through
pyogrio: GeoPackage, FileGDB, Shapefile, PostGIS ``PG:`` connection strings, anything
GDAL reads). A mapping names, per grid layer, the source layer, the source field of
each grid column, code translations, units and the source CRS; see the chapter
"Importing your GIS" of docs/grid-format.md for the format and a worked example.

:func:`import_mapped` reads the sources, translates fields, codes and units,
reprojects to the grid's metric CRS, infers connectivity from geometry when the lines
have no node ids (:mod:`gis.connectivity`), checks the result (:mod:`gis.quality` and
the grid's own validation) and writes the grid atomically (temporary file, reloaded,
then renamed) only when it is valid. The report (JSON, CSV, GeoJSON) is written in
every case. A mapping that cannot be used (bad TOML, unknown layer or field, a code
with no translation, an unreadable source) raises :class:`~gis.records.RecordError`
or :class:`~gis.errors.InputError` before anything is written.

:func:`suggest_mapping` writes a template mapping from a source's own layers and
field names, with guesses by name similarity and ``"?"`` where a human must decide.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gis.connectivity import infer_connectivity
from gis.errors import InputError
from gis.format import (
    ENUMS,
    LAYERS,
    SPATIAL_LAYERS,
    WGS84,
    Layers,
    normalise,
    read_postgis_table,
    write_grid,
)
from gis.quality import (
    SEVERITY,
    QualityItem,
    QualityReport,
    Snap,
    build_report,
    check_quality,
    located,
    write_report,
)
from gis.records import FieldProblem, RecordError, parse_bool

__all__ = ["ImportResult", "MappingFile", "import_mapped", "load_mapping", "suggest_mapping", "to_toml"]

PLACEHOLDER = "?"

#: Units a mapping may name, per quantity, as factors to the grid format's unit (A, kVA, kW, m, kV).
UNITS: dict[str, dict[str, float]] = {
    "current": {"a": 1.0, "ka": 1000.0},
    "apparent power": {"va": 1e-3, "kva": 1.0, "mva": 1000.0},
    "active power": {"w": 1e-3, "kw": 1.0, "mw": 1000.0},
    "length": {"m": 1.0, "km": 1000.0},
    "voltage": {"v": 1e-3, "kv": 1.0},
}
#: The quantity of each grid column that takes a unit.
QUANTITY: dict[str, str] = {
    "rating_a": "current", "kva": "apparent power", "capacity_kva": "apparent power", "sn_kva": "apparent power",
    "demand_kw": "active power", "p_kw": "active power", "pfe_kw": "active power", "length_m": "length",
    "vn_kv": "voltage", "vn_hv_kv": "voltage", "vn_lv_kv": "voltage",
}
#: Grid columns whose values the importer infers from geometry when the mapping does not name them.
INFERRED = {"lines": ("from_node", "to_node"), "switches": ("from_node", "to_node")}

Scalar = str | int | float | bool


# ----------------------------------------------------------------- the mapping file


class FieldSpec(BaseModel):
    """Where one grid column comes from: a source ``field`` (or a constant ``value``),
    code ``values`` (source code -> grid value), a ``unit`` and a ``default`` for missing values."""

    model_config = ConfigDict(extra="forbid")
    field: str | None = None
    value: Scalar | None = None
    values: dict[str, Scalar] | None = None
    unit: str | None = None
    default: Scalar | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"field": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        if (self.field is None) == (self.value is None):
            raise ValueError("give either field (a source field name) or value (a constant)")
        return self


class LayerMap(BaseModel):
    """One source layer feeding a grid layer."""

    model_config = ConfigDict(extra="forbid")
    source: str | None = None
    layer: str | None = None
    where: str | None = None
    crs: str | None = None
    fields: dict[str, FieldSpec]
    keep: list[str] = Field(default_factory=list)


class GridSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    timezone: str = Field(min_length=1)
    nominal_kv: float = Field(gt=0, le=1000)
    metric_crs: str | None = None
    snap_tolerance_m: float = Field(default=1.0, gt=0, le=100)
    join_distance_m: float = Field(default=500.0, gt=0, le=100_000)
    power_factor: float | None = Field(default=None, gt=0, le=1)


class SourceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1)
    crs: str | None = None


class MappingFile(BaseModel):
    """A whole mapping: ``[grid]``, an optional default ``[source]``, and ``[layers.<grid layer>]``
    (one table, or ``[[layers.<grid layer>]]`` for several source layers)."""

    model_config = ConfigDict(extra="forbid")
    grid: GridSpec
    source: SourceSpec | None = None
    layers: dict[str, list[LayerMap]]

    @model_validator(mode="before")
    @classmethod
    def _listify(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("layers"), dict):
            data = {**data, "layers": {k: [v] if isinstance(v, dict) else v for k, v in data["layers"].items()}}
        return data


def _placeholders(node: Any, path: str) -> list[str]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _placeholders(v, f"{path}.{k}" if path else str(k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _placeholders(v, f"{path}[{i}]")]
    return [path] if node == PLACEHOLDER else []


def load_mapping(path: str | Path) -> MappingFile:
    """Read and check a mapping file. Raises :class:`~gis.errors.InputError` (``bad_mapping``)
    for a file that is not TOML, and :class:`~gis.records.RecordError` listing every problem
    (path in the file, e.g. ``layers.nodes.fields.kind.unit``) for one that does not fit."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read mapping {p}: {exc.strerror or exc}", code="bad_mapping") from None
    except UnicodeDecodeError:
        raise InputError(f"mapping {p} is not UTF-8 text", code="bad_mapping") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"mapping {p} is not valid TOML: {exc}", code="bad_mapping") from None
    what = f"mapping {p}"
    todo = _placeholders(raw, "")
    if todo:
        raise RecordError([FieldProblem(t, "unfilled", f"{t}: replace the suggested '?' with a value") for t in todo],
                          what=what, code="bad_mapping")
    try:
        mapping = MappingFile.model_validate(raw)
    except ValidationError as exc:
        problems = [FieldProblem(".".join(map(str, e["loc"])), "bad_mapping", f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
                    for e in exc.errors()]
        raise RecordError(problems, what=what, code="bad_mapping") from None
    problems = _check_mapping(mapping)
    if problems:
        raise RecordError(problems, what=what, code="bad_mapping")
    return mapping


def _check_mapping(m: MappingFile) -> list[FieldProblem]:
    out: list[FieldProblem] = []

    def bad(where: str, message: str) -> None:
        out.append(FieldProblem(where, "bad_mapping", f"{where}: {message}"))

    for name in m.layers:
        if name not in SPATIAL_LAYERS:
            bad(f"layers.{name}", f"not a grid layer (one of {', '.join(SPATIAL_LAYERS)})")
    for name in SPATIAL_LAYERS:
        if LAYERS[name].required and name not in m.layers:
            bad(f"layers.{name}", "the grid needs this layer: map a source layer to it")
    lines_given = _ids_given(m)
    for name, maps in m.layers.items():
        schema = LAYERS.get(name)
        if schema is None:
            continue
        columns = {c.name: c for c in schema.columns}
        for k, lm in enumerate(maps):
            where = f"layers.{name}" + (f"[{k}]" if len(maps) > 1 else "")
            if lm.source is None and m.source is None:
                bad(where, "no source: give source = PATH here or a [source] path")
            for attr, spec in lm.fields.items():
                if attr not in columns:
                    bad(f"{where}.fields.{attr}", f"not a column of {name} (columns: {', '.join(columns)})")
                    continue
                if spec.unit is not None:
                    q = QUANTITY.get(attr)
                    if q is None:
                        bad(f"{where}.fields.{attr}.unit", f"{attr} takes no unit")
                    elif spec.unit.lower() not in UNITS[q]:
                        bad(f"{where}.fields.{attr}.unit", f"unknown {q} unit {spec.unit!r} (one of {', '.join(_unit_names(q))})")
                allowed = ENUMS.get((name, attr))
                if allowed and spec.values:
                    wrong = sorted({str(v) for v in spec.values.values() if v not in allowed})
                    if wrong:
                        bad(f"{where}.fields.{attr}.values", f"{wrong} not in {list(allowed)}")
            inferred = () if lines_given else INFERRED.get(name, ())
            for c in schema.columns:
                if c.required and c.name not in lm.fields and c.name not in inferred:
                    bad(f"{where}.fields", f"no field for the required column {c.name!r}")
            if name in INFERRED and not lines_given and any(c in lm.fields for c in INFERRED[name]):
                bad(f"{where}.fields", "from_node/to_node are inferred from geometry because the lines have none: remove them")
    return out


def _ids_given(m: MappingFile) -> bool:
    """Whether the lines' node ids come from the source (else from geometry)."""
    return any(c in lm.fields for lm in m.layers.get("lines", []) for c in INFERRED["lines"])


def _unit_names(quantity: str) -> list[str]:
    return [{"a": "A", "ka": "kA", "va": "VA", "kva": "kVA", "mva": "MVA", "w": "W", "kw": "kW", "mw": "MW",
             "m": "m", "km": "km", "v": "V", "kv": "kV"}[u] for u in UNITS[quantity]]


# ----------------------------------------------------------------- reading sources


def _resolve(source: str, base: Path) -> str:
    """A relative path is relative to the mapping file; connection strings (``PG:...``, database URLs)
    pass unchanged."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", source):
        return source
    p = Path(source).expanduser()
    return str(p if p.is_absolute() else base / p)


def _open_layer(source: str, layer: str | None) -> tuple[str, dict[str, Any]]:
    """The layer to read (the only one when ``layer`` is None) and its pyogrio info."""
    try:
        names = [str(r[0]) for r in pyogrio.list_layers(source)]
    except Exception as exc:  # GDAL's own error types for missing or corrupt sources
        raise InputError(f"cannot open source {source}: {exc}", code="bad_source") from None
    if layer is None:
        if len(names) != 1:
            raise InputError(f"source {source} holds {len(names)} layers ({', '.join(names)}): name one with layer = ...",
                             code="bad_source")
        layer = names[0]
    if layer not in names:
        close = difflib.get_close_matches(layer, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"source {source} has no layer {layer!r}{hint}; its layers: {', '.join(names)}", code="bad_source")
    try:
        info = pyogrio.read_info(source, layer=layer)
    except Exception as exc:
        raise InputError(f"cannot read layer {layer!r} of {source}: {exc}", code="bad_source") from None
    return layer, info


def _code(v: Any) -> str | None:
    """A source value as a code: text stripped, whole numbers without ``.0``, blanks None."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    text = str(v).strip()
    return text or None


@dataclass
class _Read:
    frame: gpd.GeoDataFrame
    problems: list[FieldProblem]


def _read_layer(grid_layer: str, lm: LayerMap, where: str, m: MappingFile, base: Path) -> _Read:
    """One source layer as grid columns (source CRS), with the translation problems found."""
    default = m.source
    source = _resolve(lm.source or (default.path if default else ""), base)
    wanted = [s.field for s in lm.fields.values() if s.field is not None] + list(lm.keep)
    if source.startswith(("postgresql:", "postgresql+", "postgres:")):
        # a database URL: PostGIS through SQLAlchemy (GDAL's PostgreSQL driver is optional in pyogrio builds)
        if lm.layer is None:
            raise InputError(f"{where}: name the PostGIS table with layer = \"schema.table\"", code="bad_mapping")
        layer, fid_col = lm.layer, ""
        df = read_postgis_table(source, layer, where=lm.where)
        fields = [str(c) for c in df.columns if c != df.geometry.name]
        _require_fields(where, source, layer, fields, "", wanted)
    else:
        layer, info = _open_layer(source, lm.layer)
        fields = [str(f) for f in info["fields"]]
        fid_col = str(info.get("fid_column") or "")
        _require_fields(where, source, layer, fields, fid_col, wanted)
        try:
            # every column when filtering: some drivers (OpenFileGDB) match nothing when the where
            # clause names a column that is not read
            columns = None if lm.where else [f for f in dict.fromkeys(wanted) if f in fields]
            df = pyogrio.read_dataframe(source, layer=layer, columns=columns, where=lm.where, fid_as_index=bool(fid_col),
                                        force_2d=True)
        except Exception as exc:
            raise InputError(f"cannot read layer {layer!r} of {source}" + (f" where {lm.where!r}" if lm.where else "")
                             + f": {exc}", code="bad_source") from None
    crs = lm.crs or (default.crs if default and lm.source is None else None)
    if crs:
        try:
            df = df.set_crs(pyproj.CRS.from_user_input(crs), allow_override=True)
        except pyproj.exceptions.CRSError:
            raise InputError(f"{where}.crs: {crs!r} is not a known CRS", code="bad_mapping") from None
    elif df.crs is None:
        raise InputError(f"source {source} layer {layer!r} names no CRS: state it with crs = \"EPSG:...\" in {where}",
                         code="bad_mapping")
    out = gpd.GeoDataFrame({}, geometry=_geometries(df.geometry, LAYERS[grid_layer].geometry), crs=df.crs)
    problems: list[FieldProblem] = []
    id_values = _column_values(df, lm.fields["id"], fid_col) if "id" in lm.fields else pd.Series([None] * len(df))
    ids = [_code(v) or f"#{k + 1}" for k, v in enumerate(id_values)]
    for attr, spec in lm.fields.items():
        values = _column_values(df, spec, fid_col)
        out[attr] = _translate(values, spec, attr=attr, where=f"{where}.fields.{attr}", ids=ids,
                               origin=f"{source} layer {layer!r} field {spec.field!r}", problems=problems).to_numpy(dtype=object)
    for f in lm.keep:
        out[f] = df[f].to_numpy(dtype=object) if f in df.columns else df.index.to_numpy(dtype=object)
    return _Read(out, problems)


def _require_fields(where: str, source: str, layer: str, fields: Sequence[str], fid_col: str, wanted: Sequence[str]) -> None:
    """Every field the mapping names exists in the source layer (else the nearest names)."""
    missing = [f for f in wanted if f not in fields and not (fid_col and f.lower() == fid_col.lower())]
    if missing:
        absent: list[FieldProblem] = []
        for f in missing:
            close = difflib.get_close_matches(f, fields, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            absent.append(FieldProblem(where, "missing_field", f"{where}: source {source} layer {layer!r} has no field {f!r}{hint}; "
                                       f"its fields: {', '.join(fields)}"))
        raise RecordError(absent, what="mapping", code="bad_mapping")


def _column_values(df: gpd.GeoDataFrame, spec: FieldSpec, fid_col: str) -> pd.Series:
    if spec.field is None:
        return pd.Series([spec.value] * len(df), index=df.index, dtype=object)
    if spec.field in df.columns:
        return df[spec.field].astype(object)
    return pd.Series(df.index.to_numpy(dtype=object), index=df.index)  # the FID column (e.g. OBJECTID)


def _geometries(geoms: gpd.GeoSeries, kind: str | None) -> list[Any]:
    """Single-part ``Multi*`` geometries as their one part; areas on a point layer as a point inside
    them. True multi-part geometries stay (the report names them)."""
    out = []
    for g in geoms:
        if g is not None and not g.is_empty and g.geom_type.startswith("Multi") and shapely.get_num_geometries(g) == 1:
            g = shapely.get_geometry(g, 0)
        if kind == "Point" and g is not None and not g.is_empty and g.geom_type in ("Polygon", "MultiPolygon"):
            g = g.representative_point()
        out.append(g)
    return out


def _translate(values: pd.Series, spec: FieldSpec, *, attr: str, where: str, ids: Sequence[str], origin: str,
               problems: list[FieldProblem]) -> pd.Series:
    """Codes through ``values``, blanks to ``default``, numbers through ``unit``."""
    codes = values.map(_code)
    out = codes.astype(object) if spec.values is not None or spec.unit is not None else values.where(codes.notna(), None)
    if spec.values is not None:
        table = {str(k).strip(): v for k, v in spec.values.items()}
        unknown = codes.notna() & ~codes.isin(list(table))
        for code in sorted(set(codes[unknown])):
            hit = [ids[int(i)] for i in np.flatnonzero((codes == code).to_numpy())]
            problems.append(FieldProblem(where, "unknown_code", f"{where}: {origin} has code {code!r} "
                                         f"({len(hit)} feature(s), e.g. {', '.join(hit[:3])}) with no translation in values "
                                         f"(translated: {', '.join(sorted(table))})", None, hit[0]))
        out = codes.map(lambda c: table.get(c) if c is not None else None)
    if spec.default is not None:
        out = out.where(out.notna(), spec.default)
    if spec.unit is not None and attr in QUANTITY:
        factor = UNITS[QUANTITY[attr]][spec.unit.lower()]
        num = pd.to_numeric(out, errors="coerce")
        bad = num.isna() & out.notna()
        if bad.any():
            hit = [ids[int(i)] for i in np.flatnonzero(bad.to_numpy())]
            problems.append(FieldProblem(where, "bad_number", f"{where}: {origin} holds values that are not numbers "
                                         f"({len(hit)} feature(s), e.g. {', '.join(hit[:3])})", None, hit[0]))
        out = num.astype(float) * factor
    return out


# ----------------------------------------------------------------- the import


@dataclass
class ImportResult:
    """The report, the grid file written (None when the source is not valid) and the report's files."""

    report: QualityReport
    written: Path | None
    report_files: dict[str, Path] = field(default_factory=dict)


def _metric_crs(m: MappingFile, frames: Iterable[gpd.GeoDataFrame]) -> pyproj.CRS:
    if m.grid.metric_crs:
        try:
            crs = pyproj.CRS.from_user_input(m.grid.metric_crs)
        except pyproj.exceptions.CRSError:
            raise InputError(f"grid.metric_crs {m.grid.metric_crs!r} is not a known CRS", code="bad_mapping") from None
        if not crs.is_projected:
            raise InputError(f"grid.metric_crs {m.grid.metric_crs!r} is not a projected CRS in metres", code="bad_mapping")
        return crs
    for f in frames:
        if f.crs is not None and f.crs.is_projected and f.crs.axis_info[0].unit_name in ("metre", "meter"):
            return f.crs  # type: ignore[no-any-return]
    raise InputError("the sources are not in a projected CRS in metres: state grid.metric_crs (e.g. \"EPSG:32632\"), "
                     "the CRS in which tolerances and lengths are measured", code="bad_mapping")


def _gather(m: MappingFile, base: Path) -> tuple[dict[str, list[gpd.GeoDataFrame]], list[FieldProblem]]:
    frames: dict[str, list[gpd.GeoDataFrame]] = {}
    problems: list[FieldProblem] = []
    for name, maps in m.layers.items():
        for k, lm in enumerate(maps):
            read = _read_layer(name, lm, f"layers.{name}" + (f"[{k}]" if len(maps) > 1 else ""), m, base)
            frames.setdefault(name, []).append(read.frame)
            problems += read.problems
    return frames, problems


def _combine(frames: Mapping[str, list[gpd.GeoDataFrame]], metric: pyproj.CRS) -> tuple[Layers, list[QualityItem]]:
    """One metric frame per grid layer, features without geometry dropped (and reported)."""
    layers: Layers = {}
    items: list[QualityItem] = []
    for name, parts in frames.items():
        df = pd.concat([p.to_crs(metric) for p in parts], ignore_index=True)
        gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=metric)
        empty = gdf.geometry.isna() | gdf.geometry.is_empty
        for fid in gdf.loc[empty, "id"] if "id" in gdf.columns else []:
            items.append(QualityItem("missing_geometry", SEVERITY["missing_geometry"], name, _code(fid),
                                     f"{name} {_code(fid)} has no geometry"))
        layers[name] = gdf[~empty].reset_index(drop=True)
    return layers, items


def _type_items(layers: Layers) -> tuple[Layers, list[QualityItem]]:
    normal, issues = normalise(layers)
    items = []
    for ti in issues:
        items += [QualityItem("bad_value", SEVERITY["bad_value"], ti.layer, fid, f"{ti.layer}.{ti.column} of {fid} is not {ti.expected}")
                  for fid in ti.ids]
    return normal, items  # located on the map once in WGS84 (gis.quality.located)


def import_mapped(mapping_path: str | Path, out_path: str | Path, *, report_base: str | Path | None = None) -> ImportResult:
    """Import the sources a mapping names into the grid file ``out_path`` (``.gpkg``).

    Writes the report to ``report_base`` (default ``<out without .gpkg>.quality``) as
    ``.json``, ``.csv`` and ``.geojson``; writes the grid (temporary file, reloaded and
    validated, then renamed over ``out_path``) only when the report has no error.
    Distances (snapping tolerance, customer join) are metres in ``grid.metric_crs``.
    """
    out = Path(out_path)
    if out.suffix.lower() != ".gpkg":
        raise InputError(f"the output must be a GeoPackage file (.gpkg), not {out}", code="bad_output")
    mapping_path = Path(mapping_path)
    m = load_mapping(mapping_path)
    frames, problems = _gather(m, mapping_path.resolve().parent)
    if problems:
        raise RecordError(problems, what=f"mapping {mapping_path}", code="bad_mapping")
    metric = _metric_crs(m, (f for parts in frames.values() for f in parts))
    layers, items = _combine(frames, metric)
    layers, type_items = _type_items(layers)
    items += type_items
    snaps: list[Snap] = []
    if not _ids_given(m):
        items += _connect(layers, m.grid.snap_tolerance_m, snaps)
    grid = m.grid
    meta = {"name": grid.name, "timezone": grid.timezone, "nominal_kv": f"{grid.nominal_kv:g}", "metric_crs": metric.to_string()}
    if grid.power_factor is not None:
        meta["power_factor"] = f"{grid.power_factor:g}"
    wgs: Layers = {n: df.to_crs(WGS84) for n, df in layers.items()}
    wgs["meta"] = pd.DataFrame({"key": list(meta), "value": list(meta.values())})
    items = located(items, wgs)
    if any(i.severity == "error" for i in items):
        report = QualityReport(items + check_quality(wgs, metric_crs=metric.to_string(), tolerance_m=grid.snap_tolerance_m,
                                                     join_distance_m=grid.join_distance_m), snaps)
    else:
        report = build_report(wgs, metric_crs=metric.to_string(), tolerance_m=grid.snap_tolerance_m,
                              join_distance_m=grid.join_distance_m, snaps=snaps, source=str(mapping_path))
        report.items = items + report.items
    written = _write_atomically(report.grid.layers(), out, grid.join_distance_m) if report.valid and report.grid is not None else None
    base = report_base if report_base is not None else out.with_suffix("").with_name(out.stem + ".quality")
    files = write_report(report, base, extra={"mapping": str(mapping_path), "written": str(written) if written else None,
                                              "tolerance_m": grid.snap_tolerance_m, "metric_crs": metric.to_string()})
    return ImportResult(report, written, files)


def _connect(layers: Layers, tolerance_m: float, snaps: list[Snap]) -> list[QualityItem]:
    """Fill from_node/to_node of lines and switches from geometry; add the new junctions to nodes."""
    empty = gpd.GeoDataFrame({"id": [], "kind": []}, geometry=[], crs=layers["nodes"].crs)
    switches = layers.get("switches", empty)
    taken = [str(i) for df in layers.values() if "id" in df.columns for i in df["id"]]
    conn = infer_connectivity(layers["nodes"], layers["lines"], switches, tolerance_m=tolerance_m, taken_ids=taken)
    layers["lines"]["from_node"] = [a for a, _ in conn.line_ends]
    layers["lines"]["to_node"] = [b for _, b in conn.line_ends]
    if "switches" in layers:
        layers["switches"]["from_node"] = [a for a, _ in conn.switch_ends]
        layers["switches"]["to_node"] = [b for _, b in conn.switch_ends]
    if len(conn.junctions):
        joined = pd.concat([layers["nodes"], conn.junctions], ignore_index=True)
        layers["nodes"] = normalise({"nodes": gpd.GeoDataFrame(joined, geometry="geometry", crs=layers["nodes"].crs)})[0]["nodes"]
    snaps += conn.snaps
    return conn.problems


def _write_atomically(layers: Layers, out: Path, join_distance_m: float) -> Path:
    """Write to a temporary file beside ``out``, reload it as a grid, then rename it over ``out``."""
    from gis.grid import load_grid

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{uuid.uuid4().hex[:8]}.tmp.gpkg")
    try:
        write_grid(layers, tmp)
        load_grid(tmp, join_distance_m=join_distance_m)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


# ----------------------------------------------------------------- suggesting a mapping

#: Words a source's layer names use for each grid layer (compared lower-case).
LAYER_WORDS: dict[str, tuple[str, ...]] = {
    "substations": ("substation", "substations", "primary", "uw", "umspannwerk", "ss", "station_primary", "biandianzhan"),
    "nodes": ("node", "nodes", "station", "stations", "stationen", "rmu", "transformer", "trafo", "pole", "busbar", "kiosk"),
    "lines": ("line", "lines", "cable", "cables", "kabel", "leitung", "conductor", "span", "segment", "feeder_segment"),
    "switches": ("switch", "switches", "schalter", "breaker", "fuse", "disconnector", "device"),
    "customers": ("customer", "customers", "kunden", "kunde", "consumer", "meter", "service_point", "account"),
    "depots": ("depot", "depots", "base", "yard"),
    "dg": ("dg", "generator", "pv", "solar", "der", "erzeugung"),
}
#: Words a source's field names use for each grid column (compared lower-case).
FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "obj_id", "objid", "asset_id", "gis_id", "nr", "number", "objectid", "fid"),
    "name": ("name", "bez", "bezeichnung", "label", "description", "desc"),
    "kind": ("kind", "type", "typ", "art", "class", "sw_type", "sw_typ", "category"),
    "substation_id": ("substation_id", "substation", "uw", "uw_ref", "uw_id", "station_ref", "sub_id"),
    "kva": ("kva", "tr_kva", "rating_kva", "leistung", "power", "trafo_kva"),
    "capacity_kva": ("capacity_kva", "capacity", "kap", "kap_mva", "mva", "leistung"),
    "rating_a": ("rating_a", "rating", "ampacity", "i_max", "imax", "i_max_ka", "strom", "current"),
    "length_m": ("length_m", "length", "laenge", "len", "shape_length", "laenge_km", "length_km"),
    "normally_open": ("normally_open", "open", "offen", "normal_open", "no", "n_open", "status"),
    "remote": ("remote", "fern", "scada", "telecontrol", "remote_ctl"),
    "fault_indicator": ("fault_indicator", "fi", "kzm", "indicator", "fpi"),
    "category": ("category", "kat", "class", "tariff", "segment"),
    "importance": ("importance", "grade", "prio", "priority", "critical"),
    "demand_kw": ("demand_kw", "demand", "load", "p_kw", "leist_kw", "kw", "peak_kw"),
    "node_id": ("node_id", "node", "station", "trafo_ref", "st_ref"),
    "phone": ("phone", "tel", "telefon"),
    "address": ("address", "adresse", "addr", "street"),
    "p_kw": ("p_kw", "kw", "power", "leistung"),
}
_UNIT_SUFFIX = {"_ka": "kA", "_a": "A", "_km": "km", "_m": "m", "_mva": "MVA", "_kva": "kVA", "_mw": "MW", "_kw": "kW", "_w": "W"}


def _similarity(name: str, words: Iterable[str]) -> float:
    n = name.lower()
    return max((1.0 if n == w else difflib.SequenceMatcher(None, n, w).ratio()) for w in words)


def _guess_layer(name: str, geometry: str) -> str | None:
    linear = "Line" in geometry
    choices = [g for g in LAYER_WORDS if (LAYERS[g].geometry == "LineString") == linear]
    scored = sorted(((_similarity(name, LAYER_WORDS[g]), g) for g in choices), reverse=True)
    return scored[0][1] if scored and scored[0][0] >= 0.5 else None


def _guess_field(column: str, fields: Sequence[str], used: set[str]) -> str | None:
    words = FIELD_WORDS.get(column, (column,))
    scored = sorted(((_similarity(f, words), f) for f in fields if f not in used), reverse=True)
    return scored[0][1] if scored and scored[0][0] >= 0.75 else None


def _guess_unit(column: str, field_name: str) -> str | None:
    if column not in QUANTITY:
        return None
    low = field_name.lower()
    for suffix, unit in _UNIT_SUFFIX.items():
        if low.endswith(suffix) and unit.lower() in UNITS[QUANTITY[column]]:
            return unit
    return _unit_names(QUANTITY[column])[0 if QUANTITY[column] != "apparent power" else 1]


def _guess_code(code: str, allowed: Sequence[str]) -> str:
    low = code.lower()
    for a in allowed:
        if low == a or (len(low) >= 3 and a.startswith(low)):
            return a
    close = difflib.get_close_matches(low, allowed, n=1, cutoff=0.8)
    return close[0] if close else PLACEHOLDER


def _distinct(source: str, layer: str, field_name: str, limit: int = 50) -> list[str]:
    try:
        df = pyogrio.read_dataframe(source, layer=layer, columns=[field_name], read_geometry=False)
    except Exception:  # a field we cannot read is left to the human
        return []
    return sorted({c for c in map(_code, df[field_name]) if c is not None})[:limit]


def _suggest_fields(source: str, layer: str, grid_layer: str, fields: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    used: set[str] = set()
    out: dict[str, Any] = {}
    unmatched = []
    for col in LAYERS[grid_layer].columns:
        if col.name in INFERRED.get(grid_layer, ()):
            continue
        f = _guess_field(col.name, fields, used)
        if f is None:
            if col.required:
                out[col.name] = PLACEHOLDER
            else:
                unmatched.append(col.name)
            continue
        used.add(f)
        spec: dict[str, Any] = {"field": f}
        unit = _guess_unit(col.name, f)
        if unit:
            spec["unit"] = unit
        allowed = ENUMS.get((grid_layer, col.name))
        if allowed:
            spec["values"] = {c: _guess_code(c, allowed) for c in _distinct(source, layer, f)}
        elif col.dtype == "bool":
            codes = _distinct(source, layer, f)
            if not all(_is_bool(c) for c in codes):
                spec["values"] = {c: PLACEHOLDER for c in codes}
        out[col.name] = spec if len(spec) > 1 else f
    return out, unmatched


def _is_bool(code: str) -> bool:
    try:
        parse_bool(code)
    except InputError:
        return False
    return True


def _utm(lon: float, lat: float) -> str:
    return f"EPSG:{(32600 if lat >= 0 else 32700) + int((lon + 180) // 6) + 1}"


def suggest_mapping(source: str | Path) -> str:
    """A template mapping (TOML text) for ``source``: one ``[[layers.<grid layer>]]`` per source
    layer whose name and geometry suggest a grid layer, its fields guessed by name similarity,
    the distinct values of coded fields listed under ``values``, and ``"?"`` wherever a human
    must decide (the import refuses a mapping that still holds one)."""
    src = str(source)
    try:
        listed = [(str(n), str(g)) for n, g in pyogrio.list_layers(src)]
    except Exception as exc:
        raise InputError(f"cannot open source {src}: {exc}", code="bad_source") from None
    doc: dict[str, Any] = {"grid": {}, "source": {"path": src}, "layers": {}}
    notes = [f"Mapping suggested from {src}. Replace every \"?\"; check every guess.", ""]
    metric: str | None = None
    for name, geometry in listed:
        grid_layer = _guess_layer(name, geometry)
        if grid_layer is None:
            notes.append(f"source layer {name} ({geometry}): no grid layer guessed, not mapped")
            continue
        info = pyogrio.read_info(src, layer=name, force_total_bounds=True)
        fields = [str(f) for f in info["fields"]] + ([str(info["fid_column"])] if info.get("fid_column") else [])
        mapped, unmatched = _suggest_fields(src, name, grid_layer, fields)
        entry: dict[str, Any] = {"layer": name}
        crs = pyproj.CRS.from_user_input(info["crs"]) if info.get("crs") else None
        if crs is None:
            entry["crs"] = PLACEHOLDER
        elif metric is None:
            metric = _metric_guess(crs, info.get("total_bounds"))
        entry["fields"] = mapped
        doc["layers"].setdefault(grid_layer, []).append(entry)
        if unmatched:
            notes.append(f"layers.{grid_layer} ({name}): no field guessed for optional {', '.join(unmatched)}")
    doc["grid"] = {"name": Path(src).stem or src, "timezone": PLACEHOLDER, "nominal_kv": PLACEHOLDER,
                   "metric_crs": metric or PLACEHOLDER, "snap_tolerance_m": 1.0, "join_distance_m": 500.0}
    for required in (n for n in SPATIAL_LAYERS if LAYERS[n].required):
        if required not in doc["layers"]:
            notes.append(f"no source layer looks like {required}: add a [[layers.{required}]] table")
    header = "".join(f"# {line}\n" if line else "#\n" for line in notes)
    return header + "\n" + to_toml(doc)


def _metric_guess(crs: pyproj.CRS, bounds: Any) -> str | None:
    if crs.is_projected and crs.axis_info[0].unit_name in ("metre", "meter"):
        epsg = crs.to_epsg()
        return f"EPSG:{epsg}" if epsg else crs.to_string()
    if bounds is None or not np.all(np.isfinite(bounds)):
        return None
    x0, y0, x1, y1 = (float(b) for b in bounds)
    lon, lat = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True).transform((x0 + x1) / 2, (y0 + y1) / 2)
    return _utm(lon, lat)


# ----------------------------------------------------------------- TOML writing


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON string escapes are TOML basic-string escapes
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_key(str(k))} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise InputError(f"cannot write {v!r} as TOML", code="bad_mapping")


def to_toml(doc: Mapping[str, Any]) -> str:
    """A mapping document (as :func:`tomllib.loads` gives it) as TOML text: tables for nested
    mappings, arrays of tables for lists of mappings, inline tables inside ``fields``."""
    lines: list[str] = []

    def table(d: Mapping[str, Any], path: list[str], inline: bool) -> None:
        nested: list[tuple[str, Any, bool]] = []
        for k, v in d.items():
            if not inline and isinstance(v, Mapping):
                nested.append((k, v, False))
            elif not inline and isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v):
                nested.append((k, v, True))
            else:
                lines.append(f"{_key(str(k))} = {_value(v)}")
        for k, v, many in nested:
            sub = [*path, _key(str(k))]
            for item in (v if many else [v]):
                lines.append("")
                lines.append(f"[[{'.'.join(sub)}]]" if many else f"[{'.'.join(sub)}]")
                table(item, sub, k == "fields")

    table(doc, [], False)
    return "\n".join(lines).lstrip("\n") + "\n"
