"""crew phone page: route links (hashed tokens), stop photos, working status, note and
phone times of stop progress, receive time of positions, outbox recipient for crew SMS

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

import app.models

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient', sa.String(length=32), nullable=True))
    with op.batch_alter_table('crew_positions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_at', app.models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('route_stops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('working_at', app.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('arrived_received_at', app.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('working_received_at', app.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('done_received_at', app.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), server_default='', nullable=False))
    op.create_table(
        'route_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('route_id', sa.Integer(), nullable=False),
        sa.Column('crew_id', sa.String(length=64), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', app.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', app.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', app.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('notification_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_route_links_created_by_users')),
        sa.ForeignKeyConstraint(['crew_id'], ['crews.id'], name=op.f('fk_route_links_crew_id_crews'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_route_links_notification_id_notifications'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['route_id'], ['routes.id'], name=op.f('fk_route_links_route_id_routes'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_route_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_route_links_token_hash')),
    )
    with op.batch_alter_table('route_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_route_links_crew_id'), ['crew_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_route_links_route_id'), ['route_id'], unique=False)
    op.create_table(
        'stop_photos',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('route_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=32), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('taken_at', app.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('received_at', app.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('uploaded_by', sa.Integer(), nullable=True),
        sa.Column('route_link_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['route_id'], ['routes.id'], name=op.f('fk_stop_photos_route_id_routes'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['route_link_id'], ['route_links.id'], name=op.f('fk_stop_photos_route_link_id_route_links'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_stop_photos_uploaded_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stop_photos')),
    )
    with op.batch_alter_table('stop_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stop_photos_route_id'), ['route_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stop_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stop_photos_route_id'))
    op.drop_table('stop_photos')
    with op.batch_alter_table('route_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_route_links_route_id'))
        batch_op.drop_index(batch_op.f('ix_route_links_crew_id'))
    op.drop_table('route_links')
    with op.batch_alter_table('route_stops', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('done_received_at')
        batch_op.drop_column('working_received_at')
        batch_op.drop_column('arrived_received_at')
        batch_op.drop_column('working_at')
    with op.batch_alter_table('crew_positions', schema=None) as batch_op:
        batch_op.drop_column('received_at')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('recipient')
