"""executed interruptions: the history behind the reliability report and the repeat rule

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

import app.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'interruptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('start', app.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('end', app.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', app.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('planned', 'unplanned')", name=op.f('ck_interruptions_kind')),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_interruptions_created_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_interruptions')),
    )
    with op.batch_alter_table('interruptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interruptions_event'), ['event'], unique=False)
        batch_op.create_index(batch_op.f('ix_interruptions_start'), ['start'], unique=False)
    op.create_table(
        'interruption_customers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('interruption_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['interruption_id'], ['interruptions.id'], name=op.f('fk_interruption_customers_interruption_id_interruptions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_interruption_customers')),
        sa.UniqueConstraint('interruption_id', 'customer_id', name=op.f('uq_interruption_customers_interruption_id')),
    )
    with op.batch_alter_table('interruption_customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interruption_customers_interruption_id'), ['interruption_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('interruption_customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interruption_customers_interruption_id'))
    op.drop_table('interruption_customers')
    with op.batch_alter_table('interruptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interruptions_start'))
        batch_op.drop_index(batch_op.f('ix_interruptions_event'))
    op.drop_table('interruptions')
