"""referrals: referral codes, referrals, the credit ledger and accounts, redemptions

Revision ID: 0015_referrals
Revises: 0014_form_submissions
Create Date: 2026-11-30 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_referrals'
down_revision = '0014_form_submissions'
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
LIVE = sa.text("status IN ('attributed', 'held')")


def _customer(column='customer_id', table=''):
    return sa.ForeignKeyConstraint(
        [column], ['customers.id'], name=op.f(f'fk_{table}_{column}_customers')
    )


def upgrade():
    op.create_table(
        'referral_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('mp_ticket', sa.String(length=255), nullable=True),
        sa.Column('created_at', UTC_TIME, nullable=False),
        _customer(table='referral_codes'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_codes')),
        sa.UniqueConstraint('code', name=op.f('uq_referral_codes_code')),
        sa.UniqueConstraint('customer_id', name=op.f('uq_referral_codes_customer_id')),
    )
    op.create_table(
        'referrals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('referrer_id', sa.Integer(), nullable=False),
        sa.Column('referee_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('device', sa.String(length=64), nullable=False),
        sa.Column('step', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('review_note', sa.String(length=500), nullable=False),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_at', UTC_TIME, nullable=True),
        sa.Column('attributed_at', UTC_TIME, nullable=True),
        sa.Column('created_at', UTC_TIME, nullable=False),
        sa.Column('updated_at', UTC_TIME, nullable=False),
        _customer('referrer_id', 'referrals'),
        _customer('referee_id', 'referrals'),
        sa.ForeignKeyConstraint(
            ['reviewed_by_id'], ['staff.id'], name=op.f('fk_referrals_reviewed_by_id_staff')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(
            'uq_referrals_live_referee', ['referee_id'], unique=True,
            postgresql_where=LIVE, sqlite_where=LIVE,
        )
        batch_op.create_index('ix_referrals_referrer', ['referrer_id', 'status', 'step'])
        batch_op.create_index('ix_referrals_status', ['status', 'id'])
        batch_op.create_index(batch_op.f('ix_referrals_referee_id'), ['referee_id'])
    op.create_table(
        'credit_accounts',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('balance', sa.Integer(), nullable=False),
        sa.Column('vip_since', UTC_TIME, nullable=True),
        sa.Column('vip_review_at', UTC_TIME, nullable=True),
        sa.Column('vip_review_reason', sa.String(length=200), nullable=False),
        sa.Column('updated_at', UTC_TIME, nullable=False),
        _customer(table='credit_accounts'),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_credit_accounts')),
    )
    op.create_table(
        'redemptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('item', sa.String(length=100), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('approver_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', UTC_TIME, nullable=True),
        sa.Column('created_at', UTC_TIME, nullable=False),
        _customer(table='redemptions'),
        sa.ForeignKeyConstraint(
            ['approver_id'], ['staff.id'], name=op.f('fk_redemptions_approver_id_staff')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_redemptions')),
    )
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.create_index('ix_redemptions_status', ['status', 'id'])
        batch_op.create_index(batch_op.f('ix_redemptions_customer_id'), ['customer_id'])
    op.create_table(
        'credit_entries',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=True),
        sa.Column('step', sa.String(length=20), nullable=True),
        sa.Column('cycle', sa.Integer(), nullable=True),
        sa.Column('redemption_id', sa.Integer(), nullable=True),
        sa.Column('reference', sa.String(length=200), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('actor_staff_id', sa.Integer(), nullable=True),
        sa.Column('balance_after', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC_TIME, nullable=False),
        _customer(table='credit_entries'),
        sa.ForeignKeyConstraint(
            ['referral_id'], ['referrals.id'], name=op.f('fk_credit_entries_referral_id_referrals')
        ),
        sa.ForeignKeyConstraint(
            ['redemption_id'], ['redemptions.id'],
            name=op.f('fk_credit_entries_redemption_id_redemptions'),
        ),
        sa.ForeignKeyConstraint(
            ['actor_staff_id'], ['staff.id'], name=op.f('fk_credit_entries_actor_staff_id_staff')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_entries')),
        sa.UniqueConstraint(
            'referral_id', 'step', 'kind', 'cycle',
            name=op.f('uq_credit_entries_referral_id_step_kind_cycle'),
        ),
    )
    with op.batch_alter_table('credit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_credit_entries_customer', ['customer_id', 'id'])


def downgrade():
    op.drop_table('credit_entries')
    op.drop_table('redemptions')
    op.drop_table('credit_accounts')
    op.drop_table('referrals')
    op.drop_table('referral_codes')
