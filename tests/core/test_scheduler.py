import threading
import time

import pytest

from jobs import scheduler


@pytest.mark.redis
def test_only_one_scheduler_holds_the_leader_lock(redis_conn):
    first = scheduler.LeaderLock(redis_conn, ttl=2)
    second = scheduler.LeaderLock(redis_conn, ttl=2)
    assert first.acquire_or_renew() is True
    assert second.acquire_or_renew() is False
    assert first.acquire_or_renew() is True  # renewal by the holder
    first.release()
    assert second.acquire_or_renew() is True


@pytest.mark.redis
def test_a_dead_leader_is_replaced_after_the_ttl(redis_conn):
    leader = scheduler.LeaderLock(redis_conn, ttl=1)
    standby = scheduler.LeaderLock(redis_conn, ttl=1)
    assert leader.acquire_or_renew()
    time.sleep(1.2)  # the leader stopped renewing
    assert standby.acquire_or_renew()


@pytest.mark.redis
@pytest.mark.slow
def test_two_scheduler_processes_fire_each_tick_once(redis_app, redis_conn, monkeypatch):
    monkeypatch.setattr(scheduler, "RENEW_EVERY", 0.2)
    schedule = [
        {"id": "tick", "func": "tests.sample_jobs:note_job", "trigger": "interval", "seconds": 1}
    ]
    stops = [threading.Event(), threading.Event()]
    threads = [
        threading.Thread(target=scheduler.run, args=(redis_app, stop, schedule)) for stop in stops
    ]
    for t in threads:
        t.start()
    time.sleep(3.6)
    for stop in stops:
        stop.set()
    for t in threads:
        t.join(timeout=5)
    fired = redis_conn.llen("rq:queue:periodic")
    assert 2 <= fired <= 4, f"expected one leader firing ~3 ticks, saw {fired}"
