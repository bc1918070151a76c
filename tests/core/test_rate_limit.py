"""The one limiter (app.core.rate_limit): counts in Redis when configured, in the process
when Redis is unset or does not answer."""

from __future__ import annotations

import pytest

from app import create_app
from app.core import rate_limit
from tests.conftest import REDIS_URL, env_for_tests


def _exercise() -> None:
    """allow, over, count, clear and retry_after agree on one key."""
    assert [rate_limit.allow("t", "k", "3/minute") for _ in range(4)] == [True] * 3 + [False]
    assert rate_limit.allow("t", "other", "3/minute")  # another key is not limited
    assert rate_limit.over("t", "k", "3/minute")
    assert 0 < rate_limit.retry_after("t", "k", "3/minute") <= 61
    rate_limit.clear("t", "k", "3/minute")
    assert not rate_limit.over("t", "k", "3/minute")
    assert rate_limit.retry_after("t", "k", "3/minute") == 0
    for _ in range(2):
        rate_limit.count("f", "k", "2/hour;10/day")
    assert rate_limit.over("f", "k", "2/hour;10/day")


def test_counts_in_the_process_without_redis():
    app = create_app(env_for_tests())
    with app.app_context():
        _exercise()


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "redis://no-such-host.invalid:6379/0"])
def test_an_unreachable_redis_still_limits(url):
    app = create_app(env_for_tests(REDIS_URL=url))
    with app.app_context():
        _exercise()


@pytest.mark.redis
def test_with_redis_two_processes_share_one_count(redis_conn):
    first, second = (create_app(env_for_tests(REDIS_URL=REDIS_URL)) for _ in range(2))
    for app in (first, second, first):
        with app.app_context():
            assert rate_limit.allow("two-apps", "k", "3/minute")
    with second.app_context():
        assert not rate_limit.allow("two-apps", "k", "3/minute")
    assert any(b"two-apps" in key for key in redis_conn.scan_iter("zxcrm*"))
