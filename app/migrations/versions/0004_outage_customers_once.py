"""a plan's customers stored once: outage_customers rows; plans.result without customer lists

Before: each outage of ``plans.result`` held its customers twice over (``customers``: ids;
``notices.customers``: ids with names, phones and addresses) besides the
``outage_customers`` rows. Upgrade: a customer the JSON lists but the rows lack gets its
row (supply and due times from the JSON), then both lists leave the JSON (``notices.count``
stays), and ``outage_customers.supply`` is checked against the three known values.
Downgrade puts the lists back from the rows (ids and supply; names, phones and addresses
stay in the grid, where the service reads them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00
"""
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

import app.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

SUPPLIES = ("interrupted", "short_breaks", "generator")
CHECK = f"supply IN ({', '.join(repr(s) for s in SUPPLIES)})"

plans = sa.table("plans", sa.column("id", sa.Integer), sa.column("result", sa.JSON))
outages = sa.table("outages", sa.column("id", sa.Integer), sa.column("plan_id", sa.Integer), sa.column("core_id", sa.String),
                   sa.column("start", app.models.UTCDateTime()))
customers = sa.table("outage_customers", sa.column("id", sa.Integer), sa.column("outage_id", sa.Integer),
                     sa.column("customer_id", sa.String), sa.column("supply", sa.String),
                     sa.column("notice_due", app.models.UTCDateTime()), sa.column("sms_due", app.models.UTCDateTime()))


def _time(value: Any, fallback: datetime | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else fallback


def _missing_rows(o: Mapping[str, Any], outage_id: int, start: datetime | None, have: set[str]) -> list[dict[str, Any]]:
    """Rows for the customers the outage's JSON lists and the table lacks."""
    raw = o.get("notices")
    notices: dict[str, Any] = raw if isinstance(raw, dict) else {}
    supply = {str(c.get("id")): c.get("supply") for c in notices.get("customers") or [] if isinstance(c, dict)}
    ids = dict.fromkeys([str(c) for c in o.get("customers") or [] if not isinstance(c, dict)] + list(supply))
    notice_due = _time(notices.get("notice_due"), start - timedelta(days=7) if start else None)
    sms_due = _time(notices.get("sms_due"), start - timedelta(minutes=10) if start else None)
    return [{"outage_id": outage_id, "customer_id": cid, "notice_due": notice_due, "sms_due": sms_due,
             "supply": supply.get(cid) if supply.get(cid) in SUPPLIES else "interrupted"} for cid in ids if cid not in have]


def _plans(conn: sa.Connection) -> Iterator[tuple[int, dict[str, Any], dict[str, tuple[int, datetime | None]]]]:
    """(plan id, result, core id -> (outage id, start)) of every plan with a result, one plan at a time."""
    for pid in list(conn.scalars(sa.select(plans.c.id).where(plans.c.result.is_not(None)).order_by(plans.c.id))):
        result = conn.scalar(sa.select(plans.c.result).where(plans.c.id == pid))
        if isinstance(result, dict):
            q = sa.select(outages.c.core_id, outages.c.id, outages.c.start).where(outages.c.plan_id == pid)
            yield pid, result, {str(c): (i, s) for c, i, s in conn.execute(q).all()}


def upgrade() -> None:
    conn = op.get_bind()
    conn.execute(customers.update().where(customers.c.supply.not_in(SUPPLIES)).values(supply="interrupted"))
    for pid, result, by_core in _plans(conn):
        kept = []
        for o in result.get("outages") or []:
            if not isinstance(o, dict):
                continue
            if str(o.get("id")) in by_core:
                oid, start = by_core[str(o.get("id"))]
                have = set(conn.scalars(sa.select(customers.c.customer_id).where(customers.c.outage_id == oid)))
                rows = _missing_rows(o, oid, start, have)
                if rows:
                    conn.execute(customers.insert(), rows)
            o = {k: v for k, v in o.items() if k != "customers"}
            if isinstance(o.get("notices"), dict):
                o["notices"] = {k: v for k, v in o["notices"].items() if k != "customers"}
            kept.append(o)
        conn.execute(plans.update().where(plans.c.id == pid).values(result={**result, "outages": kept}))
    with op.batch_alter_table('outage_customers', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_outage_customers_supply'), CHECK)


def downgrade() -> None:
    with op.batch_alter_table('outage_customers', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outage_customers_supply'), type_='check')
    conn = op.get_bind()
    for pid, result, by_core in _plans(conn):
        back = []
        for o in result.get("outages") or []:
            oid = by_core.get(str(o.get("id")), (None, None))[0] if isinstance(o, dict) else None
            if oid is not None:
                q = sa.select(customers.c.customer_id, customers.c.supply).where(customers.c.outage_id == oid).order_by(customers.c.id)
                rows = conn.execute(q).all()
                o = {**o, "customers": [c for c, _ in rows]}
                if isinstance(o.get("notices"), dict):
                    o["notices"] = {**o["notices"], "customers": [{"id": c, "supply": s} for c, s in rows]}
            back.append(o)
        conn.execute(plans.update().where(plans.c.id == pid).values(result={**result, "outages": back}))
