"""Prebuilt read statements run on the driver's connection: the mini program's hot pages.

The project page and its feed are what homeowners open most. Built once at import, their
statements still cost SQLAlchemy's Core execute and result machinery more CPU per request
than PostgreSQL spends running them. On PostgreSQL a `Prebuilt` is compiled once and runs on
the psycopg connection of a pooled connection in autocommit (no BEGIN, no ROLLBACK, no
Session), with the column types' own result processors applied, so rows carry the same
values as through SQLAlchemy. Other databases (SQLite in development and tests) go through
the Session's Core execute as before.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Select

from app.core.database import begin_autocommit, driver_connection
from app.core.extensions import db


def _impl(type_, dialect):
    """The type as this dialect runs it (JSON → JSONB on PostgreSQL), as SQLAlchemy does."""
    return type_.dialect_impl(dialect)


class Prebuilt:
    """A SELECT and how to run it on psycopg: SQL text, bind and result processors."""

    def __init__(self, statement: Select) -> None:
        self.statement = statement
        self.row = namedtuple("Row", [column.key for column in statement.selected_columns])
        self._compiled = None  # (compiled, bind processors) for the PostgreSQL dialect
        self._processors = None  # [(index, processor)] from the first result's column types

    def _compile(self, dialect):
        if self._compiled is None:
            compiled = self.statement.compile(dialect=dialect)
            binds = {
                n: _impl(b.type, dialect).bind_processor(dialect) for n, b in compiled.binds.items()
            }
            self._compiled = compiled, {name: p for name, p in binds.items() if p}
        return self._compiled

    def bound(self, dialect, values: dict) -> tuple[str, dict]:
        """(SQL, parameters) for psycopg: the statement's own literals filled in, types bound."""
        compiled, processors = self._compile(dialect)
        params = compiled.construct_params(values)
        for name, process in processors.items():
            params[name] = process(params[name])
        return compiled.string, params

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
