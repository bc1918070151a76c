"""Batched hand-off (queue.enqueue_batched): a Redis list per job name, drained by one job.

Items do not go to Redis from the request that made them: each process keeps them for at
most FLUSH_INTERVAL and a background thread sends them with one RPUSH per list. A callback
then makes one round trip (the database) instead of two; on a two-core server a blocking
round trip costs far more CPU than the command itself (context switches, the GIL handed
back and forth). Items still in memory when a process dies are lost to the list, not to the
product: their rows keep their "not done yet" mark and the sweep queues them (see kick).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from flask import current_app
from rq import Queue

log = logging.getLogger(__name__)
BATCH = 100
FLUSH_INTERVAL = 0.05  # seconds an item may wait in memory before its RPUSH


def list_key(path: str) -> str:
    return f"zxcrm:batch:{path}"


def push(redis, path: str, item: int, queue: str) -> None:
    """Add `item` for the job `path`: held in this process for at most FLUSH_INTERVAL, then
    pushed (flush)."""
    _buffer.add((redis, path, queue), item)


def flush() -> None:
    """Push every held item now; the push that finds a list empty wakes a drain."""
    for (redis, path, queue), items in _buffer.take().items():
        try:
            if redis.rpush(list_key(path), *items) == len(items):
                wake(redis, path, queue)
        except Exception as exc:  # noqa: BLE001 - rows keep their mark; the sweep queues them
            # A warning without the traceback: while Redis is down this repeats every flush.
            log.warning(
                "batched hand-off failed; the sweep will queue these",
                extra={"path": path, "items": len(items), "error": repr(exc)},
            )


class _Buffer:
    """Items waiting for their RPUSH, per process, and the thread that flushes them."""

    def __init__(self) -> None:
        self._reset()
        # The flusher thread belongs to the process that started it: a forked child (a
        # gunicorn worker) starts its own, and does not inherit the parent's items.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[tuple, list[int]] = {}
        self.due = threading.Event()
        self.flusher: threading.Thread | None = None

    def add(self, key: tuple, item: int) -> None:
        with self.lock:
            self.items.setdefault(key, []).append(item)
            if self.flusher is None:
                self.flusher = threading.Thread(target=self._run, name="batch-flush", daemon=True)
                self.flusher.start()
        if not self.due.is_set():  # set() takes a lock and wakes waiters every time
            self.due.set()

    def take(self) -> dict[tuple, list[int]]:
        with self.lock:
            taken, self.items = self.items, {}
            self.due.clear()
        return taken

    def _run(self) -> None:
        while True:
            self.due.wait()
            time.sleep(FLUSH_INTERVAL)  # let the items of the next moments join
            try:
                flush()
            except Exception:  # noqa: BLE001 - the flusher must outlive any one failure
                log.exception("batched hand-off flusher failed")


_buffer = _Buffer()
atexit.register(flush)  # a worker that stops cleanly hands over what it holds


DRAIN = "jobs.batch:drain"


def wake(redis, path: str, queue: str) -> None:
    """Enqueue a drain job for `path`'s list on `queue`."""
    Queue(queue, connection=redis).enqueue_call(
        DRAIN.replace(":", "."), args=(path,), result_ttl=600, failure_ttl=7 * 86400
    )


def kick(path: str, queue: str) -> bool:
    """Wake a drain if items are waiting (a sweep calls this: a wake-up lost to a Redis
    error between the push and the enqueue would otherwise leave the list stuck)."""
    redis = current_app.extensions.get("redis")
    if redis is None or not redis.llen(list_key(path)):
        return False
    wake(redis, path, queue)
    return True


def take(redis, path: str, until: float | None = None):
    """Items of `path`'s list, BATCH at a time, until it is empty or, after a batch,
    time.monotonic() is past `until` (a drain job's time budget; the rest stays listed)."""
    while items := redis.lpop(list_key(path), BATCH):
        yield [int(item) for item in items]
        if until is not None and time.monotonic() > until:
            return


def pending(redis, path: str) -> int:
    """Items waiting on `path`'s list."""
    return redis.llen(list_key(path))
