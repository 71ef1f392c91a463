"""Alembic: empty -> head on SQLite and PostgreSQL, and the models match the migrations."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from app.cli import upgrade
from app.db import make_engine
from app.models import Base


def check_head(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        assert "alembic_version" in tables
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], diff
        upgrade(url)  # a second upgrade is a no-op
    finally:
        engine.dispose()


def test_sqlite_empty_to_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    check_head(url)
    with make_engine(url).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


@contextmanager
def fresh_postgres_schema() -> Iterator[str]:
    """The URL of a new, empty schema on TEST_DATABASE_URL (dropped afterwards); skips without it."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL not set")
    from urllib.parse import quote

    schema = f"mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_postgres_empty_to_head() -> None:
    with fresh_postgres_schema() as url:
        check_head(url)


OLD_OUTAGE = {  # an outage as plans.result held it before 0004: customers twice, with personal data
    "id": "OUT-001", "start": "2026-12-01T17:00:00+01:00",
    "customers": ["C1", "C3"],
    "notices": {"notice_due": "2026-11-24T17:00:00+01:00", "sms_due": "2026-12-01T16:50:00+01:00", "count": 2,
                "customers": [{"id": "C1", "name": "Résidence Les Pins", "phone": "+377 9312 3456", "address": "1 Rue A",
                               "importance": "normal", "supply": "interrupted"},
                              {"id": "C3", "name": "Hôpital Princesse", "phone": "+377 9365 4321", "address": "2 Rue B",
                               "importance": "first", "supply": "short_breaks"}]},
}


def check_customers_once(url: str) -> None:
    """0004 on a database holding a plan stored the old way: the JSON loses its customer lists
    and personal data, the customer the rows lacked gets its row, and downgrade gives the ids back."""
    import json

    from alembic import command

    from app.cli import alembic_config

    upgrade(url, "0003")
    engine = make_engine(url)
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO plans (id, status, now, job_ids, options, result, created_at) VALUES "
                           "(1, 'done', '2026-11-20 08:00:00', '[]', '{}', :r, '2026-11-20 08:00:00')"),
                      {"r": json.dumps({"outages": [OLD_OUTAGE], "metrics": {}})})
            c.execute(text("INSERT INTO outages (id, plan_id, core_id, jobs, start, valid, status, note, data, version) VALUES "
                           "(1, 1, 'OUT-001', '[]', '2026-12-01 16:00:00', true, 'planned', '', '{}', 1)"))
            c.execute(text("INSERT INTO outage_customers (outage_id, customer_id, supply) VALUES (1, 'C1', 'interrupted')"))
        upgrade(url)
        with engine.connect() as c:
            stored = c.execute(text("SELECT result FROM plans WHERE id = 1")).scalar_one()
            rows = c.execute(text("SELECT customer_id, supply, sms_due FROM outage_customers ORDER BY id")).all()
        stored = stored if isinstance(stored, dict) else json.loads(stored)
        outage = stored["outages"][0]
        assert "customers" not in outage and "customers" not in outage["notices"] and outage["notices"]["count"] == 2
        for private in ("Pins", "Princesse", "+377", "Rue"):
            assert private not in json.dumps(stored, ensure_ascii=False)
        assert [(r[0], r[1]) for r in rows] == [("C1", "interrupted"), ("C3", "short_breaks")]
        assert rows[1][2] is not None  # the due time came from the notice (16:50 local)
        with engine.begin() as c, pytest.raises(IntegrityError, match="(?i)check"), c.begin_nested():
            c.execute(text("INSERT INTO outage_customers (outage_id, customer_id, supply) VALUES (1, 'C9', 'moonlight')"))
        command.downgrade(alembic_config(url), "0003")
        with engine.connect() as c:
            back = c.execute(text("SELECT result FROM plans WHERE id = 1")).scalar_one()
        back = back if isinstance(back, dict) else json.loads(back)
        assert back["outages"][0]["customers"] == ["C1", "C3"]
        assert back["outages"][0]["notices"]["customers"] == [{"id": "C1", "supply": "interrupted"}, {"id": "C3", "supply": "short_breaks"}]
        upgrade(url)
    finally:
        engine.dispose()


def test_sqlite_customers_stored_once(tmp_path: Path) -> None:
    check_customers_once(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
def test_postgres_customers_stored_once() -> None:
    with fresh_postgres_schema() as url:
        check_customers_once(url)


def check_workflow_statuses(url: str) -> None:
    """0008 on a database of plan runs that queued notices at once: a confirmed outage becomes
    published and keeps its messages; a planned one loses its unsent notices (publishing queues
    them), a message already sent stays; downgrade gives ``confirmed`` back."""
    from alembic import command

    from app.cli import alembic_config

    upgrade(url, "0007")
    engine = make_engine(url)
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO plans (id, status, now, job_ids, options, created_at) VALUES "
                           "(1, 'done', '2026-11-20 08:00:00', '[]', '{}', '2026-11-20 08:00:00')"))
            for oid, status in ((1, "confirmed"), (2, "planned"), (3, "cancelled")):
                c.execute(text("INSERT INTO outages (id, plan_id, core_id, jobs, start, valid, status, note, data, version) VALUES "
                               "(:id, 1, :core, '[]', '2026-12-01 16:00:00', true, :status, '', '{}', 1)"),
                          {"id": oid, "core": f"OUT-{oid}", "status": status})
            for nid, (oid, kind, status) in enumerate([(1, "notice", "pending"), (1, "sms", "pending"), (2, "notice", "pending"),
                                                       (2, "sms", "pending"), (2, "notice", "sent"), (3, "sms", "cancelled")], 1):
                c.execute(text("INSERT INTO notifications (id, dedupe_key, kind, channel, outage_id, customer_id, due_at, text_en, "
                               "text_zh, status, attempts) VALUES (:id, :key, :kind, 'sms', :oid, 'C1', '2026-11-24 16:00:00', '', '', "
                               ":status, 0)"), {"id": nid, "key": f"k{nid}", "kind": kind, "oid": oid, "status": status})
        upgrade(url)
        with engine.connect() as c:
            statuses = dict(c.execute(text("SELECT id, status FROM outages")).all())
            kept = [r[0] for r in c.execute(text("SELECT id FROM notifications ORDER BY id"))]
        assert statuses == {1: "published", 2: "planned", 3: "cancelled"}
        assert kept == [1, 2, 5, 6]
        command.downgrade(alembic_config(url), "0007")
        with engine.connect() as c:
            assert c.execute(text("SELECT status FROM outages WHERE id = 1")).scalar_one() == "confirmed"
        upgrade(url)
    finally:
        engine.dispose()


def test_sqlite_workflow_statuses(tmp_path: Path) -> None:
    check_workflow_statuses(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
def test_postgres_workflow_statuses() -> None:
    with fresh_postgres_schema() as url:
        check_workflow_statuses(url)
