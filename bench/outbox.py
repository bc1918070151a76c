"""Outbox benchmark: sending due notices with 4 RQ workers, and the daily anniversary pass.

    .venv/bin/python bench/outbox.py [--n 100000] [--plans 1000000] [--empty 20000]

1. N due notices (COPY) to followers of the official account; the fake WeChat server
   (`python -m tests.fakewechat`, a subprocess) answers template/send in 20 ms. 4 `flask
   worker --burst --queues outbound` processes send them (batches of NOTICE_BATCH, the
   requests of a batch concurrent). Notices/s against the same 4 workers running one empty
   job per notice in the same run. Bar: ≥ 60%. Rates are measured between 10% and 90% of
   the work, so process start-up and the tail do not count.
2. The daily maintenance pass over PLANS plans in PostgreSQL: seconds, and the plans of
   its statements. Bar: < 5 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
import redis  # noqa: E402
from rq import Queue  # noqa: E402

from app.core.config import NOTICE_TEMPLATE_VARS  # noqa: E402
from bench.common import ROOT, flask, free_port, fresh_database  # noqa: E402
from tests.fakewechat import FakeWeChatRemote, fake_settings  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
TPL = "/cgi-bin/message/template/send"
WORKERS = 4


def environment(database_url: str, fake_url: str) -> dict:
    return {
        **os.environ,
        **fake_settings(fake_url),
        "APP_ENV": "production",
        "SECRET_KEY": "bench",
        "DATA_KEY": "bench-data-key",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "WARNING",
        "NOTICE_WINDOW_START": "00:00",
        "NOTICE_WINDOW_END": "23:59",
        **{name: f"tpl-{name.lower()}" for name in NOTICE_TEMPLATE_VARS},
    }


def start_fake() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakewechat", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            FakeWeChatRemote(url).count()
            return proc, url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("fake WeChat server did not start")


def pg(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("+psycopg", ""), autocommit=True)


def seed_notices(url: str, n: int, customers: int) -> None:
    now = datetime.now(UTC)
    with pg(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY customers (name, nickname, gender, city, community, address, source_channel,"
            " stage, created_at, updated_at) FROM STDIN"
        ) as copy:
            for i in range(customers):
                copy.write_row(
                    (f"业主{i}", "", "unknown", "杭州", "", "", "bench", "construction", now, now)
                )
        with cur.copy(
            "COPY customer_identities (customer_id, kind, app_id, value, subscribed, created_at) FROM STDIN"
        ) as copy:
            for i in range(customers):
                copy.write_row(
                    (i + 1, "mp_openid", "wxfake0000000000mp", f"oBench{i:08d}", True, now)
                )
        with cur.copy(
            "COPY notices (kind, audience, customer_id, idem_key, marketing, urgent, context, channel,"
            " channel_reason, status, scheduled_at, attempts, last_error, delivery, created_at) FROM STDIN"
        ) as copy:
            for i in range(n):
                context = f'{{"project_id": {i}, "project_name": "翠湖天地{i % 50}栋", "node": "水电验收", "at": "2026-11-22T02:00:00+00:00"}}'
                copy.write_row(
                    (
                        "node-accepted",
                        "customer",
                        i % customers + 1,
                        f"node-accepted:node:{i}",
                        False,
                        False,
                        context,
                        "",
                        "",
                        "pending",
                        now - timedelta(minutes=1),
                        0,
                        "",
                        "",
                        now,
                    )
                )
        cur.execute("ANALYZE")


def workers(env: dict) -> list[subprocess.Popen]:
    cmd = [
        sys.executable,
        "-m",
        "flask",
        "--app",
        "wsgi",
        "worker",
        "--burst",
        "--queues",
        "outbound",
    ]
    return [
        subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(WORKERS)
    ]


def watch(procs: list[subprocess.Popen], remaining, total: int) -> dict:
    """Poll the remaining work until the workers exit; rate between 10% and 90% done."""
    start, samples = time.perf_counter(), []
    while any(p.poll() is None for p in procs):
        samples.append((time.perf_counter(), remaining()))
        time.sleep(0.25)
    samples.append((time.perf_counter(), remaining()))
    for p in procs:
        if p.returncode:
            raise RuntimeError(p.stderr.read().decode()[-2000:])
    first = next(s for s in samples if s[1] <= total * 0.9)
    last = [s for s in samples if s[1] >= total * 0.1][-1]
    rate = (
        (first[1] - last[1]) / (last[0] - first[0])
        if last[0] > first[0]
        else total / (samples[-1][0] - start)
    )
    return {"rate": rate, "wall": samples[-1][0] - start, "left": samples[-1][1]}


def empty_jobs(env: dict, m: int) -> dict:
    from bench.outbox_jobs import empty

    conn = redis.Redis.from_url(REDIS_URL)
    queue = Queue("outbound", connection=conn)
    for start in range(0, m, 5000):
        with conn.pipeline() as pipe:
            queue.enqueue_many(
                [
                    Queue.prepare_data(empty, args=(i,), result_ttl=60)
                    for i in range(start, min(m, start + 5000))
                ],
                pipeline=pipe,
            )
            pipe.execute()
    return watch(workers(env), lambda: queue.count, m)


def send_notices(env: dict, url: str, n: int) -> dict:
    os.environ.update(
        {k: v for k, v in env.items() if k not in os.environ or k in ("DATABASE_URL", "REDIS_URL")}
    )
    from app import create_app
    from app.services.notices import outbox

    app = create_app({k: env[k] for k in env if k.isupper()})
    with app.app_context():
        started = time.perf_counter()
        outbox.dispatch_due(limit=n)
        dispatch = time.perf_counter() - started
    with pg(url) as conn:

        def left():
            return conn.execute(
                "SELECT count(*) FROM notices WHERE status IN ('pending', 'queued', 'sending')"
            ).fetchone()[0]

        stats = watch(workers(env), left, n)
        stats["statuses"] = dict(
            conn.execute("SELECT status, count(*) FROM notices GROUP BY status").fetchall()
        )
    stats["dispatch"] = dispatch
    return stats


def seed_plans(url: str, plans: int, today: date) -> None:
    from app.services.notices.maintenance import anniversary

    with pg(url) as conn, conn.cursor() as cur:
        customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        with cur.copy(
            "COPY maintenance_plans (customer_id, project_id, completed_on, next_due, next_years, created_at) FROM STDIN"
        ) as copy:
            for i in range(plans):
                done = today - timedelta(days=i % 2200)
                due = [
                    (anniversary(done, y), y)
                    for y in (1, 3, 5)
                    if anniversary(done, y) >= today - timedelta(days=1)
                ]
                next_due, years = due[0] if due else (None, None)
                copy.write_row((i % customers + 1, i + 1, done, next_due, years, datetime.now(UTC)))
        cur.execute("ANALYZE maintenance_plans")


def daily_pass(env: dict, url: str, today: date) -> dict:
    from sqlalchemy import text

    from app import create_app
    from app.core.extensions import db
    from app.services.notices import maintenance, notice_timing

    app = create_app({k: env[k] for k in env if k.isupper()})
    with app.app_context():
        with db.engine.connect() as conn:
            trans = conn.begin()
            sql = maintenance._NOTICES.format(context=maintenance._CONTEXT["postgresql"])
            params = {
                "today": today,
                "at": notice_timing.at_local(today, (9, 0)),
                "now": datetime.now(UTC),
            }
            plan = [r[0] for r in conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql), params)]
            trans.rollback()
        started = time.perf_counter()
        created = maintenance.run_due(today, datetime.now(UTC))
        db.session.commit()
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "created": created, "plan": plan}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--empty", type=int, default=20_000)
    parser.add_argument("--plans", type=int, default=1_000_000)
    args = parser.parse_args()

    url = fresh_database("zxcrm_bench_outbox")
    fake, fake_url = start_fake()
    try:
        env = environment(url, fake_url)
        redis.Redis.from_url(REDIS_URL).flushdb()
        flask(env, "db", "upgrade")
        FakeWeChatRemote(fake_url).set_delay(TPL, 0.02)
        seed_notices(url, args.n, args.customers)
        empty = empty_jobs(env, args.empty)
        print(
            f"empty jobs      {args.empty:>8}  {empty['rate']:8.1f} jobs/s   (wall {empty['wall']:.1f} s)"
        )
        sent = send_notices(env, url, args.n)
        print(
            f"notices         {args.n:>8}  {sent['rate']:8.1f} notices/s (wall {sent['wall']:.1f} s,"
            f" dispatch {sent['dispatch']:.2f} s) statuses {sent['statuses']}"
        )
        remote = FakeWeChatRemote(fake_url, timeout=120)
        requests_seen, delivered = remote.count(TPL), len(remote.sent_messages(TPL))
        print(f"fake WeChat: {requests_seen} template/send requests, {delivered} delivered")
        ratio = sent["rate"] / empty["rate"]
        print(f"ratio notices/empty jobs  {ratio:.0%}   (bar ≥ 60%)")
        today = date.today()
        seed_plans(url, args.plans, today)
        daily = daily_pass(env, url, today)
        print(
            f"daily pass over {args.plans} plans: {daily['seconds']:.2f} s, {daily['created']} notices (bar < 5 s)"
        )
        print("\n".join("    " + line for line in daily["plan"]))
    finally:
        fake.terminate()
        fake.wait(10)
        redis.Redis.from_url(REDIS_URL).flushdb()
    ok = (
        ratio >= 0.6
        and daily["seconds"] < 5
        and sent["statuses"].get("sent") == args.n == delivered
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
