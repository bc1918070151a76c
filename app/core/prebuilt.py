"""Prebuilt statements run on the driver's connection: the mini program's hot pages and the
referral stage event.

The project page and its feed are what homeowners open most. Built once at import, their
statements still cost SQLAlchemy's Core execute and result machinery more CPU per request
than PostgreSQL spends running them. On PostgreSQL a `Prebuilt` is compiled once and runs on
the psycopg connection of a pooled connection in autocommit (no BEGIN, no ROLLBACK, no
Session), with the column types' own result processors applied, so rows carry the same
values as through SQLAlchemy. Other databases (SQLite in development and tests) go through
the Session's Core execute as before.

A `Statement` (plain SQL with typed binds) does the same for writes inside the Session's
own transaction: the referral's stage event runs a dozen of them per event, each costing
SQLAlchemy three times what psycopg spends (see `run`).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Select, text
from sqlalchemy.exc import DBAPIError

from app.core.database import begin_autocommit, driver_connection, driver_error
from app.core.extensions import db


def _impl(type_, dialect):
    """The type as this dialect runs it (JSON → JSONB on PostgreSQL), as SQLAlchemy does."""
    return type_.dialect_impl(dialect)


class _Compiled:
    """A statement compiled once for PostgreSQL, with its binds' type processors."""

    def __init__(self, statement) -> None:
        self.statement = statement
        self._compiled = None  # (compiled, bind processors) for the PostgreSQL dialect

    def _compile(self, dialect):
        if self._compiled is None:
            compiled = self.statement.compile(dialect=dialect)
            binds = {
                n: _impl(b.type, dialect).bind_processor(dialect) for n, b in compiled.binds.items()
            }
            self._compiled = compiled, {name: p for name, p in binds.items() if p}
        return self._compiled

    def bound(self, dialect, values: dict) -> tuple[str, dict]:
        """(SQL, parameters) for psycopg: the statement's own literals filled in, types bound.
        An expanding IN (`bindparam(..., expanding=True)`) gets one placeholder a value."""
        compiled, processors = self._compile(dialect)
        if "POSTCOMPILE" in compiled.string:
            expanded = compiled.construct_expanded_state(values)
            params = dict(expanded.parameters)
            for name, process in expanded.processors.items():
                if name in params:
                    params[name] = process(params[name])
            return expanded.statement, params
        params = compiled.construct_params(values)
        for name, process in processors.items():
            params[name] = process(params[name])
        return compiled.string, params


class Prebuilt(_Compiled):
    """A SELECT and how to run it on psycopg: SQL text, bind and result processors."""

    def __init__(self, statement: Select) -> None:
        super().__init__(statement)
        self.row = namedtuple("Row", [column.key for column in statement.selected_columns])
        self._processors = None  # [(index, processor)] from the first result's column types

    def rows(self, dialect, cursor: psycopg.Cursor) -> list:
        """The cursor's rows as named tuples, each value as SQLAlchemy's types return it."""
        if self._processors is None:
            columns = zip(self.statement.selected_columns, cursor.description, strict=True)
            processors = [
                _impl(c.type, dialect).result_processor(dialect, d.type_code) for c, d in columns
            ]
            self._processors = [(i, p) for i, p in enumerate(processors) if p]
        make = self.row._make
        if not self._processors:
            return [make(row) for row in cursor.fetchall()]
        return [make(self._process(list(row))) for row in cursor.fetchall()]

    def _process(self, values: list) -> list:
        for index, process in self._processors:
            values[index] = process(values[index])
        return values


class Reader:
    """Runs Prebuilt statements on one connection for the length of a `reading()` block."""

    def __init__(self, dialect, driver: psycopg.Connection | None) -> None:
        self.dialect, self.driver = dialect, driver

    def all(self, prebuilt: Prebuilt, values: dict) -> list:
        if self.driver is None:  # not PostgreSQL: SQLAlchemy's own execute
            return db.session.connection().execute(prebuilt.statement, values).all()
        sql, params = prebuilt.bound(self.dialect, values)
        return prebuilt.rows(self.dialect, self.driver.execute(sql, params))

    def together(self, *reads: tuple[Prebuilt, dict]) -> list[list]:
        """The rows of each (statement, values), sent in one round trip on PostgreSQL
        (psycopg's pipeline mode): a page's reads then cost one network wait, not several."""
        if self.driver is None:
            return [self.all(prebuilt, values) for prebuilt, values in reads]
        with self.driver.pipeline():
            cursors = [self.driver.execute(*p.bound(self.dialect, v)) for p, v in reads]
        return [p.rows(self.dialect, c) for (p, _), c in zip(reads, cursors, strict=True)]

    def first(self, prebuilt: Prebuilt, values: dict):
        rows = self.all(prebuilt, values)
        return rows[0] if rows else None


@contextmanager
def reading() -> Iterator[Reader]:
    """A Reader outside a transaction: on PostgreSQL a pooled connection of its own, in
    autocommit for the block (database.driver_connection)."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        begin_autocommit()
        yield Reader(engine.dialect, None)
        return
    with driver_connection() as pooled:
        yield Reader(engine.dialect, pooled.driver_connection)


class Statement(_Compiled):
    """A statement built once: plain SQL with typed binds (`bindparam(name, type_=…)` where
    a type matters), or a Core statement. `lock` (e.g. "FOR UPDATE OF r") is added to plain
    SQL on PostgreSQL only: SQLite has one writer and no such clause."""

    def __init__(self, sql, *binds, lock: str = "") -> None:
        if not isinstance(sql, str):  # a Core statement, or text() already bound
            super().__init__(sql)
            self.plain = sql
            return
        super().__init__(text(f"{sql} {lock}" if lock else sql).bindparams(*binds))
        self.plain = text(sql).bindparams(*binds)


def execute(statement: Statement, values: dict, *, first: list | tuple = ()) -> list | None:
    """Run `statement` in the Session's transaction (begun if none is open): its rows as
    tuples, or None for a statement that returns none. On PostgreSQL on that transaction's
    own psycopg connection, through a cursor kept with it (making one costs a third of
    running the statement), rows as psycopg returns them (no result processors: read ids,
    counts, text). Elsewhere through SQLAlchemy's Core execute. A driver error comes out as
    SQLAlchemy's (IntegrityError…), as through the Session. `first`: (statement, values)
    pairs whose rows nobody reads, run before it in the same round trip."""
    if first:
        return execute_together(*first, (statement, values))[-1]
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        return _rows(conn.execute(statement.plain, values))
    pooled = conn.connection
    driver = pooled.driver_connection
    cursor = pooled.info.get("tx_cursor")
    if cursor is None or cursor.closed or cursor.connection is not driver:
        cursor = pooled.info["tx_cursor"] = driver.cursor()
    try:
        cursor.execute(*statement.bound(conn.dialect, values))
        return _fetched(cursor)
    except psycopg.Error as exc:
        raise _driver_error(conn, exc) from exc


def execute_together(*runs: tuple[Statement, dict]) -> list[list | None]:
    """`execute` of each (statement, values), in order, sent in one round trip on
    PostgreSQL (psycopg's pipeline mode: entering it costs about one statement's CPU, so
    for two statements or more)."""
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        return [_rows(conn.execute(s.plain, values)) for s, values in runs]
    driver = conn.connection.driver_connection
    try:
        with driver.pipeline():
            cursors = [driver.execute(*s.bound(conn.dialect, values)) for s, values in runs]
        return [_fetched(c) for c in cursors]
    except psycopg.Error as exc:
        raise _driver_error(conn, exc) from exc


def _fetched(cursor: psycopg.Cursor) -> list | None:
    """The cursor's rows, None for a statement without (asking `description` would build
    its column objects, a tenth of the statement's CPU)."""
    return cursor.fetchall() if cursor.pgresult.status == _ROWS else None


_ROWS = psycopg.pq.ExecStatus.TUPLES_OK


def _driver_error(conn, exc: psycopg.Error) -> DBAPIError:
    """psycopg's error on the Session's connection `conn` as SQLAlchemy's (database.driver_error)."""
    return driver_error(exc, conn.connection.driver_connection, conn.invalidate)


def _rows(result) -> list | None:
    return result.all() if result.returns_rows else None
