"""Background runs: progress and outcome."""

from __future__ import annotations

from typing import Any

from app.api import ApiBlueprint
from app.api.common import get_or_404, iso
from app.auth import require, user
from app.models import Run
from gis.errors import NotFoundError

blp = ApiBlueprint("runs", __name__, url_prefix="/api/runs", description="Background runs (planning, routing)")


@blp.route("/<string:run_id>")
@require("planner", "dispatcher", "customer_service", "viewer", "crew")
@blp.response(200)
def get_run(run_id: str) -> Any:
    """Status (queued, running, done, failed), progress 0..1, message, error and the target it fills."""
    r = get_or_404(Run, run_id, "run")
    u = user()
    if u is not None and u.role == "crew" and r.created_by != u.id:
        raise NotFoundError(f"no run {run_id!r}")
    target = {"plan": f"/api/plans/{r.target_id}", "dispatch": f"/api/dispatches/{r.target_id}"}.get(r.kind)
    return {"id": r.id, "kind": r.kind, "status": r.status, "progress": r.progress, "message": r.message,
            "error": r.error, "target_id": r.target_id, "target": target, "created_at": iso(r.created_at),
            "started_at": iso(r.started_at), "finished_at": iso(r.finished_at)}
