"""exactly-once writes and revocable sessions: job_numbers, idempotency_keys.state, users.session_version

* ``job_numbers``: one autoincrement row per server-generated job id (ids no longer come
  from counting jobs, which collided under concurrent creates).
* ``idempotency_keys.state``: ``pending`` while the first request with a key runs, ``done``
  once its answer is stored; existing rows are answers, so they become ``done``.
* ``users.session_version``: raised by logout and password change; sessions issued at an
  older version are refused.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:45:00
"""
import sqlalchemy as sa
from alembic import op

import app.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_numbers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_numbers')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), server_default='done', nullable=False))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
    op.execute("DELETE FROM idempotency_keys WHERE state = 'pending'")
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_column('state')
    op.drop_table('job_numbers')
