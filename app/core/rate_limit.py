"""Attempt limits, the one limiter of the app: a moving window per key (the `limits` library),
counted in Redis when REDIS_URL is set (every process shares one count) and in this process
otherwise.

    if not rate_limit.allow("invite-bind", f"customer:{customer_id}", "10/hour"):
        raise RateLimited(...)

Failures only (sign-in): `over` asks without counting, `count` counts one, `clear` forgets.
A limit is written in the `limits` notation: "10/hour", "5/15minute", "3/second;20/hour".

When Redis does not answer (down, unreachable, an error) the attempt is counted in this
process instead, and Redis is left alone for REDIS_RETRY_SECONDS: a limit keeps limiting
through an outage (it neither opens sign-in to guessing nor answers 500), each process
counting on its own until Redis is back.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache

from flask import current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)
REDIS_RETRY_SECONDS = 30
KEY_PREFIX = "zxcrm"


@lru_cache(maxsize=64)
def _items(limit: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limit))


class Limiter:
    """The shared (Redis) and local (this process) counters of one app."""

    def __init__(self, redis) -> None:
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.shared = None
        if redis is not None:
            storage = RedisStorage(
                "redis://", connection_pool=redis.connection_pool, key_prefix=KEY_PREFIX
            )
            self.shared = MovingWindowRateLimiter(storage)
        self.skip_redis_until = 0.0
        self.lock = threading.Lock()

    def run(self, method: str, *args):
        """limiter.method(*args) in Redis, or here when Redis fails (or failed lately)."""
        if self.shared is not None and time.monotonic() >= self.skip_redis_until:
            try:
                return getattr(self.shared, method)(*args)
            except Exception as exc:  # noqa: BLE001 - any storage failure: count here
                log.warning("rate limit: Redis failed, counting in-process: %r", exc)
                with self.lock:
                    self.skip_redis_until = time.monotonic() + REDIS_RETRY_SECONDS
        return getattr(self.local, method)(*args)


def _limiter() -> Limiter:
    found = current_app.extensions.get("rate_limiter")
    if found is None:
        found = Limiter(current_app.extensions.get("redis"))
        current_app.extensions["rate_limiter"] = found
    return found


def allow(scope: str, key: str, limit: str) -> bool:
    """Count one attempt of `key` in `scope`; False when it is over `limit` (not counted then)."""
    limiter = _limiter()
    return all(limiter.run("hit", item, scope, key) for item in _items(limit))


def over(scope: str, key: str, limit: str) -> bool:
    """True when `key` has no attempt left under `limit` (nothing counted)."""
    limiter = _limiter()
    return not all(limiter.run("test", item, scope, key) for item in _items(limit))


def count(scope: str, key: str, limit: str) -> None:
    """Count one attempt (a failure) of `key`."""
    limiter = _limiter()
    for item in _items(limit):
        limiter.run("hit", item, scope, key)


def clear(scope: str, key: str, limit: str) -> None:
    """Forget `key`'s attempts (a successful sign-in clears its account's failures)."""
    limiter = _limiter()
    for item in _items(limit):
        limiter.run("clear", item, scope, key)


def retry_after(scope: str, key: str, limit: str) -> int:
    """Seconds until `key` may try again under `limit` (0 when it may now)."""
    limiter, now, wait = _limiter(), time.time(), 0
    for item in _items(limit):
        if not limiter.run("test", item, scope, key):
            reset_at, _ = limiter.run("get_window_stats", item, scope, key)
            wait = max(wait, int(reset_at - now) + 1)
    return wait


def forget(app) -> None:
    """Drop this app's in-process counts (tests)."""
    app.extensions.pop("rate_limiter", None)
