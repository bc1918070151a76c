"""Work done once per customer for a whole batch, instead of once per item of the batch.

A batch job (the enrichment of 100 events) fires hooks per event, and some of them redo
the same work for a customer every time (its value assessed from its tags, projects and
messages: several queries). Inside `scope()`, `call(func, customer_id)` only notes the
customer; `run()` then calls `func(customer_ids)` once with every customer noted. Outside a
scope, `call` runs `func([customer_id])` at once: a single request keeps today's timing.

`func` reads the database as it is when it runs, so doing it once at the end gives what
the last of the per-item calls would have given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from app.core.extensions import db

Batched = Callable[[list[int]], object]
_noted: ContextVar[dict[Batched, dict[int, None]] | None] = ContextVar("deferred", default=None)


@contextmanager
def scope() -> Iterator[None]:
    """Note `call`s instead of running them, until `run()`; what is left unrun at the end
    of the scope is dropped (the caller's batch failed and rolls back anyway)."""
    token = _noted.set({})
    try:
        yield
    finally:
        _noted.reset(token)


def call(func: Batched, customer_id: int) -> None:
    """`func([customer_id])` now, or once for all noted customers at `run()` in a scope."""
    noted = _noted.get()
    if noted is None:
        func([customer_id])
    else:
        noted.setdefault(func, {})[customer_id] = None


def run(fatal: tuple[type[BaseException], ...] = ()) -> dict[int, Exception]:
    """Run the noted work, each function once for all its customers, in a savepoint. If it
    raises, it runs again customer by customer, each in a savepoint, so one customer's
    fault rolls back only that customer's work. {customer id: exception} of the customers
    whose work failed; an exception of a `fatal` type propagates."""
    noted = _noted.get() or {}
    failed: dict[int, Exception] = {}
    while noted:
        func, ids = noted.popitem()
        try:
            with db.session.begin_nested():
                func(list(ids))
        except fatal:
            raise
        except Exception:  # noqa: BLE001 - found again below, customer by customer
            failed.update(_one_by_one(func, list(ids), fatal))
    return failed


def _one_by_one(func: Batched, ids: list[int], fatal) -> dict[int, Exception]:
    failed = {}
    for customer_id in ids:
        try:
            with db.session.begin_nested():
                func([customer_id])
        except fatal:
            raise
        except Exception as exc:  # noqa: BLE001 - this customer's fault, reported
            failed[customer_id] = exc
    return failed
