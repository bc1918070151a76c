"""Real processes: a worker killed mid-send, two schedulers and the daily pass."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.extensions import db
from app.models import Notice
from app.services.notices import maintenance, outbox
from jobs import scheduler
from tests.conftest import REDIS_URL
from tests.fakewechat import FakeWeChatRemote
from tests.fixtures_outbox import outbox_env

TPL = "/cgi-bin/message/template/send"
CTX = {
    "project_id": 7,
    "project_name": "翠湖天地",
    "node": "油漆",
    "at": "2026-11-22T02:00:00+00:00",
}


def _worker(fake_url: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, **outbox_env(fake_url, REDIS_URL=REDIS_URL)}
    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--queues", "outbound", *extra]
    # Its own process group: RQ forks a scheduler child, which a kill of the worker alone
    # would leave running after the test.
    return subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait(predicate, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.mark.redis
@pytest.mark.slow
def test_worker_killed_mid_send_then_recovered_delivers_once(
    redis_outbox_app, fake_wechat, make_customer, redis_conn
):
    customer = make_customer(mini=0)
    remote = FakeWeChatRemote(fake_wechat.url)  # drive the fake over HTTP, as another process would
    remote.set_delay(TPL, 3.0)
    notice = outbox.notify_customer("node-accepted", customer, "node:1", **CTX)
    db.session.commit()  # the send job goes to the RQ "outbound" queue
    assert redis_conn.llen("rq:queue:outbound") == 1
    worker = _worker(fake_wechat.url)
    try:
        _wait(lambda: remote.count(TPL) == 1)  # the request is at WeChat, the answer is not back
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its scheduler, as a crash would
        worker.wait(10)
    db.session.expire_all()
    row = db.session.get(Notice, notice.id)
    assert row.status == "sending" and row.attempts == 1

    remote.set_delay(TPL, 0)
    assert outbox.recover_stuck(older_than=timedelta(0)) == 1
    assert outbox.dispatch_due() == 1
    burst = _worker(fake_wechat.url, "--burst")
    out, err = burst.communicate(timeout=120)
    assert burst.returncode == 0, err[-2000:]
    _wait(lambda: len(fake_wechat.sent_messages(TPL)) >= 1 and fake_wechat.count(TPL) == 2)
    time.sleep(3.2)  # the killed worker's request finishes at the fake: still one delivery
    db.session.expire_all()
    row = db.session.get(Notice, notice.id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert fake_wechat.count(TPL) == 2  # sent twice…
    delivered = fake_wechat.sent_messages(TPL)
    assert len(delivered) == 1  # …delivered once: client_msg_id
    assert delivered[0]["body"]["client_msg_id"] == "node-accepted:node:1"
    assert row.msgid == str(delivered[0]["msgid"])


@pytest.mark.redis
@pytest.mark.slow
def test_two_schedulers_run_the_daily_pass_once(
    redis_outbox_app, make_customer, redis_conn, monkeypatch
):
    monkeypatch.setattr(scheduler, "RENEW_EVERY", 0.2)
    customer = make_customer(mini=0)
    maintenance.plan_for_completion(customer.id, 501, date.today() - timedelta(days=366))
    db.session.commit()
    run_at = datetime.now(UTC) + timedelta(seconds=1)
    schedule = [
        {
            "id": "daily-customer-pass",
            "func": "jobs.notices:daily_customer_pass",
            "trigger": "date",
            "run_date": run_at,
            "queue": "periodic",
        }
    ]
    stops = [threading.Event(), threading.Event()]
    threads = [
        threading.Thread(target=scheduler.run, args=(redis_outbox_app, s, schedule)) for s in stops
    ]
    for t in threads:
        t.start()
    try:
        # However slow the machine, wait for the fire itself; then give the other scheduler
        # several of its lock renewals to fire a second time, which it must not.
        _wait(lambda: redis_conn.llen("rq:queue:periodic") >= 1, timeout=120)
        time.sleep(10 * scheduler.RENEW_EVERY)
    finally:
        for stop in stops:
            stop.set()
        for t in threads:
            t.join(timeout=30)
    assert redis_conn.llen("rq:queue:periodic") == 1  # one leader fired it
    env = {
        **os.environ,
        **outbox_env(redis_outbox_app.config["WECHAT_API_BASE"], REDIS_URL=REDIS_URL),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "worker",
            "--burst",
            "--queues",
            "periodic",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    db.session.expire_all()
    rows = db.session.scalars(select(Notice)).all()
    assert [n.kind for n in rows] == ["maintenance-1y"]
    # Scheduled for 09:00 local today: handed to the queue once that time has come.
    due = rows[0].scheduled_at <= datetime.now(UTC)
    assert rows[0].status == ("queued" if due else "pending")
