"""referrals: what referrers were told and told back; consent to inform them; the status link

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 21:10:00
"""
from alembic import op
import sqlalchemy as sa
import matching.store.base


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OLD_CONSENT = "purpose IN ('profile', 'health_note', 'referral', 'contact')"
NEW_CONSENT = "purpose IN ('profile', 'health_note', 'referral', 'contact', 'referrer_updates')"
OLD_LINK = ("purpose IN ('proposal', 'check_in', 'verify_email', 'still_available', 'review', 'exit')")
NEW_LINK = ("purpose IN ('proposal', 'check_in', 'verify_email', 'still_available', 'review', 'exit', "
            "'referral_status')")


def _check(table: str, name: str, condition: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(name), type_="check")
        batch_op.create_check_constraint(op.f(name), condition)


def upgrade() -> None:
    op.create_table('referral_note',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('resident_id', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_referral_note_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_note'))
    )
    with op.batch_alter_table('referral_note', schema=None) as batch_op:
        batch_op.create_index('ix_referral_note_resident_id', ['resident_id'], unique=False)

    op.create_table('referral_update',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('resident_id', sa.String(length=32), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('at', matching.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_referral_update_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_update')),
    sa.UniqueConstraint('resident_id', 'sequence', name=op.f('uq_referral_update_resident_id_sequence'))
    )
    _check("consent", "ck_consent_purpose", NEW_CONSENT)
    _check("link", "ck_link_purpose", NEW_LINK)


def downgrade() -> None:
    op.execute("DELETE FROM link WHERE purpose = 'referral_status'")
    op.execute("DELETE FROM consent WHERE purpose = 'referrer_updates'")
    _check("link", "ck_link_purpose", OLD_LINK)
    _check("consent", "ck_consent_purpose", OLD_CONSENT)
    op.drop_table('referral_update')
    with op.batch_alter_table('referral_note', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_note_resident_id')

    op.drop_table('referral_note')
