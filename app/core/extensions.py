"""Shared extension objects, bound to the app in create_app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import g
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase

# Named constraints make migrations reproducible on both PostgreSQL and SQLite.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite: enforce foreign keys and use WAL so readers do not block the writer."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


def begin_autocommit() -> bool:
    """Run this request's statements outside a transaction (autocommit): no BEGIN and no
    COMMIT/ROLLBACK round trips. For pages that only read, and for a single statement that
    is atomic on its own. Call before the first query; False (nothing changed) when the
    session is already in a transaction. The transaction mode comes back at end_autocommit,
    or at the end of the request."""
    session = db.session()
    if session.in_transaction():
        return False
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    g.autocommit = True
    return True


def end_autocommit(_exc: BaseException | None = None) -> None:
    """Give the autocommit connection back, so later work in this session is transactional."""
    if g.pop("autocommit", False):
        db.session.rollback()


@contextmanager
def driver_connection() -> Iterator:
    """A pooled connection whose driver (psycopg) connection is in autocommit for the block,
    handed back to the pool in transaction mode.

    For the hottest paths (the callback's store, the mini program's pages), where the
    Session and Core cost more CPU than PostgreSQL spends on the statement. Driver errors
    come out as SQLAlchemy's DBAPIError, as they would through the Session (a callback then
    answers 503). When the server went away the whole pool is dropped, as SQLAlchemy does,
    so a database restart fails one request, not one per pooled connection.
    """
    engine = db.engine
    error = engine.dialect.loaded_dbapi.Error
    pooled = None
    try:
        pooled = engine.raw_connection()
        pooled.driver_connection.autocommit = True
        yield pooled
    except error as exc:
        driver = pooled.driver_connection if pooled is not None else None
        if driver is not None and (driver.broken or driver.closed):
            pooled.invalidate(exc)
            engine.dispose(close=False)
        raise DBAPIError.instance(None, None, exc, error) from exc
    finally:
        if pooled is not None:
            _hand_back(pooled)


def _hand_back(pooled) -> None:
    driver = pooled.driver_connection
    if driver is not None and not driver.closed:  # the pool's next user expects transactions
        driver.autocommit = False
    pooled.close()


def in_transaction() -> bool:
    """Whether this context's Session has a transaction open; never creates a Session (the
    callback's hot path stores its row on the driver connection and may not need one)."""
    return db.session.registry.has() and db.session().in_transaction()


def commit() -> None:
    """Commit this context's transaction, if it opened one."""
    if in_transaction():
        db.session.commit()


def init_app(app) -> None:
    app.teardown_request(end_autocommit)
