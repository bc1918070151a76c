"""Attempt limits, the one limiter of the app: a moving window per key (the `limits` library;
the scan page's batched form below counts fixed windows),
counted in Redis when REDIS_URL is set (every process shares one count) and in this process
otherwise.

    if not rate_limit.allow("invite-bind", f"customer:{customer_id}", "10/hour"):
        raise RateLimited(...)

Failures only (sign-in): `over` asks without counting, `count` counts one, `clear` forgets.
A limit is written in the `limits` notation: "10/hour", "5/15minute", "3/second;20/hour".

A public page opened hundreds of times a second (the trace scan page) uses `allow_batched`
instead: counted in this process and brought to Redis once every few openings of a key
(the Batched class below says how, and what bound on the count that keeps).

When Redis does not answer (down, unreachable, an error) the attempt is counted in this
process instead, and Redis is left alone for REDIS_RETRY_SECONDS: a limit keeps limiting
through an outage (it neither opens sign-in to guessing nor answers 500), each process
counting on its own until Redis is back.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)
REDIS_RETRY_SECONDS = 30
KEY_PREFIX = "zxcrm"
SHARE = 10  # allow_batched: a process counts alone up to 1/SHARE of a window's room left


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


def _now() -> float:
    return time.time()  # the wall clock: every process agrees on a window's number


@dataclass
class Tally:
    """One key's openings in one fixed window, as this process knows them."""

    window: int  # the window's number (epoch seconds // its length)
    known: int = 0  # the shared (Redis) count at this process's last sync
    pending: int = 0  # openings allowed here and not yet sent to Redis
    sending: int = 0  # openings being added to Redis by the syncs in flight, their own too
    syncs: int = 0  # syncs in flight (threads of this process asking Redis now)


# Adds ARGV[1] (openings allowed in a process) to the window's count, then one more when
# the count is under the limit ARGV[2]; {1 if that one was counted, the count}.
SYNC_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
local allowed = 0
if count < tonumber(ARGV[2]) then
  count = redis.call('INCR', KEYS[1])
  allowed = 1
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {allowed, count}
"""


class Batched:
    """Fixed windows counted here, in Redis only every few openings of a key.

    A process allows a key's opening without asking Redis while its openings not yet in
    Redis (`pending`) are fewer than `batch` and than a SHARE-th of the room the window had
    left when it last looked (the limit less the Redis count it last saw, `known`, and those
    being sent, `sending`); and with those, under the limit. The opening after that adds
    them to Redis in one script call, which allows it only while the shared count is under
    the limit; meanwhile the other threads go on counting here (a sync in flight
    does not send every opening to Redis: under load from one address that made every other
    opening a round trip). Far from the limit a process asks Redis seldom; near it, at every
    opening. A window's count in Redis only grows, so a refusal here is not early (one
    process alone allows exactly the limit; only while two of its syncs of a key cross may
    it count the slower one's openings twice). What a process allowed and Redis does not
    know yet is at most one share pending plus one in each sync in flight, one per thread:
    a window allows one key at most limit + (P - 1) × (T + 1) × ⌈limit / SHARE⌉ openings over
    P processes of T threads (the trace page's 30 a minute: 30 in one process, at most 45
    on two of four threads; sequential openings, the usual case, at most 33).
    Without Redis (or while it fails, as Limiter) each process counts alone up to the limit.
    """

    MAX_KEYS = 50_000  # past this, keys of ended windows are dropped (then all of them)

    def __init__(self, redis) -> None:
        self.lock = threading.Lock()
        self.script = redis.register_script(SYNC_SCRIPT) if redis is not None else None
        self.tallies: dict[tuple, Tally] = {}
        self.skip_redis_until = 0.0

    def allow(self, scope: str, key: str, limit: int, seconds: int, batch: int) -> bool:
        window = int(_now() // seconds)
        with self.lock:
            tally = self._tally((scope, seconds, key), window)
            if tally.known + tally.pending + tally.sending >= limit:
                return False
            local = self.script is None or time.monotonic() < self.skip_redis_until
            share = min(batch, (limit - tally.known - tally.sending) // SHARE)
            if local or tally.pending < share:
                tally.pending += 1
                return True
            sent, tally.pending = tally.pending, 0
            # The sync's own opening too: while Redis has not answered, it may be allowed.
            tally.sending, tally.syncs = tally.sending + sent + 1, tally.syncs + 1
        redis_key = f"{KEY_PREFIX}:batched:{scope}:{seconds}:{tally.window}:{key}"
        return self._sync(tally, redis_key, sent, limit, seconds)

    def _tally(self, index: tuple, window: int) -> Tally:
        """The key's tally of `window`, or of the next one when that has begun: a thread
        reads the clock before it takes the lock, so one that read it just before a window
        ended may come after others began the next. Its opening is counted in the newer
        window: a fresh tally of the older one would replace the newer, whose openings
        counted here (not yet in Redis) would then be forgotten. (A clock set back further
        starts a tally of the older window: a client is never held in a far later one.)"""
        tally = self.tallies.get(index)
        if tally is None or tally.window not in (window, window + 1):
            if len(self.tallies) >= self.MAX_KEYS:
                self._prune(window)
            tally = self.tallies[index] = Tally(window)
        return tally

    def _prune(self, window: int) -> None:
        self.tallies = {k: t for k, t in self.tallies.items() if t.window == window}
        if len(self.tallies) >= self.MAX_KEYS:
            self.tallies = {}

    def _sync(self, tally: Tally, redis_key: str, sent: int, limit: int, ttl: int) -> bool:
        try:
            allowed, count = self.script(keys=[redis_key], args=[sent, limit, ttl])
        except Exception as exc:  # noqa: BLE001 - any storage failure: count here
            log.warning("rate limit: Redis failed, counting in-process: %r", exc)
            count = None
        with self.lock:
            tally.sending, tally.syncs = tally.sending - sent - 1, tally.syncs - 1
            if count is not None:
                tally.known = max(tally.known, int(count))
                return bool(allowed)
            self.skip_redis_until = time.monotonic() + REDIS_RETRY_SECONDS
            tally.pending += sent
            allowed = tally.known + tally.pending + tally.sending < limit
            tally.pending += allowed
            return allowed


def _kept(name: str, kind):
    """This app's (this process's) limiter of `kind`, made on first use."""
    found = current_app.extensions.get(name)
    if found is None:
        found = current_app.extensions[name] = kind(current_app.extensions.get("redis"))
    return found


def _limiter() -> Limiter:
    return _kept("rate_limiter", Limiter)


def allow_batched(scope: str, key: str, limit: int, seconds: int) -> bool:
    """Count one opening of `key` in `scope`; False when over `limit` per fixed window of
    `seconds` (not counted then). Redis is asked once every few openings of a key in a
    process (Batched: up to a SHARE-th of the room left, fewer near the limit): a window
    allows exactly `limit` openings of a key within one process, at most limit + (P - 1) ×
    (T + 1) × ⌈limit / SHARE⌉ across P processes of T threads."""
    return _kept("batched_limiter", Batched).allow(scope, key, limit, seconds, limit)


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
    app.extensions.pop("batched_limiter", None)
