"""callbacks: customers.source_channel holds a whole QR scene (mp_qr: + 64 characters)

Revision ID: 0011_callbacks
Revises: 0006_photo_uploads
Create Date: 2026-11-30 18:10:00.000000

A QR code's scene_str is up to 64 characters, so `mp_qr:<scene>` is up to 70: a follow
from such a code failed on PostgreSQL (value too long), and WeChat's retries with it.
Widening a varchar is a catalogue change on PostgreSQL (no table rewrite). SQLite does not
enforce a length, and changing the declared one would mean copying the customers table,
which its foreign keys refuse once rows refer to it: SQLite is left as it is.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_callbacks'
down_revision = '0007_trace'
branch_labels = None
depends_on = None


def _source_channel(old, new):
    # SQLite copies the table, and dropping the old copy is refused while rows of other
    # tables refer to it: SQLite's own recipe (ALTER TABLE, "other kinds of table schema
    # changes") turns foreign keys off around the copy's transaction, then back on, which
    # only takes effect outside a transaction, hence the COMMIT.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.execute('PRAGMA foreign_keys=OFF')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.alter_column('source_channel',
               existing_type=sa.String(length=old),
               type_=sa.String(length=new),
               existing_nullable=False)
    if sqlite:
        op.execute('COMMIT')
        op.execute('PRAGMA foreign_keys=ON')


def upgrade():
    _source_channel(64, 100)


def downgrade():
    _source_channel(100, 64)
