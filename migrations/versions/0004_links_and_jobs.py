"""signed links (one row per link); the scheduler's job table stays outside Alembic

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-29 03:55:00
"""
from alembic import op
import sqlalchemy as sa
import matching.store.base


revision = '0004'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('link',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('subject_kind', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.String(length=32), nullable=False),
    sa.Column('person_kind', sa.String(length=12), nullable=False),
    sa.Column('person_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', matching.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('choice', sa.String(length=40), nullable=True),
    sa.CheckConstraint("purpose IN ('proposal', 'check_in', 'verify_email', 'still_available')", name=op.f('ck_link_purpose')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link'))
    )
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.create_index('ix_link_person', ['person_kind', 'person_id'], unique=False)
        batch_op.create_index('ix_link_subject', ['subject_kind', 'subject_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_index('ix_link_subject')
        batch_op.drop_index('ix_link_person')

    op.drop_table('link')
