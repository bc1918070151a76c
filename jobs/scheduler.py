"""The one scheduler process: turns SCHEDULE into enqueued jobs.

Several `flask scheduler` processes may be started (a deploy overlap, an operator's
mistake); a Redis lock makes exactly one of them the leader and the others idle, taking
over within LOCK_TTL seconds if the leader dies.
"""

from __future__ import annotations

import logging
import threading
import uuid

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from app.core.queue import enqueue
from jobs.schedule import SCHEDULE

log = logging.getLogger(__name__)
LOCK_KEY = "zxcrm:scheduler:leader"
LOCK_TTL = 30
RENEW_EVERY = 10


def _fire(app: Flask, entry: dict) -> None:
    with app.app_context():
        enqueue(entry["func"], queue=entry.get("queue", "periodic"))


def build_scheduler(app: Flask, schedule: list[dict] | None = None) -> BackgroundScheduler:
    sched = BackgroundScheduler(timezone=app.config["TIMEZONE"])
    for entry in SCHEDULE if schedule is None else schedule:
        trigger_args = {
            k: v for k, v in entry.items() if k not in ("id", "func", "queue", "trigger")
        }
        sched.add_job(
            _fire,
            entry["trigger"],
            args=(app, entry),
            id=entry["id"],
            coalesce=True,  # a backlog after downtime runs once, not once per missed tick
            misfire_grace_time=3600,
            max_instances=1,
            **trigger_args,
        )
    return sched


class LeaderLock:
    """A renewable Redis lock held by one scheduler process at a time."""

    def __init__(self, redis, key: str = LOCK_KEY, ttl: int = LOCK_TTL):
        self.redis, self.key, self.ttl = redis, key, ttl
        self.token = uuid.uuid4().hex

    def acquire_or_renew(self) -> bool:
        if self.redis is None:
            return True  # development: no Redis, a single process by definition
        if self.redis.set(self.key, self.token, nx=True, ex=self.ttl):
            return True
        if (self.redis.get(self.key) or b"").decode() == self.token:
            self.redis.expire(self.key, self.ttl)
            return True
        return False

    def release(self) -> None:
        if self.redis is not None and (self.redis.get(self.key) or b"").decode() == self.token:
            self.redis.delete(self.key)


def run(
    app: Flask, stop: threading.Event | None = None, schedule: list[dict] | None = None
) -> None:
    """Block: lead when the lock is ours, idle otherwise, until `stop` is set."""
    stop = stop or threading.Event()
    lock = LeaderLock(app.extensions.get("redis"))
    sched = build_scheduler(app, schedule)
    try:
        while not stop.is_set():
            leading = lock.acquire_or_renew()
            if leading and not sched.running:
                log.info("scheduler is the leader; starting", extra={"jobs": len(sched.get_jobs())})
                sched.start()
            elif not leading and sched.running:
                log.warning("scheduler lost the leader lock; pausing")
                sched.shutdown(wait=False)
                sched = build_scheduler(app, schedule)
            elif not leading:
                log.info("another scheduler leads; idling")
            stop.wait(RENEW_EVERY)
    finally:
        if sched.running:
            sched.shutdown(wait=False)
        lock.release()
