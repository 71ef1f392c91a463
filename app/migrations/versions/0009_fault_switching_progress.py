"""fault switching progress: executed restoration steps (who, when) and the fault's repaired/normal times

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

import app.models

revision = '0009'
down_revision = '0007'
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
    with op.batch_alter_table('faults', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restored_at', app.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_at', app.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('faults', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
        batch_op.drop_column('restored_at')
    with op.batch_alter_table('fault_step_executions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fault_step_executions_fault_id'))
    op.drop_table('fault_step_executions')
