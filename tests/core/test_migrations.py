"""The migration chain and the models agree, and the chain runs both ways."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app.core.extensions import db


def test_models_and_migrations_agree(ctx):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models differ from migrations: {diff}"


def test_downgrade_to_base_and_back(ctx):
    downgrade(revision="base")
    tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade()
    assert {"customers", "timeline_events", "customer_identities"} <= set(
        inspect(db.engine).get_table_names()
    )
