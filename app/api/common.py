"""Small helpers shared by the API views."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import marshmallow as ma
from flask import Response, current_app, request
from sqlalchemy.orm import Session
from webargs.fields import DelimitedList

from app.db import get_session
from app.exports import filename, render
from app.services.customers import search_customers
from app.times import local, local_iso
from gis import Grid
from gis.errors import ConflictError, InputError, NotFoundError

T = TypeVar("T")



def session() -> Session:
    return get_session()


def grid() -> Grid:
    return current_app.extensions["grid"]


MAX_INT_ID = 2**31 - 1  # INTEGER primary keys on both databases


def get_or_404(model: type[T], ident: Any, what: str) -> T:
    if isinstance(ident, int) and not 0 < ident <= MAX_INT_ID:
        raise NotFoundError(f"no {what} {ident!r}", details={what: ident})
    obj = session().get(model, ident)
    if obj is None:
        raise NotFoundError(f"no {what} {ident!r}", details={what: ident})
    return obj


def check_version(obj: Any, version: int) -> None:
    """Optimistic locking: the client's version must be the stored one (else 409)."""
    if obj.version != version:
        raise ConflictError(
            f"stale version: you sent {version}, the record is at {obj.version}; reload and retry",
            code="stale_version",
            details={"current_version": obj.version, "sent_version": version},
        )


def file_response(data: bytes, *, mimetype: str, filename: str) -> Response:
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def export_response(df: Any, fmt: str, *, sheet: str, subject: str, subject_id: Any, what: str, day: Any) -> Response:
    """``df`` as a CSV/XLSX/GeoJSON download named after its subject, id and date (a time
    ``day`` names its date in the grid's time zone)."""
    data, mimetype = render(df, fmt, sheet=sheet)
    when = local(day, grid().timezone) if isinstance(day, datetime) else day
    return file_response(data, mimetype=mimetype, filename=filename(subject, subject_id, what, when, fmt))


def by_importance(df: Any, importance: str | list[str] | None) -> Any:
    """Rows of these importance grades (one or a list), or all of them when none is asked for."""
    if not importance:
        return df
    return df[df["importance"].isin([importance] if isinstance(importance, str) else list(importance))]


def customer_view(df: Any, args: dict[str, Any]) -> Any:
    """``df`` filtered and cut as :class:`CustomerArgs` ask: grades, the caller search, columns
    (an unknown column is 422 ``unknown_column``; a GeoJSON export keeps ``lon``/``lat``)."""
    df = search_customers(by_importance(df, args.get("importance")), args.get("q"))
    columns = list(args.get("columns") or [])
    if not columns:
        return df
    unknown = [c for c in columns if c not in df.columns]
    if unknown:
        raise InputError(f"unknown column(s): {', '.join(unknown[:10])}", code="unknown_column",
                         details={"unknown": unknown, "known": list(df.columns)})
    if args.get("format") == "geojson":
        columns += [c for c in ("lon", "lat") if c not in columns and c in df.columns]
    return df[list(dict.fromkeys(columns))]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(v: datetime | None) -> str | None:
    """A stored (UTC) time as the API shows it: ISO 8601 in the grid's time zone, with offset."""
    return local_iso(v, grid().timezone)


def uploaded_csv() -> bytes | None:
    """The CSV a request carries: a multipart ``file`` field or a ``text/csv`` body; None otherwise."""
    upload = request.files.get("file")
    if upload is not None:
        return upload.read()
    if request.mimetype in ("text/csv", "text/plain", "application/csv"):
        return request.get_data()
    return None


class LocalDateTime(ma.fields.DateTime):
    """A stored (UTC) time in a response, shown like every other: :func:`iso` (grid time zone)."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return iso(value)


class PageArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(1, 1000))
    offset = ma.fields.Integer(load_default=0, validate=ma.validate.Range(0, 10_000_000))


class VersionArgs(ma.Schema):
    version = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 2**31 - 1))


GRADES = ["special", "first", "second", "temporary", "normal"]


class CustomerArgs(ma.Schema):
    """Which customers of an outage, fault or plan a list or export holds: the customer service
    page sends the same filter to both, so a file holds what is on screen."""

    importance = DelimitedList(ma.fields.String(validate=ma.validate.OneOf(GRADES)),
                               metadata={"description": "grades, comma-separated (default: all)"})
    q = ma.fields.String(validate=ma.validate.Length(max=200),
                         metadata={"description": "a caller's words or phone digits (app.services.customers.search_customers)"})
    columns = DelimitedList(ma.fields.String(validate=ma.validate.Length(1, 40)), validate=ma.validate.Length(max=40),
                            metadata={"description": "columns to keep, in this order (default: all)"})


class ExportArgs(CustomerArgs):
    format = ma.fields.String(load_default="csv", validate=ma.validate.OneOf(["csv", "xlsx", "geojson"]))
