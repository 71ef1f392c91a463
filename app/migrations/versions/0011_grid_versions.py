"""grid versions: uploaded grid files with an effective time; plans, outages and faults name theirs

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

import app.models

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

UTC = app.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'grid_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.Column('base_id', sa.Integer(), nullable=True),
        sa.Column('diff', sa.JSON(), nullable=True),
        sa.Column('checks', sa.JSON(), nullable=True),
        sa.Column('uploaded_by', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', UTC, nullable=False),
        sa.Column('activated_by', sa.Integer(), nullable=True),
        sa.Column('activated_at', UTC, nullable=True),
        sa.Column('effective_at', UTC, nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['base_id'], ['grid_versions.id'], name=op.f('fk_grid_versions_base_id_grid_versions')),
        sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_grid_versions_uploaded_by_users')),
        sa.ForeignKeyConstraint(['activated_by'], ['users.id'], name=op.f('fk_grid_versions_activated_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_versions')),
        sa.UniqueConstraint('sha256', name=op.f('uq_grid_versions_sha256')),
    )
    with op.batch_alter_table('grid_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_versions_effective_at'), ['effective_at'], unique=False)
    # Not batch mode: SQLite would copy each table, and dropping the old copy cascades to the
    # rows that reference it (outage_customers, steps, stages). ADD COLUMN ... REFERENCES is plain SQL.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in ('plans', 'outages', 'faults'):
        fk = f'fk_{table}_grid_version_id_grid_versions'
        if sqlite:
            op.execute(f'ALTER TABLE {table} ADD COLUMN grid_version_id INTEGER CONSTRAINT {fk} REFERENCES grid_versions (id)')
        else:
            op.add_column(table, sa.Column('grid_version_id', sa.Integer(), nullable=True))
            op.create_foreign_key(op.f(fk), table, 'grid_versions', ['grid_version_id'], ['id'])
    with op.batch_alter_table('outages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grid_flags', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('outages', 'grid_flags')
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in ('faults', 'outages', 'plans'):
        if not sqlite:
            op.drop_constraint(op.f(f'fk_{table}_grid_version_id_grid_versions'), table, type_='foreignkey')
        op.drop_column(table, 'grid_version_id')  # SQLite >= 3.35 drops a column without copying the table
    with op.batch_alter_table('grid_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_versions_effective_at'))
    op.drop_table('grid_versions')
