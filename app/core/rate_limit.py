"""Attempt limits: a moving window per key (the `limits` library), counted in Redis when
REDIS_URL is set, so every process shares one count, and in this process without it.

    if not rate_limit.allow("invite-bind", f"customer:{customer_id}", "10/hour"):
        raise RateLimited(...)

A limit is written in the `limits` notation: "10/hour", "5 per minute", "3/second;20/hour".
When Redis does not answer the attempt is allowed (and logged): an outage of the counter
must not lock every homeowner out.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from flask import current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


@lru_cache(maxsize=64)
def _items(limit: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limit))


def _limiter() -> MovingWindowRateLimiter:
    limiter = current_app.extensions.get("rate_limiter")
    if limiter is None:
        redis = current_app.extensions.get("redis")
        storage = (
            RedisStorage("redis://", connection_pool=redis.connection_pool, key_prefix="zxcrm")
            if redis is not None
            else MemoryStorage()
        )
        limiter = current_app.extensions["rate_limiter"] = MovingWindowRateLimiter(storage)
    return limiter


def allow(scope: str, key: str, limit: str) -> bool:
    """Count one attempt of `key` in `scope`; False when it is over `limit` (not counted then)."""
    try:
        limiter = _limiter()
        return all(limiter.hit(item, scope, key) for item in _items(limit))
    except RedisError as exc:
        log.warning("rate limit not counted: Redis failed", extra={"error": type(exc).__name__})
        return True
