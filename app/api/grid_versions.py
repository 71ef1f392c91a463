"""Grid versions: upload a grid file, read its diff and the outages it changes, activate it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import current_app, request
from sqlalchemy import select

from app.api import ApiBlueprint
from app.api.common import PageArgs, check_version, get_or_404, iso, session
from app.auth import READ_ROLES, require, user
from app.input_policy import PolicyDateTime
from app.models import GridVersion, utcnow
from app.services import grid_versions as versions_service
from gis.errors import InputError

blp = ApiBlueprint("grid_versions", __name__, url_prefix="/api/grid/versions",
                   description="Grid versions: upload, diff, outages re-checked, activation")

KINDS = ("rating", "normal_state", "connection", "position", "attribute")


class ActivateIn(ma.Schema):
    version = ma.fields.Integer(required=True, metadata={"description": "the version row's `version` (optimistic lock)"})
    effective_at = PolicyDateTime(metadata={"description": "when it is served (default now; not in the past)"})


class ChangesArgs(PageArgs):
    layer = ma.fields.String(validate=ma.validate.Length(1, 40))
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))


def version_json(row: GridVersion, *, served_id: int | None, full: bool = False) -> dict[str, Any]:
    now = utcnow()
    out = {
        "id": row.id, "filename": row.filename, "sha256": row.sha256, "size_bytes": row.size_bytes, "note": row.note,
        "status": versions_service.status_of(row, served_id, now=now), "base_id": row.base_id,
        "uploaded_at": iso(row.uploaded_at), "uploaded_by": row.uploaded_by, "activated_at": iso(row.activated_at),
        "activated_by": row.activated_by, "effective_at": iso(row.effective_at), "version": row.version,
        "counts": (row.diff or {}).get("counts", {}), "outages_flagged": len(row.checks or []),
    }
    if full:
        diff = row.diff or {}
        out.update(summary=row.summary, added=diff.get("added", {}), removed=diff.get("removed", {}),
                   changes_total=len(diff.get("changed", [])), truncated=bool(diff.get("truncated")),
                   checks=row.checks or [])
    return out


def _served_id() -> int | None:
    row = versions_service.served_version(session(), now=utcnow())
    return row.id if row else None


@blp.route("")
@require(*READ_ROLES)
@blp.response(200)
def list_versions() -> Any:
    """Every grid version, newest first, with its status (``served``, ``scheduled``, ``previous``,
    ``uploaded``) and the counts of its diff against the version served when it was uploaded."""
    served = _served_id()
    rows = session().scalars(select(GridVersion).order_by(GridVersion.id.desc()))
    return {"served": served, "items": [version_json(r, served_id=served) for r in rows]}


@blp.route("", methods=["POST"])
@require("admin")
@blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
    "file": {"type": "string", "format": "binary"}, "note": {"type": "string"}}}}}})
@blp.response(201)
@blp.alt_response(422, description="Not a GeoPackage, or the grid's validation problems (details); nothing kept")
@blp.alt_response(409, description="The same file is a version already")
def upload_version() -> Any:
    """Upload a grid (GeoPackage, docs/grid-format.md) as a new version. It is validated whole,
    compared with the served version and the open outages are re-checked against it; it is
    not served until activated."""
    upload = request.files.get("file")
    if upload is None:
        raise InputError("send the grid as multipart field 'file'", code="no_file")
    note = str(request.form.get("note") or "")[:2000]
    s = session()
    u = user()
    folder = Path(current_app.config["INSTANCE_PATH"]) / "grids"
    row = versions_service.upload(s, current_app.extensions["grid_versions"], data=upload.read(),
                                  filename=upload.filename or "", note=note, folder=folder, user_id=u.id if u else None)
    s.commit()
    return version_json(row, served_id=_served_id(), full=True)


@blp.route("/<int:version_id>")
@require(*READ_ROLES)
@blp.response(200)
def get_version(version_id: int) -> Any:
    """One version: summary, ids added and removed per layer, the outages it changes (``checks``)."""
    row = get_or_404(GridVersion, version_id, "grid version")
    return version_json(row, served_id=_served_id(), full=True)


@blp.route("/<int:version_id>/changes")
@require(*READ_ROLES)
@blp.arguments(ChangesArgs, location="query")
@blp.response(200)
def version_changes(args: dict[str, Any], version_id: int) -> Any:
    """The changed attributes against its base version, paged; filter by ``layer`` and ``kind``."""
    row = get_or_404(GridVersion, version_id, "grid version")
    items = [c for c in (row.diff or {}).get("changed", [])
             if (not args.get("layer") or c["layer"] == args["layer"]) and (not args.get("kind") or c["kind"] == args["kind"])]
    lo = args["offset"]
    return {"total": len(items), "items": items[lo:lo + args["limit"]], "truncated": bool((row.diff or {}).get("truncated"))}


@blp.route("/<int:version_id>/activate", methods=["POST"])
@require("admin")
@blp.arguments(ActivateIn)
@blp.response(200)
@blp.alt_response(409, description="Stale version")
def activate_version(data: dict[str, Any], version_id: int) -> Any:
    """Serve this version from ``effective_at`` (default now). Open outages it changes are
    flagged (``grid_flags`` on the outage); every process swaps within ``GRID_VERSION_CHECK_S``."""
    row = get_or_404(GridVersion, version_id, "grid version")
    check_version(row, data["version"])
    s = session()
    u = user()
    versions_service.activate(s, current_app.extensions["grid_versions"], row, effective_at=data.get("effective_at"),
                              user_id=u.id if u else None)
    row.version += 1
    s.commit()
    current_app.extensions["grid_versions"].refresh(force=True)
    return version_json(row, served_id=_served_id(), full=True)

