"""outage workflow: outage_transitions (who moved an outage, when, from which status to which);
the old status ``confirmed`` becomes ``published``; the unsent notices and SMS that plan runs
queued for outages never published are removed (publishing queues them now)

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

import app.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outage_transitions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('outage_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('from_status', sa.String(length=16), nullable=False),
        sa.Column('to_status', sa.String(length=16), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=80), nullable=False),
        sa.Column('at', app.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['outage_id'], ['outages.id'], name=op.f('fk_outage_transitions_outage_id_outages'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outage_transitions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outage_transitions')),
    )
    with op.batch_alter_table('outage_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outage_transitions_outage_id'), ['outage_id'], unique=False)
    op.execute("UPDATE outages SET status = 'published' WHERE status = 'confirmed'")
    op.execute("DELETE FROM notifications WHERE status = 'pending' AND kind IN ('notice', 'sms') AND outage_id IN "
               "(SELECT id FROM outages WHERE status NOT IN ('published', 'done'))")


def downgrade() -> None:
    op.execute("UPDATE outages SET status = 'confirmed' WHERE status = 'published'")
    op.execute("UPDATE outages SET status = 'planned' WHERE status IN ('reviewed', 'approved')")
    with op.batch_alter_table('outage_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outage_transitions_outage_id'))
    op.drop_table('outage_transitions')
