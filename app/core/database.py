"""Database helpers shared by every domain: autocommit reads, the driver connection for the
hottest paths, commit-if-open, insert-once (a unique key turns a retry into the stored row),
and load_row, the one get-or-NotFound with a scope (every "load X for this person" uses it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import g
from sqlalchemy import bindparam, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from app.core.errors import NotFound
from app.core.extensions import db

# Our ids are INTEGER columns: a larger id in a URL or body is simply not a row we have,
# and handing it to PostgreSQL would fail with "integer out of range" (a 500).
MAX_ID = 2**31 - 1


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
        if pooled is None:
            raise DBAPIError.instance(None, None, exc, error) from exc
        raise driver_error(exc, pooled.driver_connection, pooled.invalidate) from exc
    finally:
        if pooled is not None:
            _hand_back(pooled)


def driver_error(exc: Exception, driver, invalidate, engine=None) -> DBAPIError:
    """The driver's error `exc` as SQLAlchemy's DBAPIError (no parameters: they may be
    personal data), as it would come through the Session. When the server dropped the
    connection (`driver` broken, closed or gone), `invalidate(exc)` marks it and the whole
    pool is dropped, as SQLAlchemy does, so a database restart fails one request or job,
    not one per pooled connection; the error then says so (connection_invalidated, which
    the enrichment job reads). `engine`: the connection's, given by a caller outside an
    application context (a thread of its own), where db.engine cannot be asked."""
    engine = engine if engine is not None else db.engine
    gone = driver is None or driver.broken or driver.closed
    if gone:
        invalidate(exc)
        engine.dispose(close=False)
    error = engine.dialect.loaded_dbapi.Error
    return DBAPIError.instance(None, None, exc, error, connection_invalidated=gone)


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


def insert_once(*rows) -> bool:
    """Add `rows` inside a savepoint and flush: True when stored, False when a unique key
    says a twin is already there (a retry, or a concurrent request that won). Only the
    savepoint rolls back; the caller then loads the stored row by that key."""
    try:
        with db.session.begin_nested():
            db.session.add_all(rows)
    except IntegrityError:
        return False
    return True


def insert_statement(table, columns: tuple[str, ...], suffix: str = " RETURNING id"):
    """`INSERT … RETURNING id` as plain SQL, built once (the same on PostgreSQL and SQLite
    ≥ 3.35), each value bound with its column's type. No Python-side defaults: give every
    column."""
    names, values = ", ".join(columns), ", ".join(":" + c for c in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({values}){suffix}"
    return text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))


def insert_new_statement(table, columns: tuple[str, ...], key: tuple[str, ...]):
    """`INSERT … ON CONFLICT (key) DO NOTHING RETURNING id` (as insert_statement): executed,
    it returns the new id, or no row when a twin holds the key; one round trip where
    insert_once takes three (savepoint, INSERT, release). Built once: SQLAlchemy's dialect
    upserts are recompiled on every call."""
    return insert_statement(
        table, columns, f" ON CONFLICT ({', '.join(key)}) DO NOTHING RETURNING id"
    )


def as_loaded(model, values: dict):
    """The `model` row a Core INSERT just wrote (`values`, its id among them), handed to the
    session as if it had been loaded: no SELECT, no flush. Give every column, or reading
    a missing one asks the database.

    The database just gave this id to a new row, so a copy the session still holds under
    it is a row a rolled-back savepoint took away (SQLite hands its rowid out again): that
    copy goes."""
    stale = db.session.identity_map.get(
        inspect(model).identity_key_from_primary_key((values["id"],))
    )
    if stale is not None:
        db.session.expunge(stale)
    row = model(**values)
    make_transient_to_detached(row)
    db.session.add(row)
    return row


def expire_loaded(model, key) -> None:
    """After a Core statement wrote the `model` row with primary key `key`: the session's
    copy, if it holds one, is expired so its next read sees the write."""
    row = db.session.identity_map.get(inspect(model).identity_key_from_primary_key((key,)))
    if row is not None:
        db.session.expire(row)


def load_row(model, row_id: int, *scope, missing: str = "资源不存在"):
    """The `model` row with this id that also meets every `scope` clause (who may see it,
    whose it is), else NotFound(`missing`): a row someone may not see is answered exactly
    like a row that does not exist. Ids outside 1..MAX_ID are NotFound without a query."""
    if not 0 < row_id <= MAX_ID:
        raise NotFound(missing)
    if scope:
        row = db.session.scalars(select(model).where(model.id == row_id, *scope)).first()
    else:
        row = db.session.get(model, row_id)
    if row is None:
        raise NotFound(missing)
    return row


def init_app(app) -> None:
    app.teardown_request(end_autocommit)
