"""Counting failures per key in a window (sign-in throttling), on Redis or in-process.

Built on `limits` (the library under Flask-Limiter): Flask-Limiter would add a check to
every request of the app, callbacks included, and counts requests where sign-in throttling
counts failures. With REDIS_URL the counters are shared by every process (a moving window
in Redis); without it they live in this process (development).
"""

from __future__ import annotations

import logging
import time

from flask import current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


def _limiter() -> MovingWindowRateLimiter:
    found = current_app.extensions.get("failure_limiter")
    if found is None:
        url = current_app.config.get("REDIS_URL") or "memory://"
        found = MovingWindowRateLimiter(storage_from_string(url))
        current_app.extensions["failure_limiter"] = found
    return found


def window(spec: str) -> RateLimitItem:
    """'5/15minute' → an item: at most 5 in any 15 minutes."""
    return parse(spec)


def exceeded(item: RateLimitItem, namespace: str, key: str) -> bool:
    """True when `key` has used up `item` (no further failure allowed). A Redis that does
    not answer counts as not exceeded: a sign-in page that fails open beats one that is down
    (the password is still checked)."""
    try:
        return not _limiter().test(item, namespace, key)
    except Exception:  # noqa: BLE001 - any storage failure
        log.warning("rate-limit storage unavailable", exc_info=True)
        return False


def count_failure(item: RateLimitItem, namespace: str, key: str) -> None:
    try:
        _limiter().hit(item, namespace, key)
    except Exception:  # noqa: BLE001 - as above
        log.warning("rate-limit storage unavailable", exc_info=True)


def reset(item: RateLimitItem, namespace: str, key: str) -> None:
    """Forget a key's failures (a successful sign-in clears its account's count)."""
    try:
        _limiter().clear(item, namespace, key)
    except Exception:  # noqa: BLE001 - as above
        log.warning("rate-limit storage unavailable", exc_info=True)


def retry_after(item: RateLimitItem, namespace: str, key: str) -> int:
    """Seconds until one more attempt is allowed (0 when unknown)."""
    try:
        reset_at, _ = _limiter().get_window_stats(item, namespace, key)
    except Exception:  # noqa: BLE001 - as above
        return 0
    return max(0, int(reset_at - time.time()))
