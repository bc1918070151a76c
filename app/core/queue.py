"""Background jobs, enqueued by name: `enqueue("jobs.notices:send_notices", ids, queue=…)`.

With REDIS_URL set, jobs go to RQ queues named by purpose; without it (development) they
run in-process. Either way a job is handed over only after the surrounding database
transaction commits, so a worker never wakes up before the rows it needs exist, and a
rolled-back request enqueues nothing.

A job is named "module:function" (the function a `jobs.base.job`), never imported here: the
services that enqueue sit below `jobs/` and must not import it (the import-linter contract
in setup.cfg). The worker (`flask worker`) supplies the app context jobs run in.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from rq import Queue, Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.database import in_transaction
from app.core.extensions import db

log = logging.getLogger(__name__)

QUEUES = ("webhooks", "outbound", "default", "periodic")
TIMEOUTS = {"webhooks": 60, "outbound": 120, "default": 300, "periodic": 1800}
PENDING_KEY = "zxcrm_pending_jobs"


@dataclass
class PendingJob:
    path: str
    args: tuple
    queue: str
    job_id: str | None
    retry: int | Retry | None
    timeout: int
    app: Any = field(repr=False, default=None)
    batched: bool = False


def resolve(path: str) -> Callable:
    """The function a "module:function" job name stands for."""
    module, _, name = path.partition(":")
    if not module or not name:
        raise ValueError(f"job names are 'module:function', not {path!r}")
    return getattr(importlib.import_module(module), name)


def rq_name(path: str) -> str:
    """RQ's own spelling of a job name: "module.function"."""
    return path.replace(":", ".")


def enqueue(
    path: str,
    *args: Any,
    queue: str = "default",
    job_id: str | None = None,
    retry: int | Retry | None = None,
    timeout: int | None = None,
) -> None:
    """Run the job `path` ("module:function") with `args` once the current transaction
    commits. Args must be plain values (ids, not model objects). ValueError for an unknown
    queue or a malformed name."""
    _check(path, queue)
    app = current_app._get_current_object()
    _hand_over(PendingJob(path, args, queue, job_id, retry, timeout or TIMEOUTS[queue], app))


def enqueue_batched(path: str, item: int, *, queue: str = "default") -> None:
    """Run `path([item, …])` in the background, batching items that arrive meanwhile.

    For the busiest hand-off (every callback is enriched): one RPUSH per item instead of
    one RQ job (a dozen Redis commands). The push that finds the list empty also enqueues
    a drain job (jobs.batch:drain), which takes items off until the list is empty. Like
    `enqueue`, items are handed over after the commit. A drain that dies mid-batch loses the
    items it took: callers keep their own "not done yet" mark and a sweep (batch.kick).
    """
    _check(path, queue)
    app = current_app._get_current_object()
    _hand_over(
        PendingJob(path, (int(item),), queue, None, None, TIMEOUTS[queue], app, batched=True)
    )


def _check(path: str, queue: str) -> None:
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; use one of {QUEUES}")
    if ":" not in path:
        raise ValueError(f"job names are 'module:function', not {path!r}")


def _hand_over(pending: PendingJob) -> None:
    """Dispatch after the outermost commit, or now when no transaction is open."""
    if in_transaction():
        db.session().info.setdefault(PENDING_KEY, []).append(pending)
    else:
        _dispatch(pending)


def _dispatch(pending: PendingJob) -> None:
    redis = pending.app.extensions.get("redis")
    if redis is None:
        _run_in_process(pending)
        return
    try:
        if pending.batched:
            from app.core import batch

            batch.push(redis, pending.path, pending.args[0], pending.queue)
        else:
            _rq_enqueue(redis, pending)
    except Exception:  # noqa: BLE001 - the data is committed; sweeps re-enqueue what was lost
        log.exception("enqueue failed", extra={"job": pending.path, "queue": pending.queue})


def _rq_enqueue(redis, pending: PendingJob) -> None:
    retry = (
        Retry(max=pending.retry, interval=[10, 60, 300])
        if isinstance(pending.retry, int)
        else pending.retry
    )
    Queue(pending.queue, connection=redis).enqueue_call(
        rq_name(pending.path),
        args=pending.args,
        job_id=pending.job_id,
        retry=retry,
        timeout=pending.timeout,
        result_ttl=3600,
        failure_ttl=7 * 86400,
    )


def _run_in_process(pending: PendingJob) -> None:
    """Development mode: run now, in a fresh app context (so a fresh DB session)."""
    with pending.app.app_context():
        try:
            func = resolve(pending.path)
            func(list(pending.args)) if pending.batched else func(*pending.args)
        except Exception:  # noqa: BLE001 - a failed job must not fail the request that queued it
            log.exception("in-process job failed", extra={"job": pending.path})


# SQLAlchemy fires after_commit / after_rollback for savepoints too (begin_nested); jobs
# wait for the outermost transaction, or a worker could run before its rows are committed.
@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for pending in session.info.pop(PENDING_KEY, []):
        _dispatch(pending)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(PENDING_KEY, None)
