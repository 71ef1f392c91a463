"""Database tables (SQLAlchemy 2 declarative). Alembic migrations live in ``app/migrations/``.

Results of the core (plans, fault restorations, routes) are stored as rows plus JSON
columns that hold the core's own JSON contract. Each fact is stored once: a plan's
affected customers are ``outage_customers`` rows only (customer id, supply, due times),
so ``plans.result`` and ``outages.data`` keep no customer list and no name, phone or
address (those stay in the grid; :mod:`app.services.customers` joins them). Datetimes are
stored in UTC and read back timezone-aware; :mod:`app.times` shows them in the grid's zone.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes, stored as UTC (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}
    __audit__ = True


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    crew_id: Mapped[str | None] = mapped_column(ForeignKey("crews.id"), default=None)
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Raised by logout and password change; a session cookie names the version it was issued
    #: at (:meth:`get_id`), so every older cookie of this user stops working at once.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """``"<id>:<session_version>"``: what Flask-Login keeps in the session cookie."""
        return f"{self.id}:{self.session_version}"


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    user: Mapped[User] = relationship()


class Job(Base):
    """A maintenance request (planning input)."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    equipment: Mapped[list[Any]] = mapped_column(JSON)
    duration_min: Mapped[int] = mapped_column(Integer)
    earliest: Mapped[datetime] = mapped_column()
    latest: Mapped[datetime] = mapped_column()
    crew: Mapped[str | None] = mapped_column(String(64), default=None)
    description: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(120), default="")
    night_work: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    __mapper_args__ = {"version_id_col": version}


class JobNumber(Base):
    """One row per server-generated job id: the row's autoincrement id numbers the job.

    Inserted in the transaction that creates the job, so concurrent creates get distinct
    numbers from the database (a sequence on PostgreSQL, AUTOINCREMENT on SQLite) and never
    collide the way counting the jobs would.
    """

    __tablename__ = "job_numbers"
    __audit__ = False
    __table_args__ = {"sqlite_autoincrement": True}
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Run(Base):
    """A background computation (planning or routing) with its progress and result."""

    __tablename__ = "runs"
    __audit__ = False
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    kind: Mapped[str] = mapped_column(String(16))  # plan | dispatch
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued running done failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    target_id: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # The lease (app/runs.py): which runner took the run, which process owns it, its last beat.
    runner: Mapped[str | None] = mapped_column(String(8), default=None)  # thread | rq | sync; NULL: before 0005
    owner_token: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    owner_host: Mapped[str | None] = mapped_column(String(255), default=None)
    owner_pid: Mapped[int | None] = mapped_column(Integer, default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)


class Plan(Base):
    __tablename__ = "plans"
    __audit_skip__ = ("result",)
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    now: Mapped[datetime] = mapped_column()
    job_ids: Mapped[list[Any]] = mapped_column(JSON)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    errors: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), default=None)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    grid_version_id: Mapped[int | None] = mapped_column(ForeignKey("grid_versions.id"), default=None)
    outages: Mapped[list[Outage]] = relationship(back_populates="plan", order_by="Outage.id")


class Outage(Base):
    __tablename__ = "outages"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    core_id: Mapped[str] = mapped_column(String(64))
    jobs: Mapped[list[Any]] = mapped_column(JSON)
    start: Mapped[datetime | None] = mapped_column(default=None)
    end: Mapped[datetime | None] = mapped_column(default=None)
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    #: planned reviewed approved published done cancelled (planning.outages.workflow)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    grid_version_id: Mapped[int | None] = mapped_column(ForeignKey("grid_versions.id"), default=None)
    # findings of the re-check against a newer grid version: {"version": id, "findings": [...]}, None = holds
    grid_flags: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    plan: Mapped[Plan] = relationship(back_populates="outages")
    steps: Mapped[list[OutageStep]] = relationship(order_by="OutageStep.seq", cascade="all, delete-orphan")
    transfers: Mapped[list[OutageTransfer]] = relationship(cascade="all, delete-orphan")
    generators: Mapped[list[OutageGenerator]] = relationship(cascade="all, delete-orphan")
    customers: Mapped[list[OutageCustomer]] = relationship(order_by="OutageCustomer.id", cascade="all, delete-orphan")
    transitions: Mapped[list[OutageTransition]] = relationship(order_by="OutageTransition.id", cascade="all, delete-orphan")
    __mapper_args__ = {"version_id_col": version}


class OutageTransition(Base):
    """One step of an outage's workflow (review, reopen, approve, publish, execute, cancel):
    who took it, when (UTC), from which status to which, the note given and what it did
    (``details``, e.g. the notices queued or cancelled). Written in the step's transaction."""

    __tablename__ = "outage_transitions"
    id: Mapped[int] = mapped_column(primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    actor: Mapped[str] = mapped_column(String(80), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OutageStep(Base):
    __tablename__ = "outage_steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class OutageTransfer(Base):
    __tablename__ = "outage_transfers"
    id: Mapped[int] = mapped_column(primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class OutageGenerator(Base):
    __tablename__ = "outage_generators"
    id: Mapped[int] = mapped_column(primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


#: How an affected customer is supplied during a planned outage (``outage_customers.supply``).
SUPPLIES = ("interrupted", "short_breaks", "generator")


class OutageCustomer(Base):
    """A customer who loses grid supply in an outage (the one stored copy of a plan's customers).

    ``supply``: ``interrupted`` (dark for the whole outage), ``short_breaks`` (transferred
    break-before-make: dark a few minutes at each end) or ``generator`` (on a truck);
    ``notice_due``/``sms_due``: when its notice and its SMS are due (UTC). Rows are kept in
    the core's order (by ``id``).
    """

    __tablename__ = "outage_customers"
    __table_args__ = (UniqueConstraint("outage_id", "customer_id"),
                      CheckConstraint(f"supply IN ({', '.join(repr(s) for s in SUPPLIES)})", name="supply"))
    id: Mapped[int] = mapped_column(primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    notice_due: Mapped[datetime | None] = mapped_column(default=None)
    sms_due: Mapped[datetime | None] = mapped_column(default=None)
    supply: Mapped[str] = mapped_column(String(16), default="interrupted")


class Fault(Base):
    __tablename__ = "faults"
    __audit_skip__ = ("result", "candidates")
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open restored closed
    tripped_breaker: Mapped[str | None] = mapped_column(String(64), default=None)
    fault_indicators: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    calls: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    section: Mapped[str | None] = mapped_column(String(64), default=None)
    now: Mapped[datetime] = mapped_column()
    candidates: Mapped[list[Any]] = mapped_column(JSON, default=list)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    grid_version_id: Mapped[int | None] = mapped_column(ForeignKey("grid_versions.id"), default=None)
    restored_at: Mapped[datetime | None] = mapped_column(default=None)  # status set to restored (repaired)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)  # status set to closed (back to normal)
    stages: Mapped[list[FaultStage]] = relationship(order_by="FaultStage.seq", cascade="all, delete-orphan")
    executed_steps: Mapped[list[FaultStepExecution]] = relationship(order_by="FaultStepExecution.step_seq",
                                                                    cascade="all, delete-orphan")
    __mapper_args__ = {"version_id_col": version}


class FaultStage(Base):
    __tablename__ = "fault_stages"
    id: Mapped[int] = mapped_column(primary_key=True)
    fault_id: Mapped[int] = mapped_column(ForeignKey("faults.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    steps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    restored_customers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    still_out: Mapped[list[Any]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FaultStepExecution(Base):
    """A switching step of a fault's restoration carried out: who recorded it and when (UTC).

    The plan (the step's switch, action, reason) stays in ``fault_stages.steps``; this row is
    the executed state the map and the customer statuses follow. ``step_seq`` is the step's
    ``seq`` (numbered across the stages); one row per step.
    """

    __tablename__ = "fault_step_executions"
    __table_args__ = (UniqueConstraint("fault_id", "step_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    fault_id: Mapped[int] = mapped_column(ForeignKey("faults.id", ondelete="CASCADE"), index=True)
    stage_seq: Mapped[int] = mapped_column(Integer)
    step_seq: Mapped[int] = mapped_column(Integer)
    switch: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(8))  # open close
    executed_at: Mapped[datetime] = mapped_column(default=utcnow)
    executed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class Crew(Base):
    __tablename__ = "crews"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    depot_id: Mapped[str | None] = mapped_column(String(64), default=None)
    skills: Mapped[list[Any]] = mapped_column(JSON, default=list)
    shift_start: Mapped[str] = mapped_column(String(5), default="07:00")
    shift_end: Mapped[str] = mapped_column(String(5), default="19:00")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class CrewPosition(Base):
    __tablename__ = "crew_positions"
    id: Mapped[int] = mapped_column(primary_key=True)
    crew_id: Mapped[str] = mapped_column(ForeignKey("crews.id", ondelete="CASCADE"), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    #: When the server received it (``at`` is the phone's time, kept when a report arrives late).
    received_at: Mapped[datetime | None] = mapped_column(default=utcnow)


class Dispatch(Base):
    __tablename__ = "dispatches"
    __audit_skip__ = ("tasks", "dropped", "solver")
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    fault_id: Mapped[int | None] = mapped_column(ForeignKey("faults.id"), default=None)
    now: Mapped[datetime] = mapped_column()
    objective: Mapped[str] = mapped_column(String(32))
    crew_ids: Mapped[list[Any]] = mapped_column(JSON)
    tasks: Mapped[list[Any]] = mapped_column(JSON)
    dropped: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    solver: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), default=None)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    routes: Mapped[list[Route]] = relationship(order_by="Route.id", cascade="all, delete-orphan")


class Route(Base):
    __tablename__ = "routes"
    __audit_skip__ = ("stops", "geometry", "gpx")
    id: Mapped[int] = mapped_column(primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatches.id", ondelete="CASCADE"), index=True)
    crew_id: Mapped[str] = mapped_column(ForeignKey("crews.id"), index=True)
    stops: Mapped[list[Any]] = mapped_column(JSON, default=list)
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    gpx: Mapped[str | None] = mapped_column(Text, default=None)
    stop_states: Mapped[list[RouteStop]] = relationship(order_by="RouteStop.id", cascade="all, delete-orphan")


class RouteStop(Base):
    """A crew's progress at one stop of its route: planned -> arrived -> working -> done (UTC times).

    The stop itself (task, place, ETA) stays in ``routes.stops`` as the core produced it;
    this row holds only what the crew reports, so it can be audited and locked. The times
    are the phone's (kept when a report reaches the server late, within bounds); ``*_received_at``
    are the server's receive times.
    """

    __tablename__ = "route_stops"
    __table_args__ = (UniqueConstraint("route_id", "task_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned arrived working done
    arrived_at: Mapped[datetime | None] = mapped_column(default=None)
    working_at: Mapped[datetime | None] = mapped_column(default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    arrived_received_at: Mapped[datetime | None] = mapped_column(default=None)
    working_received_at: Mapped[datetime | None] = mapped_column(default=None)
    done_received_at: Mapped[datetime | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class StopPhoto(Base):
    """A photo a crew took at a stop (checked to be a JPEG, PNG or WebP image; bytes in the database,
    so every app process sees it and a failed upload leaves nothing behind)."""

    __tablename__ = "stop_photos"
    __audit_skip__ = ("data",)
    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text, default="")
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    route_link_id: Mapped[int | None] = mapped_column(ForeignKey("route_links.id", ondelete="SET NULL"), default=None)


class RouteLink(Base):
    """A crew's phone link to one route: a signed, expiring token whose SHA-256 is stored
    (the plain token is never stored), revocable. Opening it logs the phone in for that
    route only (:mod:`app.route_links`)."""

    __tablename__ = "route_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id", ondelete="CASCADE"), index=True)
    crew_id: Mapped[str] = mapped_column(ForeignKey("crews.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"), default=None)


class Interruption(Base):
    """An executed interruption: customers without supply from ``start`` to ``end`` (UTC).

    ``event`` groups the rows of one event (a fault restored in stages is one row per stage);
    ``kind`` is ``planned`` or ``unplanned``; ``source`` says where it came from
    (``outage:<id>`` when an outage was marked executed, ``import`` for a file or a request).
    The history the reliability report and the repeated-interruption rule read.
    """

    __tablename__ = "interruptions"
    __table_args__ = (CheckConstraint("kind IN ('planned', 'unplanned')", name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime] = mapped_column()
    source: Mapped[str] = mapped_column(String(64), default="import")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    customers: Mapped[list[InterruptionCustomer]] = relationship(cascade="all, delete-orphan", order_by="InterruptionCustomer.id")


class InterruptionCustomer(Base):
    """A customer of an :class:`Interruption` (ids only: who they are stays in the grid)."""

    __tablename__ = "interruption_customers"
    __table_args__ = (UniqueConstraint("interruption_id", "customer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    interruption_id: Mapped[int] = mapped_column(ForeignKey("interruptions.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str] = mapped_column(String(64))


class GridVersion(Base):
    """One version of the grid file: uploaded, checked, then activated with an effective time.

    The service serves the activated version with the latest ``effective_at`` not after now
    (:mod:`app.services.grid_versions`); older and future ones stay for the plans, outages
    and faults computed on them. ``diff`` (against ``base_id``, the version served when it
    was uploaded) and ``checks`` (the open outages it changes) are JSON as the core gives them.
    """

    __tablename__ = "grid_versions"
    __audit_skip__ = ("diff", "checks", "summary")
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(255), default="")
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    base_id: Mapped[int | None] = mapped_column(ForeignKey("grid_versions.id"), default=None)
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    checks: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    activated_at: Mapped[datetime | None] = mapped_column(default=None)
    effective_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Notification(Base):
    """The outbox: one message to one recipient, sent once when due."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # notice | sms | cancel (planned outages) | fault | crew_link
    channel: Mapped[str] = mapped_column(String(16), default="sms")
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), default=None)
    fault_id: Mapped[int | None] = mapped_column(ForeignKey("faults.id", ondelete="CASCADE"), default=None)
    customer_id: Mapped[str] = mapped_column(String(64))
    #: A phone number for a message to someone who is not a customer (a crew's route link).
    recipient: Mapped[str | None] = mapped_column(String(32), default=None)
    due_at: Mapped[datetime] = mapped_column(index=True)
    text_en: Mapped[str] = mapped_column(Text, default="")
    text_zh: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending sent failed cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class AuditLog(Base):
    __tablename__ = "audit_log"
    __audit__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(String(80), default=None)
    action: Mapped[str] = mapped_column(String(16))  # create update delete
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class IdempotencyKey(Base):
    """An Idempotency-Key claimed by one request: ``pending`` while it runs, ``done`` with the
    answer to replay (status, body, headers). The unique (user_key, key) makes the claim atomic."""

    __tablename__ = "idempotency_keys"
    __audit__ = False
    __table_args__ = (UniqueConstraint("user_key", "key", name="uq_idempotency_keys_user_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_key: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(400))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(120), default="application/json")
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="done", server_default="done")  # pending | done
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
