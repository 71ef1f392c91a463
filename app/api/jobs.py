"""Maintenance jobs: CRUD with optimistic locking, CSV import with per-row errors."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import String, cast, func, or_, select

from app.api import ApiBlueprint
from app.api.common import (
    LocalDateTime,
    PageArgs,
    VersionArgs,
    check_version,
    get_or_404,
    grid,
    job_timing,
    session,
    uploaded_csv,
)
from app.api.records import described_schema
from app.auth import READ_ROLES, require
from app.models import Job, JobNumber, Plan
from app.services import jobs as jobs_service
from gis.errors import ConflictError, InputError
from planning.outages.jobs import JobRecord

blp = ApiBlueprint("jobs", __name__, url_prefix="/api/jobs", description="Maintenance jobs (planning input)")

STATUSES = ("open", "planned", "done", "cancelled")


#: A new job: the core's :class:`~planning.outages.jobs.JobRecord` (``id`` generated when absent).
JobIn = described_schema(JobRecord, name="JobIn", optional=("id",))

#: A change: any record fields, plus ``status`` and the ``version`` you read.
JobPatch = described_schema(JobRecord, name="JobPatch", partial=True, extra={
    "status": ma.fields.String(validate=ma.validate.OneOf(STATUSES)),
    "version": ma.fields.Integer(required=True, validate=ma.validate.Range(1, 2**31 - 1)),
})


class JobOut(ma.Schema):
    id = ma.fields.String()
    equipment = ma.fields.List(ma.fields.String())
    duration_min = ma.fields.Integer()
    earliest = LocalDateTime()
    latest = LocalDateTime()
    crew = ma.fields.String(allow_none=True)
    description = ma.fields.String()
    requested_by = ma.fields.String()
    night_work = ma.fields.Boolean()
    status = ma.fields.String()
    version = ma.fields.Integer()
    created_at = LocalDateTime()
    updated_at = LocalDateTime()


#: Orders of the job list: newest first (default), by id, by window start or end, longest first.
SORTS = {
    "newest": (Job.created_at.desc(), Job.id),
    "id": (Job.id,),
    "earliest": (Job.earliest, Job.id),
    "latest": (Job.latest, Job.id),
    "duration": (Job.duration_min.desc(), Job.id),
}


class JobListArgs(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    q = ma.fields.String(validate=ma.validate.Length(1, 200),
                         metadata={"description": "text in the id, equipment, description, crew or requester (any case)"})
    crew = ma.fields.String(validate=ma.validate.Length(1, 64), metadata={"description": "jobs of this crew"})
    plan = ma.fields.Integer(validate=ma.validate.Range(1, 2**31 - 1), metadata={"description": "the jobs a plan was run on"})
    sort = ma.fields.String(load_default="newest", validate=ma.validate.OneOf(list(SORTS)))


class ImportArgs(ma.Schema):
    pass



@blp.route("")
@require(*READ_ROLES)
@blp.arguments(JobListArgs, location="query")
@blp.response(200)
def list_jobs(args: dict[str, Any]) -> Any:
    """Jobs, a page at a time (``limit``, ``offset``; ``total`` counts every match), filtered by
    ``status``, ``crew``, ``plan`` (the jobs a plan was run on) and ``q`` (text in the id,
    equipment, description, crew or requester), ordered by ``sort``: ``newest`` (default),
    ``id``, ``earliest``, ``latest`` or ``duration`` (longest first)."""
    q = select(Job)
    if "status" in args:
        q = q.where(Job.status == args["status"])
    if "crew" in args:
        q = q.where(Job.crew == args["crew"])
    if "plan" in args:
        q = q.where(Job.id.in_(list(get_or_404(Plan, args["plan"], "plan").job_ids or [])))
    if "q" in args:
        like = "%" + args["q"].lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = q.where(or_(*(func.lower(col).like(like, escape="\\") for col in (
            Job.id, cast(Job.equipment, String), Job.description, func.coalesce(Job.crew, ""), Job.requested_by))))
    total = session().scalar(select(func.count()).select_from(q.subquery()))
    rows = session().scalars(q.order_by(*SORTS[args["sort"]]).limit(args["limit"]).offset(args["offset"]))
    return {"total": total, "items": JobOut(many=True).dump(list(rows))}


@blp.route("", methods=["POST"])
@require("planner")
@blp.arguments(JobIn)
@blp.response(201, JobOut)
def create_job(data: dict[str, Any]) -> Any:
    """Create a job. Without ``id`` the server numbers it (``J00001``, ...; concurrent creates
    get distinct ids); a client-chosen id that exists is 409. Unknown equipment is 404. A job
    whose window is over (``window_past``) or whose last start is less than the notice lead
    (``NOTICE_LEAD_DAYS``) after now (``notice_too_late``) is 422 with the reason."""
    s = session()
    if "id" not in data:
        data["id"] = new_job_id(s)
    values = jobs_service.job_values(data)
    if s.get(Job, values["id"]) is not None:
        raise ConflictError(f"job {values['id']!r} exists", code="duplicate_id")
    jobs_service.validate_job(grid(), values)
    jobs_service.check_timing(values, job_timing())
    job = Job(**values)
    s.add(job)
    s.commit()
    return job


def new_job_id(s: Any) -> str:
    """A fresh server id ``J00001``, ``J00002``, ...: the number of a new ``job_numbers`` row,
    inserted in the caller's transaction. The database hands out each number once, so
    concurrent creates never collide; a number whose id a client already chose is skipped."""
    while True:
        number = JobNumber()
        s.add(number)
        s.flush()
        candidate = f"J{number.id:05d}"
        if s.get(Job, candidate) is None:
            return candidate


@blp.route("/<string:job_id>")
@require(*READ_ROLES)
@blp.response(200, JobOut)
def get_job(job_id: str) -> Any:
    return get_or_404(Job, job_id, "job")


@blp.route("/<string:job_id>", methods=["PATCH"])
@require("planner")
@blp.arguments(JobPatch)
@blp.response(200, JobOut)
def update_job(data: dict[str, Any], job_id: str) -> Any:
    """Change a job; send the ``version`` you read (a stale one is 409). A change of its window or
    duration is checked like a new job (422 ``window_past`` / ``notice_too_late``)."""
    job = get_or_404(Job, job_id, "job")
    check_version(job, data.pop("version"))
    if "id" in data and data["id"] != job.id:
        raise InputError("a job's id cannot change", details={"id": data["id"]})
    data.pop("id", None)
    status = data.pop("status", None)
    values = jobs_service.job_values({k: getattr(job, k) for k in jobs_service.RECORD_FIELDS} | data)
    jobs_service.validate_job(grid(), values)
    if {"earliest", "latest", "duration_min"} & set(data):
        jobs_service.check_timing(values, job_timing())
    for k in data:
        setattr(job, k, values[k])
    if status is not None:
        job.status = status
    session().commit()
    return job


@blp.route("/<string:job_id>", methods=["DELETE"])
@require("planner")
@blp.arguments(VersionArgs, location="query")
@blp.response(204)
def delete_job(args: dict[str, Any], job_id: str) -> None:
    """Delete a job; ``?version=`` must be current (409 otherwise)."""
    job = get_or_404(Job, job_id, "job")
    check_version(job, args["version"])
    session().delete(job)
    session().commit()


@blp.route("/import", methods=["POST"])
@require("planner")
@blp.doc(requestBody={
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
    },
})
@blp.response(201)
@blp.alt_response(422, description="Per-row errors: details.rows = [{row, id, field, message}]; nothing imported")
def import_jobs() -> Any:
    """Import jobs from CSV (columns id,equipment,duration_min,earliest,latest,crew,description,
    requested_by,night_work; equipment separated by ';'). All rows or none: any bad row
    answers 422 with every row's errors and imports nothing; a row whose window is over or too
    close for the notice lead is such a row (``window_past`` / ``notice_too_late``)."""
    data = uploaded_csv()
    if data is None:
        raise InputError("send the CSV as text/csv or as multipart field 'file'")
    s = session()
    rows, errors = jobs_service.parse_csv(grid(), data, existing=jobs_service.existing_ids(s), timing=job_timing())
    if errors:
        raise InputError(f"{len({e['row'] for e in errors})} row(s) have errors; nothing imported",
                         code="bad_rows", details={"rows": errors, "valid_rows": len(rows)})
    ids = jobs_service.import_rows(s, rows)
    s.commit()
    return {"imported": len(ids), "ids": ids}
