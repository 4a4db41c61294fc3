"""organisations: partners with their own coordinators, routing rules, who serves a resident

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 20:46:00
"""
from alembic import op
import sqlalchemy as sa
import matching.store.base


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('organisation',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('shares_pool', sa.Boolean(), nullable=False),
    sa.Column('created_at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_organisation'))
    )
    op.create_table('routing_rule',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('target_group', sa.String(length=20), nullable=True),
    sa.Column('neighbourhood', sa.String(length=80), nullable=True),
    sa.Column('organisation', sa.String(length=60), nullable=False),
    sa.Column('created_at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("target_group IS NULL OR target_group IN ('older_person', 'migrant_elder', 'informal_carer', 'young_person', 'other')", name=op.f('ck_routing_rule_target_group')),
    sa.CheckConstraint('target_group IS NOT NULL OR neighbourhood IS NOT NULL', name=op.f('ck_routing_rule_some_condition')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rule'))
    )
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation', sa.String(length=60), nullable=True))
        batch_op.create_index('ix_resident_organisation', ['organisation'], unique=False)

    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation', sa.String(length=60), nullable=True))
    # Until now a partner owned the residents whose referring organisation bore its token's name;
    # from here on ownership is its own column. The organisations known so far are the tokens'.
    op.execute("INSERT INTO organisation (name, shares_pool, created_at) "
               "SELECT DISTINCT organisation, false, CURRENT_TIMESTAMP FROM api_token "
               "UNION SELECT DISTINCT partner_organisation, false, CURRENT_TIMESTAMP FROM volunteer "
               "WHERE partner_organisation IS NOT NULL")
    op.execute("UPDATE resident SET organisation = referrer_organisation "
               "WHERE referrer_organisation IN (SELECT name FROM organisation)")



def downgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('organisation')

    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.drop_index('ix_resident_organisation')
        batch_op.drop_column('organisation')

    op.drop_table('routing_rule')
    op.drop_table('organisation')
