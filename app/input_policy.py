"""The input policy of the HTTP side: what any request may carry (``docs/api.md``, "Input policy").

The core's rules (:mod:`gis.records`) applied to requests, in one place:

* JSON bodies: no NaN/Infinity, no key given twice in one object (400 with the
  key), every string free of NUL, other control characters (tab and line breaks
  are fine) and unpaired surrogates (422 naming the field's path);
* numbers in JSON are JSON numbers: a marshmallow ``Integer`` takes ``60`` only
  (not ``"60"``, ``60.0``, ``60.5``), a ``Float`` no text (422 naming the field);
* path parts, query values and form fields pass the same text check (422);
* :class:`PolicyDateTime`: an aware datetime in the years
  :data:`gis.records.MIN_YEAR`..:data:`gis.records.MAX_YEAR` (422 outside).

The record schemas of the core (jobs, crews) apply the same rules themselves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import marshmallow as ma
from flask import Flask, current_app, request

from gis.errors import InputError
from gis.records import MAX_YEAR, MIN_YEAR, find_bad_text, text_problem

__all__ = ["PolicyDateTime", "check_json_body", "init_app", "strict_loads"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (use null or a finite number)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def strict_loads(s: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` that refuses NaN, Infinity, -Infinity and keys repeated in one object."""
    kwargs.setdefault("parse_constant", _reject_constant)
    kwargs.setdefault("object_pairs_hook", _unique_keys)
    return json.loads(s, **kwargs)


def _number_problem(field: ma.fields.Field, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(field, ma.fields.Integer) and (isinstance(value, bool) or not isinstance(value, int)):
        return f"expected a JSON integer, got {value!r}"
    if isinstance(field, ma.fields.Number) and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"expected a JSON number, got {value!r}"
    return None


def _json_number_problems(schema: ma.Schema, data: Any, path: str = "") -> dict[str, list[str]]:
    """``{field path: [message]}`` for every number field of ``schema`` whose JSON value is not a JSON number."""
    found: dict[str, list[str]] = {}
    if not isinstance(data, Mapping):
        return found
    for name, field in schema.fields.items():
        key = field.data_key or name
        if key not in data:
            continue
        value, where = data[key], f"{path}{key}"
        inner = field.inner if isinstance(field, ma.fields.List) else None
        if isinstance(field, ma.fields.Nested) and isinstance(field.schema, ma.Schema):
            found.update(_json_number_problems(field.schema, value, where + "."))
        elif inner is not None and isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(inner, ma.fields.Nested) and isinstance(inner.schema, ma.Schema):
                    found.update(_json_number_problems(inner.schema, item, f"{where}[{i}]."))
                elif (problem := _number_problem(inner, item)) is not None:
                    found[f"{where}[{i}]"] = [problem]
        elif (problem := _number_problem(field, value)) is not None:
            found[where] = [problem]
    return found


def check_json_body(schema: ma.Schema, data: Any) -> None:
    """Raise ``marshmallow.ValidationError`` (HTTP 422 naming the field) for a bad string
    anywhere in ``data`` or a number field of ``schema`` given as anything but a JSON number."""
    bad = find_bad_text(data)
    if bad is not None:
        raise ma.ValidationError({bad[0]: [bad[1]]})
    problems = _json_number_problems(schema, data)
    if problems:
        raise ma.ValidationError(problems)


class PolicyDateTime(ma.fields.AwareDateTime):
    """An ISO 8601 datetime with a UTC offset in the years ``MIN_YEAR``..``MAX_YEAR``."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> datetime:
        dt = super()._deserialize(value, attr, data, **kwargs)
        if not MIN_YEAR <= dt.year <= MAX_YEAR:
            raise ma.ValidationError(f"{value} is outside the years {MIN_YEAR}-{MAX_YEAR}")
        return dt


def _check_request_text() -> None:
    """Path parts, query values and form fields: 422 for NUL, control characters, surrogates."""
    sources = (("path", (request.view_args or {}).items()), ("query", request.args.items(multi=True)),
               ("form", request.form.items(multi=True) if request.mimetype in _FORM_TYPES else ()))
    for where, items in sources:
        for key, value in items:
            for text in (key, value):
                problem = text_problem(text) if isinstance(text, str) else None
                if problem is not None:
                    raise InputError(f"{where} parameter {key!r}: {problem}", code="bad_text",
                                     details={"location": where, "field": key})


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

#: Endpoints whose bodies may exceed ``MAX_CONTENT_LENGTH``, with the config key of their own limit.
LARGE_BODIES = {"grid_versions.upload_version": "GRID_UPLOAD_MAX_BYTES"}


def _body_limit() -> None:
    key = LARGE_BODIES.get(request.endpoint or "")
    if key is not None:
        request.max_content_length = int(current_app.config[key])


def init_app(app: Flask) -> None:
    """Check every request's path parts, query values and form fields before its view runs."""
    app.before_request(_body_limit)  # before anything reads the body
    app.before_request(_check_request_text)
