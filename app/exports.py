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
from collections.abc import Sequence
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


def _text_cells(ws: Any, row: int) -> None:
    """Every text cell of ``row`` a text cell (never a formula); phone columns formatted as text."""
    for cell in ws[row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _write_table(ws: Any, df: pd.DataFrame) -> None:
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


def _save(wb: Any) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_xlsx_book(sheets: Sequence[tuple[str, pd.DataFrame]]) -> bytes:
    """One workbook, a sheet per ``(name, rows)`` in order (names cut to Excel's 31 characters)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, df in sheets:
        _write_table(wb.create_sheet(name[:31]), df)
    return _save(wb)


def to_xlsx(df: pd.DataFrame, *, sheet: str) -> bytes:
    return to_xlsx_book([(sheet, df)])


def to_signing_xlsx(*, title: str, header: Sequence[tuple[str, str]], columns: Sequence[str],
                    rows: Sequence[Sequence[str]], signatures: Sequence[str], sheet: str) -> bytes:
    """A form to print and sign (the switching sheet, 操作票): ``title``, ``header`` label/value
    lines, the table (``columns`` then ``rows``, bordered, the column header repeated on every
    printed page), then a line to sign per ``signatures`` label. Landscape, fit to the page
    width. Text cells only, defused like every export (:func:`_safe_cell`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    width = len(columns)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.append([_safe_cell("", title)])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    for label, value in header:
        ws.append([_safe_cell("", label), _safe_cell("", value)])
        r = ws.max_row
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=width)
        ws.cell(r, 1).font = Font(bold=True)
        ws.cell(r, 2).border = Border(bottom=thin)
        _text_cells(ws, r)
    ws.append([])
    ws.append([_safe_cell("", c) for c in columns])
    head = ws.max_row
    for cell in ws[head]:
        cell.font, cell.border = Font(bold=True), box
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    _text_cells(ws, head)
    for values in rows:
        ws.append([_safe_cell("", v) for v in values])
        for cell in ws[ws.max_row]:
            cell.border = box
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        _text_cells(ws, ws.max_row)
    ws.append([])
    for label in signatures:
        ws.append([_safe_cell("", label)])
        r = ws.max_row
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=3)
        ws.cell(r, 1).font = Font(bold=True)
        for col in range(4, width + 1):
            ws.cell(r, col).border = Border(bottom=thin)
        ws.row_dimensions[r].height = 28
        _text_cells(ws, r)
    widths = [6, 8, 14, 16, 28, 22, 18, 48, 14, 14]
    for k in range(width):
        ws.column_dimensions[chr(ord("A") + k)].width = widths[k] if k < len(widths) else 14
    ws.print_title_rows = f"{head}:{head}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return _save(wb)


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
