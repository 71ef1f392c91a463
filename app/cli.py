"""``flask`` commands: ``db upgrade``, ``users create``, ``demo seed``, ``notify send-due``."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

import outage_demo
from app.auth import create_user
from app.config import ROLES, ROOT
from app.models import Crew, User
from gis.errors import OutageError
from gis.records import parse_aware_datetime

db_cli = AppGroup("db", help="Database schema (Alembic).")
users_cli = AppGroup("users", help="User accounts.")
demo_cli = AppGroup("demo", help="Demo data.")
notify_cli = AppGroup("notify", help="Notifications outbox.")
runs_cli = AppGroup("runs", help="Background runs.")

#: The Alembic scripts, shipped inside the package (``app/migrations``).
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

DEMO_USERS = [("admin", "admin", None), ("planner", "planner", None), ("lead", "planner_lead", None), ("dispatcher", "dispatcher", None),
              ("service", "customer_service", None), ("viewer", "viewer", None)]


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini")) if (ROOT / "alembic.ini").exists() else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default head)."""
    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--crew", "crew_id", default=None, help="crew id (role crew)")
@click.password_option()
def users_create(username: str, role: str, crew_id: str | None, password: str) -> None:
    """Create a user with a hashed password."""
    db = current_app.extensions["db"]
    try:
        with db.session(actor="cli") as s:
            if crew_id and s.get(Crew, crew_id) is None:
                raise click.ClickException(f"no crew {crew_id!r}")
            create_user(s, username=username, password=password, role=role, crew_id=crew_id)
    except OutageError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"created {role} {username}")


def seed(app: Flask, *, data_dir: Path, echo: Any = click.echo) -> dict[str, str]:
    """Create demo users (once), crews and jobs; returns the new users' passwords."""
    from app.services import crews as crews_service
    from app.services import jobs as jobs_service

    db = app.extensions["db"]
    created: dict[str, str] = {}
    with db.session(actor="demo-seed") as s:
        crews_csv = data_dir / "crews.csv"
        if crews_csv.exists():
            n = 0
            for values in crews_service.roster_values(crews_csv):
                if s.get(Crew, values["id"]) is None:
                    s.add(Crew(**values))
                    n += 1
            s.flush()
            echo(f"crews: {n} added from {crews_csv}")
        else:
            echo(f"crews: {crews_csv} not found, skipped")
        jobs_csv = data_dir / "jobs.csv"
        if jobs_csv.exists():
            rows, errors = jobs_service.parse_csv(app.extensions["grid"], jobs_csv.read_bytes(),
                                                  existing=jobs_service.existing_ids(s), timing=None)
            pinned = app.config.get("PLANNING_NOW")
            now = parse_aware_datetime(pinned) if pinned else datetime.now(UTC)
            weeks = jobs_service.shift_into_future(rows, now=now, lead_days=float(app.config["NOTICE_LEAD_DAYS"]))
            jobs_service.import_rows(s, rows)
            echo(f"jobs: {len(rows)} added from {jobs_csv}" + (f", {len(errors)} row problems skipped" if errors else "")
                 + (f"; their windows moved {weeks} week(s) forward to start after the notice lead" if weeks else ""))
        else:
            echo(f"jobs: {jobs_csv} not found, skipped")
        fleet = app.config.get("GENERATORS_PATH")
        echo(f"generators: {'fleet from ' + fleet if fleet else 'no GENERATORS_PATH; plans and faults get no generator trucks'}")
        users = list(DEMO_USERS)
        first_crew = s.scalars(select(Crew.id).order_by(Crew.id).limit(1)).first()
        if first_crew:
            users.append(("crew1", "crew", first_crew))
        for username, role, crew_id in users:
            if s.scalar(select(User).where(User.username == username)) is None:
                pw = secrets.token_urlsafe(9)
                create_user(s, username=username, password=pw, role=role, crew_id=crew_id)
                created[username] = pw
    return created


@demo_cli.command("seed")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder with crews.csv, jobs.csv, generators.csv (default: the demo city, outage_demo/)")
def demo_seed(data_dir: Path | None) -> None:
    """Create demo users (passwords printed once), crews and jobs."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        created = seed(app, data_dir=data_dir or outage_demo.DATA_DIR)
    except OutageError as exc:
        raise click.ClickException(exc.message) from None
    if created:
        click.echo("demo users (shown once; change or delete them before real use):")
        for username, pw in created.items():
            click.echo(f"  {username:<11} {pw}")
    else:
        click.echo("demo users exist already (passwords were shown when they were created)")


@notify_cli.command("send-due")
@click.option("--now", "now_text", default=None, help="ISO time with offset to treat as now (default: the clock)")
def notify_send_due(now_text: str | None) -> None:
    """Send every pending message that is due; running it twice sends nothing twice."""
    from datetime import datetime

    from app.notify import make_sender, send_due
    from app.services.customers import phone_book

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    grid = app.extensions["grid"]
    now = None
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter(f"not an ISO date-time: {now_text!r}", param_hint="--now") from None
        if now.tzinfo is None:
            raise click.BadParameter("needs a UTC offset", param_hint="--now")
    counts = send_due(app.extensions["db"], make_sender(app.config), now=now, phones=phone_book(grid), tz=grid.timezone)
    click.echo(f"sent {counts['sent']}, failed {counts['failed']}")


@runs_cli.command("reap")
def runs_reap() -> None:
    """Fail the unfinished runs whose owner is gone (lapsed heartbeat lease, exited process, ended RQ job).

    Safe while the service runs: live runs and runs waiting in the RQ queue are left.
    """
    from app.runs import reap

    report = reap(current_app._get_current_object())  # type: ignore[attr-defined]
    for run_id, reason in report.failed.items():
        click.echo(f"run {run_id} failed: {reason}")
    rq = "" if report.rq_checked else " (RQ not consulted: no REDIS_URL or Redis does not answer)"
    click.echo(f"{len(report.failed)} unfinished run(s) marked failed, {report.left} left running or queued{rq}")


def init_app(app: Flask) -> None:
    for group in (db_cli, users_cli, demo_cli, notify_cli, runs_cli):
        app.cli.add_command(group)
