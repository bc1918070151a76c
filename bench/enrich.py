"""Enrichment catch-up benchmark: a Redis loss strands 10,000 stored events; one worker drains them.

    .venv/bin/python bench/enrich.py [--events 10000] [--poison 500] [--customers 2000] [--baseline 1000]

(--events is also --n; --baseline 0 skips the baseline, the slow part of a run.)

Against a fresh PostgreSQL database and Redis (BENCH_REDIS_URL), with the fake WeChat server
(tests/fakewechat.py) serving every customer's profile (nickname, gender, unionid):
1. gunicorn (production settings, bench.enrich_wsgi: the app plus one planted bug) stores
   safe-mode official-account text messages sent as WeChat would: --n for the drain (from
   --customers senders, texts of tests/data/tagging_eval.jsonl; --poison of them carry the
   bug's marker, so their enrichment raises every time), --baseline for the baseline (other
   senders), and a few warm-up ones. No worker runs meanwhile.
2. Redis is wiped (FLUSHDB): every event is stranded, marked needs_enrichment only.
3. One worker starts (`flask --app bench.enrich_wsgi worker`, a real process, against the
   fake WeChat server) and is warmed up on the warm-up events.
4. Baseline, the old hand-over: one RQ job per event (what the minute sweep enqueued, 500 a
   minute; here all at once), each asking WeChat for its own profile.
5. The drain: the sweep (app.services.inbound.backlog.sweep, run here as the scheduler
   would, every --sweep-every seconds) hands the whole backlog over at once; the worker
   drains it 100 at a time with profiles fetched 100 openids a call. Timed from the first
   sweep to the last non-poison event enriched (the database is polled every 0.2 s).
   Poison events retry after ENRICH_RETRY_SECONDS=1 (×4 per attempt) and park at the 3rd
   failure (ENRICH_MAX_ATTEMPTS=3; production waits minutes: 60 s × 4^n, 5 attempts).
Prints the setup's time apart (filling, the worker's start and warm-up: not measured), events/s
of both, their ratio, the time to the last event, the worker's CPU per event (what a free core
would allow: on a shared machine the wall-clock rate mostly measures the others' load), the
WeChat calls each made, what was left behind, and the load average at the start and the end.
Bars: drain ≥ 100 events/s; every non-poison event enriched, every poison event parked.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
import redis  # noqa: E402
from rq import Queue  # noqa: E402

from bench.common import ROOT, flask, free_port, fresh_database, load, start_gunicorn  # noqa: E402
from tests import wxsign  # noqa: E402
from tests.fakewechat import FakeWeChat  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
MP_SECRET = "bench-mp-secret"
POISON = "【bench-poison】"  # the marker bench.enrich_wsgi's planted bug fails on
TEXTS = [
    json.loads(line)["text"]
    for line in (ROOT / "tests/data/tagging_eval.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def environment(database_url: str, fake_url: str) -> dict:
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": "bench-secret",
        "DATA_KEY": "bench-data-key",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "ERROR",
        "WECHAT_MP_APPID": wxsign.MP["appid"],
        "WECHAT_MP_SECRET": MP_SECRET,
        "WECHAT_MP_TOKEN": wxsign.MP["token"],
        "WECHAT_MP_AES_KEY": wxsign.MP["key"],
        "WECHAT_API_BASE": fake_url,
        "WECOM_API_BASE": fake_url,
        "WORK_START": "00:00",
        "WORK_END": "23:59",
        "WORK_DAYS": "1,2,3,4,5,6,7",
        "ENRICH_SWEEP_AGE": "0",
        "ENRICH_RETRY_SECONDS": "1",
        "ENRICH_MAX_ATTEMPTS": "3",
    }


def messages(prefix: str, n: int, customers: int, poison: int, first_id: int) -> list:
    """n text messages from `customers` senders `<prefix>00000…`; every (n // poison)-th one
    carries the poison marker (the first `poison` such)."""
    every = n // poison if poison else 0
    now = int(time.time())
    out = []
    for i in range(n):
        text = TEXTS[i % len(TEXTS)].replace("]]>", "")
        if every and i % every == every - 1 and i // every < poison:
            text = f"{POISON}{text}"
        xml = (
            f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{prefix}{i % customers:05d}]]>"
            f"</FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{first_id + i}</MsgId></xml>"
        )
        out.append(("POST", *wxsign.mp_safe(xml, ts=str(now), nonce=f"{prefix}{i}")))
    return out


class Events:
    """Counts over the stored events of one group of senders (by openid prefix)."""

    SQL = """
        SELECT count(*),
               count(*) FILTER (WHERE e.needs_enrichment AND NOT p.poison),
               count(*) FILTER (WHERE p.poison),
               count(*) FILTER (WHERE p.poison AND s.parked_at IS NOT NULL),
               count(*) FILTER (WHERE p.poison AND NOT e.needs_enrichment)
        FROM timeline_events e
        JOIN customer_identities i ON i.customer_id = e.customer_id AND i.kind = 'mp_openid'
        LEFT JOIN enrichment_states s ON s.event_id = e.id
        CROSS JOIN LATERAL (SELECT e.payload->>'content' LIKE %(marker)s AS poison) p
        WHERE e.kind = 'message' AND i.value LIKE %(prefix)s
    """

    def __init__(self, conn, prefix: str) -> None:
        self.conn, self.params = conn, {"prefix": f"{prefix}%", "marker": f"%{POISON}%"}

    def counts(self) -> dict:
        row = self.conn.execute(self.SQL, self.params).fetchone()
        keys = ("stored", "pending", "poison", "parked", "poison_enriched")
        return dict(zip(keys, row, strict=True))

    def ids(self) -> list[int]:
        rows = self.conn.execute(
            "SELECT e.id FROM timeline_events e JOIN customer_identities i"
            " ON i.customer_id = e.customer_id AND i.kind = 'mp_openid'"
            " WHERE e.kind = 'message' AND i.value LIKE %(prefix)s ORDER BY e.id",
            self.params,
        )
        return [r[0] for r in rows]

    def wait(self, done, timeout: float, poll: float = 0.2) -> float:
        """Seconds until done(counts()) holds (polled); raises on timeout."""
        start = time.monotonic()
        while not done(self.counts()):
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"still {self.counts()} after {timeout:.0f} s")
            time.sleep(poll)
        return time.monotonic() - start


def per_event_jobs(conn_redis, ids: list[int]) -> None:
    """The old hand-over: one enrich_event job per stored event."""
    queue = Queue("webhooks", connection=conn_redis)
    for event_id in ids:
        queue.enqueue_call(
            "jobs.ingest.enrich_event", args=(event_id,), job_id=f"enrich-{event_id}", timeout=60
        )


class Sweeper(threading.Thread):
    """The scheduler's minute sweep, every `every` seconds, in this process."""

    def __init__(self, env: dict, every: float) -> None:
        super().__init__(daemon=True)
        from app import create_app

        self.app, self.every = create_app(env), every
        self.stop, self.handed = threading.Event(), []

    def sweep(self) -> int:
        from app.core import batch
        from app.core.extensions import db
        from app.services.inbound import backlog

        with self.app.app_context():
            count = backlog.sweep()
            db.session.commit()
        batch.flush()
        self.handed.append(count)
        return count

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.sweep()


def start_worker(env: dict) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "flask", "--app", "bench.enrich_wsgi", "worker"]
    return subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (/proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def wechat_calls(fake: FakeWeChat) -> dict:
    return {p: fake.count(p) for p in ("/cgi-bin/user/info", "/cgi-bin/user/info/batchget")}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--events", "--n", dest="n", type=int, default=10_000, help="events stranded for the drain"
    )
    parser.add_argument("--poison", type=int, default=500, help="of which always fail")
    parser.add_argument("--customers", type=int, default=2000, help="senders of the drain's events")
    parser.add_argument("--baseline", type=int, default=1000, help="events of the baseline")
    parser.add_argument("--sweep-every", type=float, default=10.0, help="seconds between sweeps")
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    setup_start = time.monotonic()

    fake = FakeWeChat().start()
    fake.add_app(wxsign.MP["appid"], MP_SECRET)
    groups = {
        "warm": ("oWarm", 40, 40, 0, 700_000_000),
        "base": ("oBase", args.baseline, max(args.baseline, 1), 0, 800_000_000),
        "main": ("oMain", args.n, args.customers, args.poison, 900_000_000),
    }
    for prefix, _, customers, _, _ in groups.values():
        for i in range(customers):
            openid = f"{prefix}{i:05d}"
            fake.add_user(openid, nickname=f"业主{i}", sex=1 + i % 2, unionid=f"u{openid}")
    database_url = fresh_database("enrich_bench")
    env = environment(database_url, fake.url)
    queue_redis = redis.Redis.from_url(REDIS_URL)
    queue_redis.flushdb()
    flask(env, "db", "upgrade")

    port = free_port()
    server = start_gunicorn(env, "bench.enrich_wsgi:app", port)
    try:
        requests = [m for spec in groups.values() for m in messages(*spec)]
        stored = load(port, requests, concurrency=8, procs=4)
    finally:
        server.terminate()
        server.wait(10)
    queue_redis.flushdb()  # Redis lost: every stored event is stranded
    print(
        f"stored {stored['n']} callbacks in {stored['elapsed']:.1f} s ({stored['errors']} errors); Redis wiped"
    )

    conn = psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True)
    events = {name: Events(conn, spec[0]) for name, spec in groups.items()}
    worker = start_worker(env)
    sweeper = Sweeper(env, args.sweep_every)
    try:
        per_event_jobs(queue_redis, events["warm"].ids())
        events["warm"].wait(lambda c: c["pending"] == 0, timeout=300)
        setup_s = time.monotonic() - setup_start

        calls, cpu = wechat_calls(fake), cpu_seconds(worker.pid)
        base_ids = events["base"].ids()
        per_event_jobs(queue_redis, base_ids)
        base_s = events["base"].wait(lambda c: c["pending"] == 0, timeout=3600)
        base_calls = {k: v - calls[k] for k, v in wechat_calls(fake).items()}
        base_cpu = cpu_seconds(worker.pid) - cpu
        load_at_drain = os.getloadavg()

        calls, cpu = wechat_calls(fake), cpu_seconds(worker.pid)
        before = events["main"].counts()
        start = time.monotonic()
        first = sweeper.sweep()
        sweeper.start()
        events["main"].wait(lambda c: c["pending"] == 0, timeout=3600)
        drain_s = time.monotonic() - start
        drain_cpu = cpu_seconds(worker.pid) - cpu
        events["main"].wait(lambda c: c["parked"] == c["poison"], timeout=600)
        parked_s = time.monotonic() - start
        drain_calls = {k: v - calls[k] for k, v in wechat_calls(fake).items()}
        sweeper.stop.set()
        after = events["main"].counts()
    finally:
        worker.terminate()
        worker.wait(20)
        conn.close()
        fake.stop()
    real = before["stored"] - before["poison"]
    drain_rate = real / drain_s
    print(
        f"setup (not measured): {setup_s:.1f} s to store, wipe Redis, start and warm up the worker"
    )
    if base_ids:
        base_rate = len(base_ids) / base_s
        print(
            f"baseline: one job per event   {len(base_ids):>6} events in {base_s:7.1f} s  "
            f"{base_rate:7.1f} events/s   WeChat {base_calls}"
        )
    print(
        f"drain: sweep + batched drain  {real:>6} events in {drain_s:7.1f} s  "
        f"{drain_rate:7.1f} events/s   WeChat {drain_calls}"
    )
    print(
        f"  time to the last event: {drain_s:.1f} s (non-poison enriched), "
        f"{parked_s:.1f} s (poison parked)"
    )
    print(
        f"  handed over {first} events at the first sweep, then {sweeper.handed[1:]} "
        f"(retries of poison after their backoff)"
    )
    print(
        "worker CPU per event: "
        + (f"baseline {base_cpu / len(base_ids) * 1000:.1f} ms, " if base_ids else "")
        + f"drain {drain_cpu / before['stored'] * 1000:.1f} ms (a free core's ceiling: "
        f"{before['stored'] / drain_cpu:.0f} events/s)"
    )
    if base_ids:
        print(f"ratio drain/baseline   {drain_rate / base_rate:.1f}x")
    print(
        f"poison handled: {after['parked']} of {after['poison']} parked, the last after "
        f"{parked_s:.1f} s; enriched by mistake {after['poison_enriched']}"
    )
    left = after["pending"]
    print(
        f"left behind: {left} non-poison events not enriched, "
        f"{after['poison'] - after['parked']} poison not parked"
    )
    print(
        "load average (1, 5, 15 min): at the start "
        + ", ".join(f"{x:.2f}" for x in load_at_start)
        + "; at the drain's start "
        + ", ".join(f"{x:.2f}" for x in load_at_drain)
        + "; at the end "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
        + f" ({os.cpu_count()} cores)"
    )
    ok = (
        drain_rate >= 100
        and left == 0
        and after["parked"] == after["poison"] == args.poison
        and before["stored"] == args.n
        and not stored["errors"]
    )
    print("PASS" if ok else "FAIL")
    queue_redis.flushdb()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
