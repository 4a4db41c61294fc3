"""learned durability model, commitment at intake

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 20:20:00
"""
from alembic import op
import sqlalchemy as sa
import matching.store.base


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

COMMITMENT_CHECK = "commitment_months IS NULL OR commitment_months IN ('3', '6', '12', '24', 'open')"


def upgrade() -> None:
    op.create_table('durability_model',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.String(length=12), nullable=False),
    sa.Column('data_hash', sa.String(length=64), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('left_out', sa.Integer(), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('c_index', sa.Double(), nullable=False),
    sa.Column('c_low', sa.Double(), nullable=False),
    sa.Column('c_high', sa.Double(), nullable=False),
    sa.Column('baseline_survival', sa.Double(), nullable=False),
    sa.Column('model', sa.JSON(), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('calibration', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_durability_model'))
    )
    with op.batch_alter_table('durability_model', schema=None) as batch_op:
        batch_op.create_index('ix_durability_model_created_at', ['created_at'], unique=False)

    with op.batch_alter_table('match', schema=None) as batch_op:
        batch_op.add_column(sa.Column('durability', sa.Double(), nullable=True))

    with op.batch_alter_table('match_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model_id', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_match_run_model_id_durability_model'), 'durability_model', ['model_id'], ['id'])

    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commitment_months', sa.String(length=4), nullable=True))
        batch_op.create_check_constraint(op.f('ck_resident_commitment_months'), COMMITMENT_CHECK)

    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commitment_months', sa.String(length=4), nullable=True))
        batch_op.create_check_constraint(op.f('ck_volunteer_commitment_months'), COMMITMENT_CHECK)



def downgrade() -> None:
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_volunteer_commitment_months'), type_='check')
        batch_op.drop_column('commitment_months')

    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_resident_commitment_months'), type_='check')
        batch_op.drop_column('commitment_months')

    with op.batch_alter_table('match_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_match_run_model_id_durability_model'), type_='foreignkey')
        batch_op.drop_column('model_id')

    with op.batch_alter_table('match', schema=None) as batch_op:
        batch_op.drop_column('durability')

    with op.batch_alter_table('durability_model', schema=None) as batch_op:
        batch_op.drop_index('ix_durability_model_created_at')

    op.drop_table('durability_model')
