"""The one limiter (app.core.rate_limit): counts in Redis when configured, in the process
when Redis is unset or does not answer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

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


def _opened(app, attempts: int, key: str = "k", limit: int = 30) -> int:
    """How many of `attempts` openings of `key` allow_batched allowed in `app` (one process)."""
    with app.app_context():
        return sum(rate_limit.allow_batched("scan", key, limit, 10**8) for _ in range(attempts))


@pytest.mark.parametrize("url", ["", "redis://127.0.0.1:1/0"])
def test_batched_counts_exactly_the_limit_in_one_process_without_redis(url):
    app = create_app(env_for_tests(REDIS_URL=url))
    assert _opened(app, 45) == 30
    assert _opened(app, 5, key="other") == 5  # another client is not limited


@pytest.mark.redis
def test_batched_counts_exactly_the_limit_in_one_process_with_redis(redis_conn):
    app = create_app(env_for_tests(REDIS_URL=REDIS_URL))
    assert _opened(app, 45) == 30
    assert any(b"batched:scan" in key for key in redis_conn.scan_iter("zxcrm*"))


@pytest.mark.redis
def test_batched_a_second_process_allows_at_most_one_batch_more(redis_conn):
    first, second = (create_app(env_for_tests(REDIS_URL=REDIS_URL)) for _ in range(2))
    assert _opened(first, 40) == 30
    assert _opened(second, 40) == 3  # the limit // 10 it allowed before asking Redis
    assert _opened(first, 10) == 0


@pytest.mark.redis
def test_batched_bound_over_processes_and_threads(redis_conn):
    """Two processes of four threads each, every thread trying 30 openings of one client:
    the window allows at least the limit and at most limit + (2 - 1) processes × (4 threads
    + 1) × batch (3)."""
    apps = [create_app(env_for_tests(REDIS_URL=REDIS_URL)) for _ in range(2)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        allowed = sum(pool.map(lambda app: _opened(app, 30), apps * 4))
    assert 30 <= allowed <= 45


def test_batched_a_new_window_starts_a_new_count(monkeypatch):
    app = create_app(env_for_tests())
    now = [1_000_000.0]
    monkeypatch.setattr(rate_limit, "_now", lambda: now[0])
    with app.app_context():
        assert [rate_limit.allow_batched("w", "k", 2, 60) for _ in range(3)] == [1, 1, 0]
        now[0] += 60
        assert [rate_limit.allow_batched("w", "k", 2, 60) for _ in range(3)] == [1, 1, 0]


def test_batched_other_threads_count_here_while_a_sync_is_in_flight():
    """One thread waiting on Redis does not send every other opening to Redis: under load
    from one address that made every other opening a round trip."""
    app = create_app(env_for_tests())
    limiter = rate_limit.Batched(None)
    calls, entered, release = [], threading.Event(), threading.Event()

    def slow_script(keys, args):
        calls.append(args[0])
        entered.set()
        release.wait(5)
        return [1, args[0] + 1]

    limiter.script = slow_script
    with app.app_context():
        assert all(limiter.allow("s", "k", 100, 60, 5) for _ in range(5))  # counted here
        with ThreadPoolExecutor(max_workers=1) as pool:
            syncing = pool.submit(limiter.allow, "s", "k", 100, 60, 5)  # the 6th: to Redis
            assert entered.wait(5)
            # While it waits, the next batch is counted here; the one after syncs again.
            assert all(limiter.allow("s", "k", 100, 60, 5) for _ in range(5))
            assert calls == [5]
            release.set()
            assert syncing.result(5)
        assert limiter.allow("s", "k", 100, 60, 5)
    assert calls == [5, 5]


def test_batched_asks_redis_seldom_far_from_the_limit_and_at_every_opening_near_it():
    """A process counts alone up to a tenth of the room the window has left: a client far
    under a high limit (many phones behind one carrier NAT) costs Redis few round trips, and
    one nearing its limit is checked against every process's count at each opening."""
    app = create_app(env_for_tests())
    limiter, shared, calls = rate_limit.Batched(None), {}, []

    def script(keys, args):  # SYNC_SCRIPT: a count per key
        calls.append(args[0])
        count = shared.get(keys[0], 0) + args[0]
        allowed = count < args[1]
        shared[keys[0]] = count + allowed
        return [int(allowed), shared[keys[0]]]

    limiter.script = script
    with app.app_context():
        assert sum(limiter.allow("s", "far", 10_000, 60, 10_000) for _ in range(1000)) == 1000
        assert calls == []  # a tenth of the room: the next opening sends them
        assert limiter.allow("s", "far", 10_000, 60, 10_000) and calls == [1000]
        calls.clear()
        assert sum(limiter.allow("s", "near", 30, 60, 30) for _ in range(40)) == 30
        assert calls[:2] == [3, 2] and calls[-3:] == [0, 0, 0]  # then every opening asks


def test_batched_one_process_allows_no_more_than_the_limit_while_a_sync_is_in_flight():
    """The opening that syncs is counted here until Redis answers: other threads allowed
    the limit without it, and Redis (which had not seen their batch yet) allowed it too."""
    app = create_app(env_for_tests())
    limiter = rate_limit.Batched(None)
    shared, entered, release = [0], threading.Event(), threading.Event()

    def script(keys, args):  # SYNC_SCRIPT on one count; the first call is slow to arrive
        if not entered.is_set():
            entered.set()
            release.wait(5)
        shared[0] += args[0]
        allowed = shared[0] < args[1]
        shared[0] += allowed
        return [int(allowed), shared[0]]

    limiter.script = script
    with app.app_context():
        allowed = sum(limiter.allow("s", "k", 30, 60, 3) for _ in range(3))
        with ThreadPoolExecutor(max_workers=1) as pool:
            syncing = pool.submit(limiter.allow, "s", "k", 10, 60, 3)
            assert entered.wait(5)
            allowed += sum(limiter.allow("s", "k", 30, 60, 3) for _ in range(40))
            release.set()
            allowed += syncing.result(5)
        allowed += sum(limiter.allow("s", "k", 30, 60, 3) for _ in range(40))
    assert allowed == 30


def test_batched_a_late_opening_of_the_last_window_does_not_restart_the_new_one(monkeypatch):
    """A thread reads the clock before it takes the lock: one that read it just before a
    window ended may count after other threads began the next window. Its opening must not
    replace the new window's tally with a fresh one of the old window (the next opening
    would then start the new window over: its openings counted here forgotten, the limit
    allowed twice in one process)."""
    app = create_app(env_for_tests())
    now = [120.0]
    monkeypatch.setattr(rate_limit, "_now", lambda: now[0])
    with app.app_context():
        allowed = sum(rate_limit.allow_batched("late", "k", 30, 60) for _ in range(30))
        now[0] = 119.99  # read before the rollover, counted after it
        rate_limit.allow_batched("late", "k", 30, 60)
        now[0] = 120.0
        allowed += sum(rate_limit.allow_batched("late", "k", 30, 60) for _ in range(30))
    assert allowed == 30
