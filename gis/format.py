"""The grid interchange format: layer schemas, reading and writing.

A grid is either one **GeoPackage** file holding the layers below, or a
**folder** of ``<layer>.geojson`` files plus ``meta.csv`` and ``profiles.csv``.
Spatial layers are in EPSG:4326 (lon, lat). See ``docs/grid-format.md``.

This module only moves tables between files and memory and normalises column
types; it does not judge the content (that is :mod:`gis.validate`). Columns a
layer does not define are kept as they are, so reading and writing round-trip.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gis.errors import InputError
from gis.geojson import WGS84, to_geojson
from gis.records import parse_bool, read_csv_table


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # "str", "float", "bool", "int"
    required: bool = True
    default: Any = None


@dataclass(frozen=True)
class LayerSchema:
    name: str
    geometry: str | None  # "Point", "LineString" or None for attribute tables
    columns: tuple[Column, ...]
    required: bool = True


NODE_KINDS = ("busbar", "rmu", "distribution_room", "pole_transformer", "junction")
DG_KINDS = ("pv", "wind", "storage", "chp", "hydro", "other")
TAP_SIDES = ("hv", "lv")
LINE_KINDS = ("cable", "overhead")
SWITCH_KINDS = ("breaker", "load_break", "disconnector", "fuse")
CATEGORIES = ("residential", "commercial", "industrial", "public")
IMPORTANCE = ("special", "first", "second", "temporary", "normal")
DAY_TYPES = ("weekday", "saturday", "sunday")
SUPPLY_NODE_KINDS = ("distribution_room", "pole_transformer")

ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("nodes", "kind"): NODE_KINDS,
    ("lines", "kind"): LINE_KINDS,
    ("switches", "kind"): SWITCH_KINDS,
    ("customers", "category"): CATEGORIES,
    ("customers", "importance"): IMPORTANCE,
    ("profiles", "day_type"): DAY_TYPES,
    ("dg", "kind"): DG_KINDS,
    ("transformers", "tap_side"): TAP_SIDES,
}

LAYERS: dict[str, LayerSchema] = {
    s.name: s
    for s in (
        LayerSchema(
            "substations",
            "Point",
            (Column("id", "str"), Column("name", "str"), Column("capacity_kva", "float", False)),
        ),
        LayerSchema(
            "nodes",
            "Point",
            (
                Column("id", "str"),
                Column("kind", "str"),
                Column("name", "str", False, ""),
                Column("substation_id", "str", False),
                Column("kva", "float", False),
                Column("access_lon", "float", False),
                Column("access_lat", "float", False),
                Column("vn_kv", "float", False),
                Column("vm_pu", "float", False),
                Column("rating_a", "float", False),
            ),
        ),
        LayerSchema(
            "lines",
            "LineString",
            (
                Column("id", "str"),
                Column("from_node", "str"),
                Column("to_node", "str"),
                Column("kind", "str"),
                Column("rating_a", "float", False),
                Column("length_m", "float", False),
                Column("type", "str", False),
                Column("r_ohm_per_km", "float", False),
                Column("x_ohm_per_km", "float", False),
                Column("c_nf_per_km", "float", False),
            ),
        ),
        LayerSchema(
            "switches",
            "Point",
            (
                Column("id", "str"),
                Column("from_node", "str"),
                Column("to_node", "str"),
                Column("kind", "str"),
                Column("normally_open", "bool", False, False),
                Column("remote", "bool", False, False),
                Column("fault_indicator", "bool", False, False),
                Column("rating_a", "float", False),
            ),
        ),
        LayerSchema(
            "customers",
            "Point",
            (
                Column("id", "str"),
                Column("name", "str", False, ""),
                Column("node_id", "str", False),
                Column("category", "str"),
                Column("importance", "str", False, "normal"),
                Column("demand_kw", "float"),
                Column("power_factor", "float", False),
                Column("profile", "str", False),
                Column("phone", "str", False),
                Column("address", "str", False),
                Column("backup_power", "bool", False, False),
                Column("dual_supply", "bool", False, False),
                Column("peak_hours", "str", False),
                Column("account", "str", False),
            ),
        ),
        LayerSchema("depots", "Point", (Column("id", "str"), Column("name", "str", False, "")), False),
        LayerSchema(
            "transformers",
            "Point",
            (
                Column("id", "str"),
                Column("hv_node", "str"),
                Column("lv_node", "str"),
                Column("sn_kva", "float"),
                Column("substation_id", "str", False),
                Column("name", "str", False, ""),
                Column("vn_hv_kv", "float", False),
                Column("vn_lv_kv", "float", False),
                Column("vk_percent", "float", False),
                Column("vkr_percent", "float", False),
                Column("pfe_kw", "float", False),
                Column("i0_percent", "float", False),
                Column("tap_side", "str", False, "hv"),
                Column("tap_pos", "float", False),
                Column("tap_neutral", "float", False),
                Column("tap_step_percent", "float", False),
            ),
            False,
        ),
        LayerSchema(
            "dg",
            "Point",
            (
                Column("id", "str"),
                Column("node_id", "str"),
                Column("kind", "str"),
                Column("p_kw", "float"),
                Column("name", "str", False, ""),
                Column("profile", "str", False),
                Column("in_service", "bool", False, True),
            ),
            False,
        ),
        LayerSchema("meta", None, (Column("key", "str"), Column("value", "str"))),
        LayerSchema(
            "profiles",
            None,
            (
                Column("profile", "str"),
                Column("day_type", "str"),
                Column("minute_of_day", "int"),
                Column("factor", "float"),
            ),
            False,
        ),
        LayerSchema(
            "line_types",
            None,
            (
                Column("type", "str"),
                Column("r_ohm_per_km", "float"),
                Column("x_ohm_per_km", "float"),
                Column("c_nf_per_km", "float", False),
                Column("rating_a", "float"),
                Column("kind", "str", False),
            ),
            False,
        ),
    )
}

SPATIAL_LAYERS = tuple(n for n, s in LAYERS.items() if s.geometry)
TABLES = tuple(n for n, s in LAYERS.items() if not s.geometry)
REQUIRED_META = ("name", "timezone", "nominal_kv", "metric_crs")
Layers = dict[str, pd.DataFrame]


# ---------------------------------------------------------------------------
# type normalisation


def _as_str(series: pd.Series) -> pd.Series:
    """Strings stay strings, numbers that are whole become '12' not '12.0', missing is None."""

    def conv(v: Any) -> Any:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, bytes):
            return v.decode("utf-8")
        return str(v)

    if series.dtype == object or pd.api.types.is_string_dtype(series):
        kind = pd.api.types.infer_dtype(series, skipna=True)  # C speed, no per-value Python
        if kind in ("string", "empty"):
            values = series.to_numpy(dtype=object)
            missing = pd.isna(values)
            if missing.any():
                values = values.copy()
                values[missing] = None
            return pd.Series(values, index=series.index, dtype=object)
    return pd.Series([conv(v) for v in series.to_numpy(dtype=object)], index=series.index, dtype=object)


def _as_bool(series: pd.Series, default: bool) -> tuple[pd.Series, list[int]]:
    """Return the boolean column and the positions whose value is not a boolean
    (missing values take ``default``; words as :func:`gis.records.parse_bool` reads them)."""
    if series.dtype == bool:
        return series, []
    out = np.empty(len(series), dtype=bool)
    bad: list[int] = []
    for i, v in enumerate(series.to_numpy(dtype=object)):
        try:
            out[i] = parse_bool(v, default=default)
        except InputError:
            out[i] = default
            bad.append(i)
    return pd.Series(out, index=series.index), bad


def _as_float(series: pd.Series) -> tuple[pd.Series, list[int]]:
    """Return the float column and the positions that were present but not numbers."""
    num = pd.to_numeric(series, errors="coerce").astype(float)
    present = series.notna() & ~series.astype(object).isin(["", None])
    bad = np.flatnonzero((num.isna() & present).to_numpy())
    return num, [int(i) for i in bad]


@dataclass(frozen=True)
class TypeIssue:
    layer: str
    column: str
    ids: tuple[str, ...]
    expected: str


def normalise(layers: Mapping[str, pd.DataFrame]) -> tuple[Layers, list[TypeIssue]]:
    """Coerce every known column to its type and add missing optional columns.

    Returns the normalised layers and the values that could not be coerced
    (reported by validation, never silently dropped: a bad number becomes NaN
    and is listed).
    """
    out: Layers = {}
    issues: list[TypeIssue] = []
    for name, df in layers.items():
        schema = LAYERS.get(name)
        if schema is None:
            out[name] = df
            continue
        df = df.copy()
        if not isinstance(df.index, pd.RangeIndex):
            df = df.reset_index(drop=True)
        ids = _as_str(df["id"]) if "id" in df.columns else pd.Series(df.index.astype(str))
        for col in schema.columns:
            if col.name not in df.columns:
                if col.required:
                    continue  # validation reports the missing column
                df[col.name] = col.default if col.default is not None else (np.nan if col.dtype == "float" else None)
            s = df[col.name]
            if col.dtype == "str":
                df[col.name] = _as_str(s)
            elif col.dtype == "bool":
                df[col.name], bad = _as_bool(s, bool(col.default))
                if bad:
                    issues.append(TypeIssue(name, col.name, tuple(ids.iloc[bad]), "true/false"))
            elif col.dtype in ("float", "int"):
                conv, bad = _as_float(s)
                if bad:
                    issues.append(TypeIssue(name, col.name, tuple(map(str, ids.iloc[bad])), "a number"))
                if col.dtype == "int" and not conv.isna().any() and (conv % 1 == 0).all():
                    df[col.name] = conv.astype(np.int64)
                else:
                    df[col.name] = conv
        out[name] = df
    return out, issues


# ---------------------------------------------------------------------------
# reading


def read_layers(path: str | Path) -> Layers:
    """Read every layer of a grid file (GeoPackage) or folder (GeoJSON + CSV).

    Spatial layers come back as GeoDataFrames with the CRS stored in the file
    (possibly None or not EPSG:4326: validation reports and reprojects);
    attribute tables as DataFrames. Column types are as stored; call
    :func:`normalise` to coerce them.

    Raises :class:`gis.errors.InputError` when the path does not exist or is not
    a grid.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"grid path does not exist: {p}", code="grid_not_found")
    if p.is_dir():
        return _read_folder(p)
    if p.suffix.lower() == ".gpkg":
        return _read_gpkg(p)
    raise InputError(
        f"not a grid: {p} (expected a .gpkg file or a folder of <layer>.geojson files)",
        code="grid_format",
    )


def _read_gpkg(path: Path) -> Layers:
    try:
        present = {str(row[0]) for row in pyogrio.list_layers(path)}
    except Exception as exc:  # GDAL raises its own types for corrupt files
        raise InputError(f"cannot open GeoPackage {path}: {exc}", code="grid_format") from exc
    layers: Layers = {}
    for name in present:
        try:
            df = pyogrio.read_dataframe(path, layer=name, use_arrow=True)
        except Exception as exc:
            raise InputError(f"cannot read layer {name!r} of {path}: {exc}", code="grid_format") from exc
        if isinstance(df, gpd.GeoDataFrame) and LAYERS.get(name) is not None and not LAYERS[name].geometry:
            df = pd.DataFrame(df.drop(columns=df.geometry.name))
        layers[name] = df
    return layers


def _read_table(path: Path) -> pd.DataFrame:
    """One CSV table of a grid folder, all values as text (UTF-8, see :func:`gis.records.read_csv_table`)."""
    table = read_csv_table(path, what=f"grid table {path.name}", code="grid_format", unreadable_code="grid_format")
    rows = [[row.cells.get(c, "") for c in table.columns] for row in table.rows]
    return pd.DataFrame(rows, columns=list(table.columns), dtype=str)


def _read_folder(path: Path) -> Layers:
    layers: Layers = {}
    for f in sorted(path.glob("*.geojson")):
        df = read_geojson(f)
        schema = LAYERS.get(f.stem)
        if df.empty and schema is not None:  # an empty FeatureCollection names no columns
            for col in schema.columns:
                if col.name not in df.columns:
                    df[col.name] = pd.Series(dtype=object)
        layers[f.stem] = df
    for f in sorted(path.glob("*.csv")):
        if f.stem in TABLES:
            layers[f.stem] = _read_table(f)
    if not layers:
        raise InputError(f"folder {path} holds no <layer>.geojson files", code="grid_format")
    return layers


def read_geojson(path: str | Path) -> gpd.GeoDataFrame:
    """Read one GeoJSON FeatureCollection exactly (values as written, no type guessing).

    A FeatureCollection with no ``crs`` member is EPSG:4326 (RFC 7946); a legacy
    ``crs`` member naming another CRS is honoured, and ``"crs": null`` means unknown.
    """
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read GeoJSON {path}: {exc}", code="grid_format") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError(f"{path} is not a GeoJSON FeatureCollection", code="grid_format")
    crs: str | None = WGS84
    if "crs" in doc:
        crs_doc = doc["crs"]
        crs = None if crs_doc is None else str(crs_doc.get("properties", {}).get("name") or "") or None
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for feat in doc.get("features", []):
        props = dict(feat.get("properties") or {})
        if "id" not in props and feat.get("id") is not None:
            props["id"] = feat["id"]
        rows.append(props)
        g = feat.get("geometry")
        try:
            geoms.append(shapely.geometry.shape(g) if g else None)
        except Exception:
            geoms.append(None)
    df = pd.DataFrame(rows)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index), crs=crs)


def read_postgis(url_or_engine: Any, *, schema: str = "public") -> Layers:
    """Read a grid from PostGIS tables named like the layers (``substations``, ``nodes``, ...).

    Spatial tables are read with :func:`geopandas.read_postgis` using the geometry
    column PostGIS registers for them; ``meta`` and ``profiles`` as plain tables.
    ``url_or_engine`` is an SQLAlchemy URL (``postgresql+psycopg://...``) or engine.
    """
    import sqlalchemy as sa

    engine = sa.create_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    layers: Layers = {}
    with engine.connect() as con:
        tables = {
            r[0]
            for r in con.execute(
                sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema},
            )
        }
        geom_cols = {
            r[0]: r[1]
            for r in con.execute(
                sa.text("SELECT f_table_name, f_geometry_column FROM geometry_columns WHERE f_table_schema = :s"),
                {"s": schema},
            )
        }
        for name, layer in LAYERS.items():
            if name not in tables:
                continue
            qname = f'"{schema}"."{name}"'
            if layer.geometry and name in geom_cols:
                layers[name] = gpd.read_postgis(
                    sa.text(f"SELECT * FROM {qname}"), con, geom_col=geom_cols[name]
                )
            else:
                layers[name] = pd.read_sql(sa.text(f"SELECT * FROM {qname}"), con)
    if not layers:
        raise InputError(f"no grid tables found in schema {schema!r}", code="grid_format")
    return layers


# ---------------------------------------------------------------------------
# writing


def _ordered(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Schema columns first (in schema order), then extra columns in their order."""
    schema = LAYERS.get(name)
    if schema is None:
        return df
    known = [c.name for c in schema.columns if c.name in df.columns]
    geom = [df.geometry.name] if isinstance(df, gpd.GeoDataFrame) else []
    extra = [c for c in df.columns if c not in known and c not in geom]
    return df[known + extra + geom]


def write_grid(layers: Mapping[str, pd.DataFrame], path: str | Path, *, overwrite: bool = True) -> Path:
    """Write layers to a GeoPackage (``path`` ends in ``.gpkg``) or a GeoJSON folder.

    Spatial layers must be GeoDataFrames in EPSG:4326. The output is
    deterministic: the same layers give byte-identical files (the GeoPackage
    timestamp is fixed). Returns the path written.
    """
    p = Path(path)
    for name, df in layers.items():
        schema = LAYERS.get(name)
        if schema is not None and schema.geometry and not isinstance(df, gpd.GeoDataFrame):
            raise InputError(f"layer {name!r} must be a GeoDataFrame", code="grid_format")
        if isinstance(df, gpd.GeoDataFrame) and df.crs is not None and not df.crs.equals(WGS84):
            raise InputError(f"layer {name!r} must be in EPSG:4326, not {df.crs}", code="grid_format")
    if p.suffix.lower() == ".gpkg":
        _write_gpkg(layers, p, overwrite=overwrite)
    else:
        _write_folder(layers, p)
    return p


def _write_gpkg(layers: Mapping[str, pd.DataFrame], path: Path, *, overwrite: bool) -> None:
    if path.exists():
        if not overwrite:
            raise InputError(f"{path} exists", code="exists")
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fixed timestamp makes the file reproducible byte for byte.
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    try:
        for name in _write_order(layers):
            df = _ordered(name, layers[name])
            kwargs: dict[str, Any] = {"layer": name, "driver": "GPKG", "append": path.exists()}
            if isinstance(df, gpd.GeoDataFrame):
                schema = LAYERS.get(name)
                geometry_type = schema.geometry if schema and schema.geometry else None
                pyogrio.write_dataframe(
                    df, path, geometry_type=geometry_type, layer_options={"SPATIAL_INDEX": "YES"}, **kwargs
                )
            else:
                pyogrio.write_dataframe(pd.DataFrame(df), path, **kwargs)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def _write_order(layers: Mapping[str, pd.DataFrame]) -> list[str]:
    known = [n for n in LAYERS if n in layers]
    return known + sorted(n for n in layers if n not in LAYERS)



def _write_folder(layers: Mapping[str, pd.DataFrame], path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for name in _write_order(layers):
        df = _ordered(name, layers[name])
        if isinstance(df, gpd.GeoDataFrame):
            doc = to_geojson(df)
            (path / f"{name}.geojson").write_text(
                json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
            )
        else:
            df.to_csv(path / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
