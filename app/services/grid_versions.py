"""Grid versions: upload a grid file, see what changed, re-check open outages, activate.

* The grid file the service starts with (``GRID_PATH``) is registered as a version on the
  first request when its content is new, and served.
* An upload is validated whole (:func:`gis.load_grid`): an invalid file answers its problems
  and leaves nothing behind. A valid one is kept under ``<instance>/grids/<sha256>.gpkg``
  with its diff against the served version (:func:`gis.diff.diff_grids`) and the open
  outages it changes (:func:`planning.outages.recheck.recheck_outage`).
* Activating a version gives it an effective time (default now). The service serves the
  activated version with the latest effective time not after now; every process checks
  that every ``GRID_VERSION_CHECK_S`` seconds and swaps its grid, road snapping and page
  caches (:class:`Registry`). Until then the old version keeps being served.
* Plans, outages and faults record the version served when they were made
  (:func:`stamp_versions`); a plan runs on its own version's grid.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.models import Fault, GridVersion, Job, Outage, Plan, utcnow
from gis import (
    ConflictError,
    Grid,
    GridValidationError,
    InputError,
    NotFoundError,
    OutageError,
    load_grid,
)
from gis.diff import GridDiff, diff_grids
from planning.outages.recheck import recheck_outage

log = logging.getLogger(__name__)

#: Outages in these states are over: a new grid version cannot change them.
CLOSED_OUTAGE_STATUSES = ("cancelled", "done", "executed")
#: At most this many changed attributes are stored with a version (the counts are always whole).
MAX_STORED_CHANGES = 10_000
#: Grids kept loaded per process (the served one, the one being compared, a plan's older one).
LOADED_GRIDS = 3
GPKG_MAGIC = b"SQLite format 3\x00"


def content_hash(path: str | Path) -> str:
    """SHA-256 of a grid file, or of a GeoJSON folder's files (names and bytes, sorted by name)."""
    p = Path(path)
    h = hashlib.sha256()
    files = sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p]
    for f in files:
        if p.is_dir():
            h.update(f.name.encode() + b"\x00")
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def status_of(row: GridVersion, served_id: int | None, *, now: datetime) -> str:
    """``served``, ``scheduled`` (activated, effective later), ``previous`` (activated before the
    served one) or ``uploaded`` (never activated)."""
    if row.id == served_id:
        return "served"
    if row.activated_at is None or row.effective_at is None:
        return "uploaded"
    return "scheduled" if row.effective_at > now else "previous"


def served_version(s: Session, *, now: datetime) -> GridVersion | None:
    """The activated version with the latest effective time not after ``now``."""
    q = (select(GridVersion).where(GridVersion.activated_at.is_not(None), GridVersion.effective_at <= now)
         .order_by(GridVersion.effective_at.desc(), GridVersion.id.desc()).limit(1))
    return s.scalars(q).first()


class Registry:
    """One process's grids by version id, and the version it serves.

    ``refresh`` (called before requests, at most every ``check_s`` seconds) registers the boot
    file on first use, reads which version is served and, when it changed, loads that grid and
    swaps ``app.extensions["grid"]`` and ``["roads"]`` and drops the caches built from the old
    grid. Runs read a plan's own version with :meth:`grid`.
    """

    def __init__(self, app: Flask, *, boot_path: str, boot_grid: Grid, check_s: float) -> None:
        self.app = app
        self.boot_path = str(boot_path)
        self.boot_sha = content_hash(boot_path)
        self.check_s = check_s
        self.current_id: int | None = None
        self._grids: OrderedDict[int, Grid] = OrderedDict()
        self._boot_grid = boot_grid
        self._checked = 0.0
        self._lock = threading.Lock()

    def grid(self, s: Session, version_id: int | None) -> Grid:
        """The grid of ``version_id`` (the served one for None), loaded once per process."""
        if version_id is None or version_id == self.current_id:
            return self.app.extensions["grid"]  # type: ignore[no-any-return]
        if version_id in self._grids:
            self._grids.move_to_end(version_id)
            return self._grids[version_id]
        row = s.get(GridVersion, version_id)
        if row is None:
            raise NotFoundError(f"no grid version {version_id}", details={"grid_version": version_id})
        grid = self._boot_grid if row.sha256 == self.boot_sha else _load(row.path)
        self._grids[version_id] = grid
        while len(self._grids) > LOADED_GRIDS:
            self._grids.popitem(last=False)
        return grid

    def refresh(self, *, force: bool = False) -> None:
        """Follow the served version (see the class); quietly waits while the tables are missing."""
        if not force and time.monotonic() - self._checked < self.check_s:
            return
        with self._lock:
            self._checked = time.monotonic()
            db = self.app.extensions.get("db")
            if db is None:
                return
            try:
                with db.session(actor="system") as s:
                    if self.current_id is None:
                        register_boot(s, path=self.boot_path, sha=self.boot_sha, grid=self._boot_grid)
                    row = served_version(s, now=utcnow())
                    if row is not None and row.id != self.current_id:
                        self._serve(s, row)
            except SQLAlchemyError as exc:  # before `flask db upgrade`: serve the boot grid
                log.debug("grid versions not readable yet: %s", exc)

    def _serve(self, s: Session, row: GridVersion) -> None:
        from app.services import grid as grid_service

        grid = self.grid(s, row.id)
        previous = self.app.extensions.get("grid")
        if grid is not previous:
            roads = grid_service.load_roads(self.app.config.get("ROADS_PATH"), grid)
            self.app.extensions["grid"] = grid
            self.app.extensions["roads"] = roads
            for cache in ("pages_maps", "pages_data", "layer_cache"):
                self.app.extensions.pop(cache, None)
        log.info("serving grid version %s (%s)", row.id, row.filename)
        self.current_id = row.id


def _load(path: str) -> Grid:
    try:
        return load_grid(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"grid file {path} cannot be read: {exc}", code="grid_unreadable") from exc


def register_boot(s: Session, *, path: str, sha: str, grid: Grid) -> GridVersion:
    """The boot file as a version: found by its content, else added and served from now."""
    row = s.scalars(select(GridVersion).where(GridVersion.sha256 == sha)).first()
    if row is not None:
        return row
    now = utcnow()
    row = GridVersion(sha256=sha, path=str(Path(path).resolve()), filename=Path(path).name, size_bytes=_size(path),
                      note="GRID_PATH at start-up", summary=grid.summary(), activated_at=now, effective_at=now)
    try:
        with s.begin_nested():
            s.add(row)
    except IntegrityError:  # another process registered it first
        row = s.scalars(select(GridVersion).where(GridVersion.sha256 == sha)).one()
    return row


def _size(path: str | Path) -> int:
    p = Path(path)
    return sum(f.stat().st_size for f in p.iterdir() if f.is_file()) if p.is_dir() else p.stat().st_size


def upload(s: Session, registry: Registry, *, data: bytes, filename: str, note: str, folder: Path,
           user_id: int | None) -> GridVersion:
    """Validate ``data`` (a GeoPackage) as a grid and keep it as a new, not yet activated version.

    Raises ``InputError`` (not a GeoPackage, unreadable), ``GridValidationError`` (its problems)
    or ``ConflictError`` (the same file is version N already); nothing is kept then.
    """
    if not data.startswith(GPKG_MAGIC):
        raise InputError("the grid must be a GeoPackage file (.gpkg); see docs/grid-format.md", code="not_geopackage")
    sha = hashlib.sha256(data).hexdigest()
    same = s.scalars(select(GridVersion).where(GridVersion.sha256 == sha)).first()
    if same is not None:
        raise ConflictError(f"this file is grid version {same.id} already", code="duplicate_grid",
                            details={"grid_version": same.id})
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{sha}.gpkg"
    fd, tmp = tempfile.mkstemp(suffix=".gpkg", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            grid = load_grid(tmp)
        except GridValidationError:
            raise
        except OutageError as exc:
            raise InputError(f"the grid cannot be used: {exc.message}", code=exc.code, details=exc.details) from exc
        except (OSError, ValueError) as exc:
            raise InputError(f"the grid file cannot be read: {exc}", code="grid_unreadable") from exc
        base = served_version(s, now=utcnow())
        base_grid = registry.grid(s, base.id if base else None)
        row = GridVersion(sha256=sha, path=str(target.resolve()), filename=_clean_name(filename), size_bytes=len(data),
                          note=note, summary=grid.summary(), base_id=base.id if base else None,
                          diff=stored_diff(diff_grids(base_grid, grid)), uploaded_by=user_id)
        row.checks = check_outages(s, registry, grid)
        s.add(row)
        s.flush()
        os.replace(tmp, target)
        tmp = ""
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
    return row


def _clean_name(name: str) -> str:
    return "".join(ch for ch in Path(name or "grid.gpkg").name if ch.isprintable())[:255] or "grid.gpkg"


def stored_diff(diff: GridDiff) -> dict[str, Any]:
    """The diff as stored: whole counts and id lists, at most :data:`MAX_STORED_CHANGES` changes."""
    doc = diff.to_json()
    doc["truncated"] = len(doc["changed"]) > MAX_STORED_CHANGES
    doc["changed"] = doc["changed"][:MAX_STORED_CHANGES]
    return doc


def open_outages(s: Session, *, now: datetime) -> list[Outage]:
    """Outages not cancelled or executed whose window is not over."""
    q = (select(Outage).where(Outage.status.not_in(CLOSED_OUTAGE_STATUSES))
         .where((Outage.end.is_(None)) | (Outage.end > now)).order_by(Outage.id))
    return list(s.scalars(q))


def check_outages(s: Session, registry: Registry, new: Grid) -> list[dict[str, Any]]:
    """Every open outage that ``new`` changes: ``{outage_id, plan_id, status, start, findings}``
    (each outage compared with the grid version it was planned on)."""
    outages = open_outages(s, now=utcnow())
    equipment = _job_equipment(s, {j for o in outages for j in o.jobs or []})
    diffs: dict[int | None, tuple[Grid, GridDiff]] = {}
    out = []
    for o in outages:
        vid = o.grid_version_id
        if vid not in diffs:
            old = registry.grid(s, vid)
            diffs[vid] = (old, diff_grids(old, new))
        old, diff = diffs[vid]
        eq = [e for j in o.jobs or [] for e in equipment.get(str(j), [])]
        findings = recheck_outage(old, new, equipment=eq, steps=[st.data for st in o.steps], diff=diff)
        if findings:
            out.append({"outage_id": o.id, "plan_id": o.plan_id, "status": o.status,
                        "start": o.start.isoformat() if o.start else None,
                        "findings": [f.to_json() for f in findings]})
    return out


def _job_equipment(s: Session, job_ids: Iterable[str]) -> dict[str, list[str]]:
    ids = list(job_ids)
    if not ids:
        return {}
    return {j.id: [str(e) for e in j.equipment or []] for j in s.scalars(select(Job).where(Job.id.in_(ids)))}


def activate(s: Session, registry: Registry, row: GridVersion, *, effective_at: datetime | None,
             user_id: int | None) -> GridVersion:
    """Activate ``row`` from ``effective_at`` (default now; not in the past): re-check the open
    outages against it and flag them (``outages.grid_flags``); the service swaps to it once
    it is effective. Re-activating an older version (a roll-back) works the same way."""
    now = utcnow()
    when = effective_at or now
    if when < now.replace(microsecond=0):
        raise InputError("effective_at is in the past; activate now or later", code="effective_in_past",
                         details={"effective_at": when.isoformat()})
    grid = registry.grid(s, row.id)
    row.checks = check_outages(s, registry, grid)
    row.activated_at, row.activated_by, row.effective_at = now, user_id, when
    flagged = {c["outage_id"]: c for c in row.checks}
    for o in open_outages(s, now=now):
        c = flagged.get(o.id)
        o.grid_flags = {"version": row.id, "effective_at": when.isoformat(), "findings": c["findings"]} if c else None
    s.flush()
    return row


def stamp_versions(s: Session, registry: Registry | None) -> None:
    """Give new plans and faults the served version, and new outages their plan's (before flush)."""
    current = registry.current_id if registry is not None else None
    for obj in s.new:
        if isinstance(obj, (Plan, Fault)) and obj.grid_version_id is None:
            obj.grid_version_id = current
        elif isinstance(obj, Outage) and obj.grid_version_id is None:
            with s.no_autoflush:
                plan = obj.plan if obj.plan is not None else (s.get(Plan, obj.plan_id) if obj.plan_id else None)
            obj.grid_version_id = plan.grid_version_id if plan is not None else current


def init_app(app: Flask) -> Registry:
    """The registry on ``app.extensions["grid_versions"]``, refreshed before every request."""
    from sqlalchemy import event

    registry = Registry(app, boot_path=app.config["GRID_PATH"], boot_grid=app.extensions["grid"],
                        check_s=float(app.config.get("GRID_VERSION_CHECK_S", 5.0)))
    app.extensions["grid_versions"] = registry

    @app.before_request
    def _follow_served_version() -> None:
        registry.refresh()

    @event.listens_for(app.extensions["db"].sessionmaker, "before_flush")
    def _stamp(session: Session, _ctx: Any, _instances: Any) -> None:
        stamp_versions(session, registry)

    return registry
