"""fault switching progress: executed restoration steps (who, when) and the fault's repaired/normal times

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

import app.models

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fault_step_executions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('fault_id', sa.Integer(), nullable=False),
        sa.Column('stage_seq', sa.Integer(), nullable=False),
        sa.Column('step_seq', sa.Integer(), nullable=False),
        sa.Column('switch', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=8), nullable=False),
        sa.Column('executed_at', app.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('executed_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['executed_by'], ['users.id'], name=op.f('fk_fault_step_executions_executed_by_users')),
        sa.ForeignKeyConstraint(['fault_id'], ['faults.id'], name=op.f('fk_fault_step_executions_fault_id_faults'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fault_step_executions')),
        sa.UniqueConstraint('fault_id', 'step_seq', name=op.f('uq_fault_step_executions_fault_id')),
    )
    with op.batch_alter_table('fault_step_executions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fault_step_executions_fault_id'), ['fault_id'], unique=False)
    # Not batch mode (as in 0011): SQLite would copy the faults table, and dropping the old copy
    # cascades to the rows that reference it; ADD / DROP COLUMN need no copy.
    op.add_column('faults', sa.Column('restored_at', app.models.UTCDateTime(timezone=True), nullable=True))
    op.add_column('faults', sa.Column('closed_at', app.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('faults', 'closed_at')  # SQLite >= 3.35 drops a column without copying the table
    op.drop_column('faults', 'restored_at')
    with op.batch_alter_table('fault_step_executions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fault_step_executions_fault_id'))
    op.drop_table('fault_step_executions')
