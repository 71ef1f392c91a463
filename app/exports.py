"""Exports: affected customers as CSV (UTF-8 with BOM), XLSX, GeoJSON; notice lists.

The rows come from :mod:`app.services.customers` (stored rows joined with the grid's
customers, times already ISO 8601 in the grid's time zone); this module only writes them.

File names carry the subject id and date: ``outage-12-customers-2026-12-01.csv``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import pandas as pd

from gis import geojson
from gis.errors import NotFoundError


def _cell(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    return v


def _safe_text(v: Any) -> Any:
    """Defuse spreadsheet formulas in user text (CSV/XLSX injection)."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def to_csv(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(list(df.columns))
    for row in df.itertuples(index=False):
        w.writerow([_safe_text(_cell(v)) for v in row])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def to_xlsx(df: pd.DataFrame, *, sheet: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([_safe_text(_cell(v)) for v in row])
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_geojson(df: pd.DataFrame) -> bytes:
    """Rows with ``lon``/``lat`` (WGS84) as a FeatureCollection of points with its ``bbox``."""
    points = gpd.GeoDataFrame(
        df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=geojson.WGS84
    )
    doc = geojson.to_geojson(points, bbox=True)
    return json.dumps(doc, ensure_ascii=False, allow_nan=False).encode()


FORMATS = {
    "csv": ("text/csv; charset=utf-8", to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", None),
    "geojson": ("application/geo+json", to_geojson),
}


def render(df: pd.DataFrame, fmt: str, *, sheet: str) -> tuple[bytes, str]:
    if fmt not in FORMATS:
        raise NotFoundError(f"unknown export format {fmt!r}; use csv, xlsx or geojson")
    mimetype, fn = FORMATS[fmt]
    if fmt == "xlsx":
        return to_xlsx(df, sheet=sheet), mimetype
    assert fn is not None
    return fn(df), mimetype


def filename(subject: str, subject_id: Any, what: str, day: date | datetime | None, ext: str) -> str:
    d = (day.date() if isinstance(day, datetime) else day) or date.today()
    return f"{subject}-{subject_id}-{what}-{d.isoformat()}.{ext}"
