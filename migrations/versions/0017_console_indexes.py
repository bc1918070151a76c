"""console indexes: customers by owner and by store, newest first

The console's customer list filtered by a tag (or any rare condition) walked every
customer's id backwards to fill a rep's page: 100,000 rows for a rep's 2,000 (207 ms).
(owner_id, id) and (store_id, id) let it walk only the rep's or the store's customers;
they replace the single-column indexes, whose lookups they serve as well.

Revision ID: 0017_console_indexes
Revises: 0016_sales
Create Date: 2026-12-01 00:35:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017_console_indexes'
down_revision = '0016_sales'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_owner_recent', ['owner_id', 'id'], unique=False)
        batch_op.create_index('ix_customers_store_recent', ['store_id', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_customers_owner_id'))
        batch_op.drop_index(batch_op.f('ix_customers_store_id'))


def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_store_id'), ['store_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_owner_id'), ['owner_id'], unique=False)
        batch_op.drop_index('ix_customers_store_recent')
        batch_op.drop_index('ix_customers_owner_recent')
