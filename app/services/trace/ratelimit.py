"""The scan page's rate limit: at most TRACE_SCAN_LIMIT openings per client per
TRACE_SCAN_WINDOW seconds, so codes cannot be enumerated (issue 13).

Counted in Redis when REDIS_URL is set (every web process shares the count: one command, a
script that increments the window's key and gives a new key its expiry), in this process
otherwise. A fixed window: a client may reach twice the limit across a window's edge, which
still caps guessing at a few thousand tries an hour against 2**84 codes. When Redis fails the request is counted in-process instead, so an
outage neither opens the page to enumeration nor closes it to homeowners.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

from flask import current_app
from redis.exceptions import NoScriptError, RedisError

from app.core.errors import RateLimited
from app.core.redis_client import get_redis

log = logging.getLogger(__name__)
MESSAGE = "查询过于频繁，请稍后再试"
_lock = threading.Lock()
_counts: dict[str, int] = {}  # "key:window" -> openings; this process only
_PRUNE_AT = 10_000
# One round trip, one reply, atomic: the count, with the key's expiry set at its first count.
COUNT_SCRIPT = """local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n"""
COUNT_SHA = hashlib.sha1(COUNT_SCRIPT.encode()).hexdigest()


def _local(key: str, ttl: int) -> int:
    with _lock:
        if len(_counts) > _PRUNE_AT:  # old windows: drop all but the current one
            current = f":{int(time.time()) // ttl}"
            for name in [k for k in _counts if not k.endswith(current)]:
                del _counts[name]
        _counts[key] = _counts.get(key, 0) + 1
        return _counts[key]


def _redis(redis, key: str, ttl: int) -> int | None:
    try:
        try:
            return redis.evalsha(COUNT_SHA, 1, key, ttl)
        except NoScriptError:  # a restarted Redis forgot it: EVAL runs and keeps it
            return redis.eval(COUNT_SCRIPT, 1, key, ttl)
    except RedisError as exc:
        log.warning("scan rate limit: Redis failed, counting in-process: %r", exc)
        return None


def hit(client_key: str) -> None:
    """Count one opening by this client; RateLimited once over the limit."""
    limit = current_app.config["TRACE_SCAN_LIMIT"]
    if limit <= 0:  # 0 turns the limit off
        return
    ttl = max(current_app.config["TRACE_SCAN_WINDOW"], 1)
    key = f"trace:rl:{client_key}:{int(time.time()) // ttl}"
    redis = get_redis()
    count = _redis(redis, key, ttl + 1) if redis is not None else None
    if count is None:
        count = _local(key, ttl)
    if count > limit:
        raise RateLimited(MESSAGE)


def forget() -> None:
    """Drop this process's counts (tests)."""
    with _lock:
        _counts.clear()
