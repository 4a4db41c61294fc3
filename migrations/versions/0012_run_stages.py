"""match runs: the stage a run has reached and when it last reported

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 00:00:00
"""
from alembic import op
import sqlalchemy as sa
import matching.store.base


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('match_run') as batch:
        batch.add_column(sa.Column('stage', sa.String(length=12), nullable=False, server_default='done'))
        batch.add_column(sa.Column('reported_at', matching.store.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('match_run') as batch:
        batch.alter_column('stage', server_default=None)
    # Runs used to execute inside a request: one still "running" now lost its process.
    op.execute("UPDATE match_run SET status = 'failed', error = 'interrupted', progress = 100 "
               "WHERE status = 'running'")


def downgrade() -> None:
    with op.batch_alter_table('match_run') as batch:
        batch.drop_column('reported_at')
        batch.drop_column('stage')
