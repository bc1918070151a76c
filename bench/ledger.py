"""Referral ledger benchmark: referral events through the service against bare INSERTs.

    .venv/bin/python bench/ledger.py [--events 100000] [--workers 4] [--per-referrer 20]
                                     [--database ledger_bench]

Against a fresh PostgreSQL database (--database, default ledger_bench) and Redis (BENCH_REDIS_URL; notices are
queued there and never sent):
1. Setup, not timed: events/5 referees (new leads, each contacted by a sales rep so no
   review rule holds them), one referrer per --per-referrer referees with a code.
   REFERRAL_BURST_COUNT is raised: the bench attributes a referrer's 20 referees within
   seconds, which the review rule would rightly hold.
2. The service: --workers processes (each its own app and connection pool) take the
   referrals round-robin, so one referrer's account is written from every worker at once.
   Each referral is five events, each one transaction committed: the code entered
   (attribution.attribute), 量房, 签约, the same 签约 again (a redelivered event), 竣工
   (lifecycle.on_stage_changed). Rewards, notices and VIP are written as in production; the
   referrer's value is handed to its batched job (one RPUSH; the job is not run here).
3. The baseline, in the same processes through the same pools: as many bare INSERTs of one
   row, each its own transaction.
Prints both rates, their ratio, the workers' CPU per event (what a free machine would
allow: on a shared one the wall-clock rate mostly measures the others' load), and the
ledger's audit: referrals rewarded more than once
(duplicates) or not at all (lost), accounts whose balance is not the sum of their entries
or whose balance_after chain breaks.
Bars: the service at ≥ 25% of the bare-insert rate; no duplicate, lost or broken.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from bench.common import flask, fresh_database  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
SIGN_REWARD = 2000
STEPS = ("measured", "contract", "contract", "completed")  # after the code is entered
_app = None


def environment(database_url: str) -> dict:
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": "bench-secret",
        "DATA_KEY": "bench-data-key",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "ERROR",
        "REFERRAL_BURST_COUNT": "1000000",
        "REFERRAL_SIGN_REWARD": str(SIGN_REWARD),
    }


def setup(env: dict, referrals: int, per_referrer: int) -> list[tuple[str, int]]:
    """Referrers with codes, referees contacted by staff; (code, referee_id) per referral."""
    from app import create_app
    from app.core.extensions import db
    from app.models import Customer, ReferralCode, TimelineEvent

    app = create_app(env)
    with app.app_context():
        referrers = max(1, referrals // per_referrer)
        rows = [{"name": f"推荐人{i}", "stage": "after_sales"} for i in range(referrers)]
        rows += [{"name": f"朋友{i}", "stage": "lead"} for i in range(referrals)]
        ids = list(db.session.scalars(insert(Customer).returning(Customer.id), rows))
        referrer_ids, referee_ids = ids[:referrers], ids[referrers:]
        codes = [f"B{i:07d}" for i in range(referrers)]
        db.session.execute(
            insert(ReferralCode),
            [{"customer_id": c, "code": code} for c, code in zip(referrer_ids, codes, strict=True)],
        )
        contact = {
            "kind": "message",
            "channel": "wecom",
            "direction": "outbound",
            "actor_type": "staff",
        }
        db.session.execute(
            insert(TimelineEvent), [{"customer_id": c, **contact} for c in referee_ids]
        )
        db.session.execute(
            text("CREATE TABLE bench_rows (id bigserial PRIMARY KEY, n int, note text)")
        )
        db.session.commit()
    return [(codes[i % referrers], referee) for i, referee in enumerate(referee_ids)]


def _init(env: dict) -> None:
    global _app
    from app import create_app

    _app = create_app(env)


def _service(chunk: list[tuple[str, int]]) -> tuple[int, float]:
    """Five events per referral, each its own transaction; (events, CPU seconds)."""
    from app.core.extensions import db
    from app.models import Customer
    from app.services.referrals import attribution, lifecycle

    events, started = 0, time.process_time()
    with _app.app_context():
        for code, referee_id in chunk:
            attribution.attribute(db.session.get(Customer, referee_id), code, "mini")
            db.session.commit()
            events += 1
            stage = "lead"
            for new in STEPS:
                lifecycle.on_stage_changed(referee_id, stage, new)
                db.session.commit()
                stage, events = new, events + 1
            db.session.remove()
    return events, time.process_time() - started


def _bare(count: int) -> tuple[int, float]:
    """`count` single-row INSERTs through this process's pool, each committed; (rows, CPU
    seconds)."""
    from app.core.extensions import db

    statement = text("INSERT INTO bench_rows (n, note) VALUES (:n, :note)")
    started = time.process_time()
    with _app.app_context():
        engine = db.engine
        for n in range(count):
            with engine.begin() as conn:
                conn.execute(statement, {"n": n, "note": "bench"})
    return count, time.process_time() - started


def run(pool, func, shares: list) -> tuple[float, float]:
    """(events per second from the first start to the last end, the workers' CPU
    milliseconds per event) of `func` over `shares`."""
    started = time.perf_counter()
    results = pool.map(func, shares)
    elapsed = time.perf_counter() - started
    events = sum(n for n, _ in results)
    return events / elapsed, 1000 * sum(cpu for _, cpu in results) / events


AUDIT = {
    "duplicate": """
        SELECT count(*) FROM (
          SELECT referral_id FROM credit_entries WHERE step = 'signed'
          GROUP BY referral_id
          HAVING sum(CASE kind WHEN 'reward' THEN 1 WHEN 'reversal' THEN -1 ELSE 0 END) > 1
        ) d""",
    "lost": """
        SELECT count(*) FROM referrals r WHERE r.status = 'attributed'
          AND r.step IN ('signed', 'completed')
          AND NOT EXISTS (SELECT 1 FROM credit_entries e WHERE e.referral_id = r.id
                          AND e.step = 'signed' AND e.kind = 'reward')""",
    "balance_not_sum": """
        SELECT count(*) FROM credit_accounts a WHERE a.balance <>
          (SELECT coalesce(sum(amount), 0) FROM credit_entries e WHERE e.customer_id = a.customer_id)""",
    "balance_after_broken": """
        SELECT count(*) FROM (
          SELECT balance_after, sum(amount) OVER (PARTITION BY customer_id ORDER BY id) AS running
          FROM credit_entries) x WHERE balance_after <> running""",
    "not_attributed": "SELECT count(*) FROM referrals WHERE status <> 'attributed'",
    "rewards": "SELECT count(*) FROM credit_entries WHERE kind = 'reward' AND step = 'signed'",
}


def audit(env: dict) -> dict:
    from app import create_app
    from app.core.extensions import db

    with create_app(env).app_context():
        return {name: db.session.scalar(text(sql)) for name, sql in AUDIT.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--events", type=int, default=100_000, help="referral events (5 per referral)"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--per-referrer", type=int, default=20)
    parser.add_argument("--database", default="ledger_bench", help="created afresh")
    opts = parser.parse_args()
    referrals = max(1, opts.events // (1 + len(STEPS)))
    env = environment(fresh_database(opts.database))
    redis.Redis.from_url(REDIS_URL).flushdb()
    flask(env, "db", "upgrade")
    work = setup(env, referrals, opts.per_referrer)
    events = referrals * (1 + len(STEPS))
    print(f"{referrals} referrals, {events} events, {opts.workers} workers", flush=True)
    with get_context("fork").Pool(opts.workers, initializer=_init, initargs=(env,)) as pool:
        pool.map(_bare, [50] * opts.workers)  # warm-up: connections, statement caches
        shares = [work[i :: opts.workers] for i in range(opts.workers)]
        service, service_cpu = run(pool, _service, shares)
        share = events // opts.workers
        bare, bare_cpu = run(pool, _bare, [share] * opts.workers)
    found = audit(env)
    redis.Redis.from_url(REDIS_URL).flushdb()
    ratio = service / bare
    print(f"service: {service:,.0f} events/s   bare INSERT: {bare:,.0f} rows/s   ratio {ratio:.1%}")
    print(
        f"worker CPU per event: service {service_cpu:.1f} ms, bare INSERT {bare_cpu:.2f} ms"
        " (the database's own time is not in it)"
    )
    print("audit: " + ", ".join(f"{k} {v}" for k, v in found.items()))
    broken = (
        found["duplicate"]
        + found["lost"]
        + found["balance_not_sum"]
        + found["balance_after_broken"]
    )
    ok = ratio >= 0.25 and broken == 0 and found["rewards"] == referrals
    print("PASS" if ok else "FAIL", "(bar: ratio >= 25%, no duplicate, lost or broken)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
