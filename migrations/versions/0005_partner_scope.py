"""partner scope: volunteer.partner_organisation; indexes for the per-organisation API lists

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 04:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_organisation', sa.String(length=60), nullable=True))
        batch_op.create_index('ix_volunteer_partner_organisation', ['partner_organisation'],
                              unique=False)
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.create_index('ix_resident_referrer_organisation', ['referrer_organisation'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.drop_index('ix_resident_referrer_organisation')
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_partner_organisation')
        batch_op.drop_column('partner_organisation')
