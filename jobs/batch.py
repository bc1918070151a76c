"""Batched hand-off (jobs.enqueue_batched): a Redis list per function, drained by one job."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from flask import current_app
from rq import Queue, get_current_job

from jobs.base import job

log = logging.getLogger(__name__)
BATCH = 100


def path_of(func: Callable) -> str:
    return f"{func.__module__}:{func.__name__}"


def list_key(path: str) -> str:
    return f"zxcrm:batch:{path}"


def push(redis, func: Callable, item: int, queue: str) -> None:
    """Add `item`; the push that finds the list empty wakes a drain."""
    path = path_of(func)
    if redis.rpush(list_key(path), item) == 1:
        _wake(redis, path, queue)


def _wake(redis, path: str, queue: str) -> None:
    Queue(queue, connection=redis).enqueue_call(drain, args=(path,), result_ttl=600,
                                                failure_ttl=7 * 86400)  # fmt: skip


def kick(func: Callable, queue: str) -> bool:
    """Wake a drain if items are waiting (a sweep calls this: a wake-up lost to a Redis
    error between the push and the enqueue would otherwise leave the list stuck)."""
    redis = current_app.extensions.get("redis")
    path = path_of(func)
    if redis is None or not redis.llen(list_key(path)):
        return False
    _wake(redis, path, queue)
    return True


@job
def drain(path: str) -> int:
    """Take items off `path`'s list, BATCH at a time, until it is empty; items taken."""
    module, _, name = path.partition(":")
    func = getattr(importlib.import_module(module), name)
    current = get_current_job()  # the list lives in the Redis this job came from
    redis = current.connection if current else current_app.extensions["redis"]
    taken = 0
    while items := redis.lpop(list_key(path), BATCH):
        taken += len(items)
        func([int(item) for item in items])
    return taken
