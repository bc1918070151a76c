"""Ingest benchmark: safe-mode official-account messages through gunicorn, PostgreSQL, Redis.

    .venv/bin/python bench/ingest.py [--n 6000] [--customers 600] [--rounds 6]

Starts gunicorn with the production settings (gunicorn.conf.py) and APP_ENV=production
against a fresh PostgreSQL database and Redis db 13. Both endpoints are warmed up first (the
callback with other senders' messages, so the measured run keeps its first contacts). Then
N distinct encrypted text messages from --customers senders go to the callback at
concurrency 16 and, in the same run, the same bodies to a bare endpoint of the same app
that only answers `success`, alternating (bare, callback) in --rounds slices so that drift
on a shared machine falls on both. Beside throughput it prints the CPU time per request of
each kind of process (gunicorn, PostgreSQL, Redis, the load generator), which explains the
ratio. Then it counts rows: every message stored once, none lost, none doubled (a second
pass re-sends 10% of them, as WeChat's retries would).
Bars: ingest throughput ≥ 40% of bare, ingest p99 < 100 ms, zero lost, zero duplicated.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
import redis  # noqa: E402

from app.core.wxprotocol import parse_xml  # noqa: E402
from app.services.inbound.dedupe import mp_key  # noqa: E402
from bench.common import (  # noqa: E402
    CpuMeter,
    alternate,
    describe,
    flask,
    free_port,
    fresh_database,
    load,
    start_gunicorn,
)
from tests import wxsign  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def environment(database_url: str) -> dict:
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": "bench-secret",
        "DATA_KEY": "bench-data-key",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "WARNING",
        "WECHAT_MP_APPID": wxsign.MP["appid"],
        "WECHAT_MP_TOKEN": wxsign.MP["token"],
        "WECHAT_MP_AES_KEY": wxsign.MP["key"],
        "CALLBACK_MAX_AGE": "3600",
        "WECHAT_API_BASE": "http://127.0.0.1:9",
        "WECOM_API_BASE": "http://127.0.0.1:9",
        "WORK_START": "00:00",
        "WORK_END": "23:59",
        "WORK_DAYS": "1,2,3,4,5,6,7",
    }


def message_xml(i: int, customers: int, sender: str, first_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{sender}{i % customers:05d}]]>"
        f"</FromUserName><CreateTime>{1700000000 + i}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[你好，新房120平想做现代简约，预算20万左右 #{i}]]></Content><MsgId>{first_id + i}</MsgId></xml>"
    )


def messages(n: int, customers: int, sender: str = "oBench", first_id: int = 900000000):
    # Signed now: callbacks refuse a timestamp older than CALLBACK_MAX_AGE (an hour in
    # environment(), longer than a run).
    now = int(time.time())
    return [
        (
            "POST",
            *wxsign.mp_safe(
                message_xml(i, customers, sender, first_id), ts=str(now), nonce=f"{sender}{i}"
            ),
        )
        for i in range(n)
    ]


def count_rows(database_url: str, customers: int, first_id: int, n: int) -> tuple[int, int]:
    """Rows of the measured messages (MsgIds first_id … first_id+n-1), not the warm-up's."""
    appid = wxsign.MP["appid"]
    keys = [
        mp_key(appid, parse_xml(message_xml(i, customers, "oBench", first_id))) for i in range(n)
    ]
    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT dedupe_key) FROM timeline_events"
            " WHERE kind = 'message' AND dedupe_key = ANY(%s)",
            [keys],
        ).fetchone()
    return total, distinct


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--customers", type=int, default=600)
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (0: production)")
    parser.add_argument("--threads", type=int, default=0, help="threads per worker (0: production)")
    parser.add_argument("--rounds", type=int, default=6, help="bare/ingest alternations")
    parser.add_argument("--database", default="zxcrm_bench_ingest", help="created afresh")
    args = parser.parse_args()

    database_url = fresh_database(args.database)
    env = environment(database_url)
    redis.Redis.from_url(REDIS_URL).flushdb()
    flask(env, "db", "upgrade")
    port = free_port()
    server = start_gunicorn(env, "bench.wsgi_bench:app", port, args.workers, args.threads)
    cpu = CpuMeter(server.pid)
    try:
        requests = messages(args.n, args.customers)
        # Warm-up, as a server that has been running is warm: both endpoints, the callback
        # with messages of other senders (so the measured run still has its first contacts).
        warm = messages(600, 60, sender="oWarm", first_id=800000000)
        load(port, [("POST", "/bench/bare", body) for _, _, body in warm] + warm)
        bare_requests = [("POST", "/bench/bare", body) for _, _, body in requests]
        series = {"bare": bare_requests, "ingest": requests}
        measured = alternate(cpu.measure, port, series, args.rounds)
        bare, ingest = measured["bare"], measured["ingest"]
        retries = load(port, requests[: args.n // 10])
    finally:
        server.terminate()
        server.wait(10)
    total, distinct = count_rows(database_url, args.customers, 900000000, args.n)
    ratio = ingest["rps"] / bare["rps"]
    print(describe("bare endpoint", bare))
    print(describe("ingest (safe mode)", ingest))
    for label, stats in (("bare", bare), ("ingest", ingest)):
        print(f"  CPU ms per request, {label:<7} {cpu.describe(stats)}")
    print(describe("ingest retries (10%)", retries))
    print(f"ratio ingest/bare       {ratio:.2%}   (bar ≥ 40%)")
    print(
        f"rows: {total} stored, {distinct} distinct, {args.n} sent → lost {args.n - distinct}, duplicated {total - distinct}"
    )
    ok = (
        ratio >= 0.40
        and ingest["p99_ms"] < 100
        and total == distinct == args.n
        and not ingest["errors"]
    )
    print("PASS" if ok else "FAIL")
    redis.Redis.from_url(REDIS_URL).flushdb()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
