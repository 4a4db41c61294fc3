"""trust: the partner organisation of a run, public form submissions, who withdrew a consent

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 18:00:00
"""
from alembic import op
import sqlalchemy as sa
import matching.store.base


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('match_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation', sa.String(length=60), nullable=True))
        batch_op.create_index('ix_match_run_organisation', ['organisation'], unique=False)
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_by', sa.String(length=120), nullable=True))
    op.create_table('form_submission',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('subject_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('signup', 'referral')", name=op.f('ck_form_submission_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_submission')),
    sa.UniqueConstraint('kind', 'fingerprint', name=op.f('uq_form_submission_kind_fingerprint'))
    )
    with op.batch_alter_table('form_submission', schema=None) as batch_op:
        batch_op.create_index('ix_form_submission_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('form_submission', schema=None) as batch_op:
        batch_op.drop_index('ix_form_submission_created_at')
    op.drop_table('form_submission')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_by')
    with op.batch_alter_table('match_run', schema=None) as batch_op:
        batch_op.drop_index('ix_match_run_organisation')
        batch_op.drop_column('organisation')
