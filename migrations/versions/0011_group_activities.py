"""group activities for those who wait

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 21:20:00
"""
from alembic import op
import sqlalchemy as sa
import matching.store.base


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('group_activity',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('organiser', sa.String(length=120), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('postcode', sa.String(length=7), nullable=True),
    sa.Column('neighbourhood', sa.String(length=80), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('availability', sa.JSON(), nullable=False),
    sa.Column('interests', sa.JSON(), nullable=False),
    sa.Column('target_groups', sa.JSON(), nullable=False),
    sa.Column('cost', sa.String(length=60), nullable=True),
    sa.Column('contact', sa.String(length=200), nullable=True),
    sa.Column('wheelchair', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('organisation', sa.String(length=60), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_activity'))
    )
    with op.batch_alter_table('group_activity', schema=None) as batch_op:
        batch_op.create_index('ix_group_activity_active', ['active'], unique=False)

    op.create_table('activity_suggestion',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('resident_id', sa.String(length=32), nullable=False),
    sa.Column('activity_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=60), nullable=True),
    sa.CheckConstraint("status IN ('suggested', 'went', 'not_for_me')", name=op.f('ck_activity_suggestion_status')),
    sa.ForeignKeyConstraint(['activity_id'], ['group_activity.id'], name=op.f('fk_activity_suggestion_activity_id_group_activity')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_activity_suggestion_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_suggestion')),
    sa.UniqueConstraint('resident_id', 'activity_id', name=op.f('uq_activity_suggestion_resident_id_activity_id'))
    )
    with op.batch_alter_table('activity_suggestion', schema=None) as batch_op:
        batch_op.create_index('ix_activity_suggestion_activity_id', ['activity_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('activity_suggestion', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_suggestion_activity_id')

    op.drop_table('activity_suggestion')
    with op.batch_alter_table('group_activity', schema=None) as batch_op:
        batch_op.drop_index('ix_group_activity_active')

    op.drop_table('group_activity')
