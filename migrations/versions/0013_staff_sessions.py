"""staff_sessions: staff.session_version, bumped by signing out and by a password change, so a
copied console cookie ends with them

Revision ID: 0013_staff_sessions
Revises: 0009_console
Create Date: 2026-11-30 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_staff_sessions'
down_revision = '0009_console'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_version', sa.Integer(), nullable=False, server_default='0')
        )


def downgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('session_version')
