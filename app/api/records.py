"""OpenAPI descriptions of the core's record schemas.

A record (a job, a crew) is declared once, as a pydantic model in the core, and
the views validate request bodies with it. The marshmallow schemas that
flask-smorest needs are generated here from that model: each field is a
``Raw`` field carrying the model's JSON schema (type, format, limits) for the
OpenAPI document, so marshmallow judges only which fields are present
(required ones, unknown ones) and never a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import marshmallow as ma
from pydantic import BaseModel

#: JSON-schema keywords that mean the same in OpenAPI 3.0 schema objects.
_SAME = ("type", "format", "pattern", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems",
         "enum", "default", "description")


def openapi_property(prop: Mapping[str, Any]) -> dict[str, Any]:
    """One property of a pydantic JSON schema as an OpenAPI 3.0 schema object.

    ``anyOf [X, null]`` becomes ``X`` with ``nullable``; a numeric
    ``exclusiveMinimum``/``exclusiveMaximum`` becomes the 3.0 boolean form.
    """
    out: dict[str, Any] = {}
    variants = prop.get("anyOf")
    if variants:
        others = [v for v in variants if v.get("type") != "null"]
        if len(others) == 1:
            out.update(openapi_property(others[0]))
        out["nullable"] = len(others) < len(variants)
    for key in _SAME:
        if key in prop:
            out[key] = prop[key]
    if "items" in prop:
        out["items"] = openapi_property(prop["items"])
    for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(prop.get(key), int | float):
            out[bound], out[key] = prop[key], True
    return out


class Described(ma.fields.Raw):
    """Any value, null included, passed on unchanged for the core to judge;
    ``allow_none`` only says in the OpenAPI document whether the core takes null."""

    def deserialize(self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        if value is None:
            return None
        return super().deserialize(value, attr, data, **kwargs)


def described_schema(
    model: type[BaseModel],
    *,
    name: str,
    optional: Iterable[str] = (),
    exclude: Iterable[str] = (),
    partial: bool = False,
    extra: Mapping[str, ma.fields.Field] | None = None,
) -> type[ma.Schema]:
    """A marshmallow schema describing ``model`` for the OpenAPI document.

    Fields the model requires are required unless named in ``optional`` or
    ``partial`` is set; fields in ``exclude`` are left out (a body naming one is
    rejected as unknown); ``extra`` adds fields that are not part of the record
    (e.g. a PATCH's ``version``). Loading returns the body unchanged: validate it
    with the model.
    """
    doc = model.model_json_schema()
    required = set(doc.get("required", ())) - set(optional)
    fields: dict[str, ma.fields.Field] = {}
    for field, prop in doc["properties"].items():
        if field in set(exclude):
            continue
        meta = openapi_property(prop)
        fields[field] = Described(required=field in required and not partial, allow_none=meta.pop("nullable", False), metadata=meta)
    fields.update(extra or {})
    return ma.Schema.from_dict(fields, name=name)
