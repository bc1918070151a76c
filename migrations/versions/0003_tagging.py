"""tagging: editable tag rules, the tagging state (rules version, retag checkpoint), customer budget

Revision ID: 0003_tagging
Revises: 0002_callbacks
Create Date: 2026-11-22 11:01:38.686232

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0003_tagging'
down_revision = '0002_callbacks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tagging_state',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('number', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_tagging_state'))
    )
    op.create_table('tag_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=50), nullable=False),
    sa.Column('words', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('exclusions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('default_key', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff.id'], name=op.f('fk_tag_rules_updated_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_rules')),
    sa.UniqueConstraint('default_key', name=op.f('uq_tag_rules_default_key'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('budget_amount', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('budget_evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))


def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('budget_evidence')
        batch_op.drop_column('budget_amount')

    op.drop_table('tag_rules')
    op.drop_table('tagging_state')
