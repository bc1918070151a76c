"""console: the customer list filtered by a tag reads that tag's customers newest first

Revision ID: 0009_console
Revises: 0006_photo_uploads
Create Date: 2026-11-30 18:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009_console'
down_revision = '0010_enrichment_access'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer_tags', schema=None) as batch_op:
        batch_op.create_index('ix_customer_tags_tag_customer', ['tag_id', 'customer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('customer_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_tags_tag_customer')
