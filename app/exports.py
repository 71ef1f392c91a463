"""Exports: affected customers as CSV (UTF-8 with BOM), XLSX, GeoJSON; notice lists.

File names carry the subject id and date: ``outage-12-customers-2026-12-01.csv``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any

import pandas as pd

from gis import Grid
from gis.errors import NotFoundError
from gis.records import json_safe

CUSTOMER_COLUMNS = ["id", "name", "importance", "category", "demand_kw", "node_id", "feeder", "address", "lon", "lat"]
NOTICE_COLUMNS = ["customer_id", "name", "importance", "address", "supply", "notice_due", "sms_due"]


def customers_frame(grid: Grid, ids: list[str], *, with_phones: bool, extra: dict[str, dict[str, Any]] | None = None) -> pd.DataFrame:
    """Rows of the grid's customers for ``ids`` (order kept), phones only when allowed."""
    cust = grid.customers.set_index("id", drop=False)
    known = [i for i in ids if i in cust.index]
    df = cust.loc[known]
    feeders = grid.customer_feeders()  # the normal-state feeder of each customer
    out = pd.DataFrame({
        "id": df["id"].astype(str).to_numpy(),
        "name": df["name"].astype(object).where(df["name"].notna(), "").to_numpy(),
        "importance": df["importance"].astype(str).to_numpy(),
        "category": df["category"].astype(object).where(df["category"].notna(), "").to_numpy() if "category" in df else "",
        "demand_kw": df["demand_kw"].astype(float).to_numpy(),
        "node_id": df["node_id"].astype(object).where(df["node_id"].notna(), "").to_numpy(),
        "feeder": [feeders.get(i) or "" for i in df["id"]],
        "address": df["address"].astype(object).where(df["address"].notna(), "").to_numpy() if "address" in df else "",
        "lon": df.geometry.x.round(7).to_numpy(),
        "lat": df.geometry.y.round(7).to_numpy(),
    })
    if with_phones:
        out.insert(2, "phone", df["phone"].astype(object).where(df["phone"].notna(), "").to_numpy() if "phone" in df else "")
    for key, per_id in (extra or {}).items():
        out[key] = [per_id.get(i) for i in out["id"]]
    return out


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
    features = []
    for rec in df.to_dict(orient="records"):
        lon, lat = rec.pop("lon"), rec.pop("lat")
        props = {k: json_safe(v) for k, v in rec.items()}
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props})
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if len(df):
        doc["bbox"] = [float(df["lon"].min()), float(df["lat"].min()), float(df["lon"].max()), float(df["lat"].max())]
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
