"""run leases: the runner that took a run, the process that owns it and its last heartbeat

Five nullable columns on ``runs``: ``runner`` (thread, rq, sync), ``owner_token``,
``owner_host``, ``owner_pid`` and ``heartbeat_at``. Existing rows keep NULLs, which the
reaper reads as "recorded before leases" and judges by their age alone; no row changes.
Downgrade drops the columns (and the leases with them).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 03:45:00
"""
import sqlalchemy as sa
from alembic import op

import app.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('runner', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('owner_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('owner_host', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('owner_pid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', app.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_runs_owner_token'), ['owner_token'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runs_owner_token'))
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('owner_pid')
        batch_op.drop_column('owner_host')
        batch_op.drop_column('owner_token')
        batch_op.drop_column('runner')
