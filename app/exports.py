"""Exports: affected customers as CSV (UTF-8 with BOM), XLSX, GeoJSON; notice lists.

The rows come from :mod:`app.services.customers` (stored rows joined with the grid's
customers, times already ISO 8601 in the grid's time zone); this module only writes them.

Spreadsheet formulas are kept out by type, cell by cell (:func:`_safe_cell`): numbers
are written as numbers; a phone column's value that looks like a phone number
(``+377 9300 0000``: digits, spaces, ``+()./-``) as it is, and as a text cell in
XLSX; any other text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (names, addresses, job descriptions) gets a leading ``'`` so no spreadsheet
runs it, and every text is a text cell in XLSX (never a formula).

File names carry the subject id and date: ``outage-12-customers-2026-12-01.csv``.
"""

from __future__ import annotations

import csv
import io
import json
import re
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


#: Columns holding phone numbers: a phone-shaped value there is written as it is.
PHONE_COLUMNS = frozenset({"phone"})
#: A phone number: an optional ``+``, then digits with spaces, ``()``, ``.``, ``/`` or ``-``.
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()./-]{2,30}$")
#: First characters that make a spreadsheet read text as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(column: str, v: Any) -> Any:
    """A value for a spreadsheet cell: numbers unchanged, a phone number in a phone column
    unchanged, other text starting like a formula behind a ``'`` (CSV/XLSX injection)."""
    if not isinstance(v, str):
        return v
    if column in PHONE_COLUMNS and PHONE_RE.match(v):
        return v
    return "'" + v if v.startswith(FORMULA_STARTS) else v


def _cells(df: pd.DataFrame) -> Any:
    columns = [str(c) for c in df.columns]
    for row in df.itertuples(index=False):
        yield [_safe_cell(c, _cell(v)) for c, v in zip(columns, row, strict=True)]


def to_csv(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(list(df.columns))
    w.writerows(_cells(df))
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def to_xlsx(df: pd.DataFrame, *, sheet: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append([str(c) for c in df.columns])
    for values in _cells(df):
        ws.append(values)
    for column in ws.iter_cols(min_row=1):
        for cell in column:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula
                if column[0].value in PHONE_COLUMNS:
                    cell.number_format = "@"
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
