"""form_submissions: the one-time nonces of console create forms, so a form posted twice
creates once

Revision ID: 0014_form_submissions
Revises: 0013_staff_sessions
Create Date: 2026-11-30 21:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_form_submissions'
down_revision = '0013_staff_sessions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'form_submissions',
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('form', sa.String(length=30), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_form_submissions_staff_id_staff')),
        sa.PrimaryKeyConstraint('nonce', name=op.f('pk_form_submissions')),
    )
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_submissions_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_submissions_created_at'))
    op.drop_table('form_submissions')
