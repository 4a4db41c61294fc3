"""durability: milestone reviews, exit interviews, anonymised_at, link purposes review and exit

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 04:08:34.743922
"""
from alembic import op
import sqlalchemy as sa
import matching.store.base


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OLD_PURPOSES = ("proposal", "check_in", "verify_email", "still_available")
NEW_PURPOSES = (*OLD_PURPOSES, "review", "exit")


def upgrade() -> None:
    op.create_table('exit_interview',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('match_id', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('created_at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', matching.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.String(length=32), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.CheckConstraint("channel IN ('email', 'coordinator')", name=op.f('ck_exit_interview_channel')),
    sa.CheckConstraint("side IN ('volunteer', 'resident')", name=op.f('ck_exit_interview_side')),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_exit_interview_rating_range')),
    sa.ForeignKeyConstraint(['answered_by'], ['staff_user.id'], name=op.f('fk_exit_interview_answered_by_staff_user')),
    sa.ForeignKeyConstraint(['match_id'], ['match.id'], name=op.f('fk_exit_interview_match_id_match')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exit_interview')),
    sa.UniqueConstraint('match_id', 'side', name=op.f('uq_exit_interview_match_id_side'))
    )
    op.create_table('milestone_review',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('match_id', sa.String(length=32), nullable=False),
    sa.Column('milestone', sa.String(length=4), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', matching.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.String(length=32), nullable=True),
    sa.Column('volunteer_satisfaction', sa.Integer(), nullable=True),
    sa.Column('resident_satisfaction', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=8), nullable=True),
    sa.Column('loneliness_score', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("decision IS NULL OR decision IN ('continue', 'end')", name=op.f('ck_milestone_review_decision')),
    sa.CheckConstraint("milestone IN ('6w', '3m', '6m', '12m')", name=op.f('ck_milestone_review_milestone')),
    sa.CheckConstraint('loneliness_score IS NULL OR loneliness_score BETWEEN 0 AND 6', name=op.f('ck_milestone_review_loneliness_range')),
    sa.CheckConstraint('resident_satisfaction IS NULL OR resident_satisfaction BETWEEN 1 AND 5', name=op.f('ck_milestone_review_resident_satisfaction_range')),
    sa.CheckConstraint('volunteer_satisfaction IS NULL OR volunteer_satisfaction BETWEEN 1 AND 5', name=op.f('ck_milestone_review_volunteer_satisfaction_range')),
    sa.ForeignKeyConstraint(['done_by'], ['staff_user.id'], name=op.f('fk_milestone_review_done_by_staff_user')),
    sa.ForeignKeyConstraint(['match_id'], ['match.id'], name=op.f('fk_milestone_review_match_id_match')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone_review')),
    sa.UniqueConstraint('match_id', 'milestone', name=op.f('uq_milestone_review_match_id_milestone'))
    )
    with op.batch_alter_table('milestone_review', schema=None) as batch_op:
        batch_op.create_index('ix_milestone_review_open', ['done_at', 'due_on'], unique=False)

    for table in ('volunteer', 'resident'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(
                'anonymised_at', matching.store.base.UTCDateTime(timezone=True), nullable=True))
    _link_purposes(NEW_PURPOSES)


def downgrade() -> None:
    _link_purposes(OLD_PURPOSES)
    for table in ('volunteer', 'resident'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('anonymised_at')
    with op.batch_alter_table('milestone_review', schema=None) as batch_op:
        batch_op.drop_index('ix_milestone_review_open')

    op.drop_table('milestone_review')
    op.drop_table('exit_interview')


def _link_purposes(purposes: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{p}'" for p in purposes)
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_link_purpose'), type_='check')
        batch_op.create_check_constraint(op.f('ck_link_purpose'), f"purpose IN ({allowed})")
