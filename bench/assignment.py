"""Lead assignment and SLA sweep benchmark (issue 16), on PostgreSQL.

    .venv/bin/python bench/assignment.py [--leads 10000] [--threads 16] [--open 100000] [--overdue 1000]

(`--leads 0` runs the SLA sweep part only.)

Against a fresh PostgreSQL database (BENCH_PG_ADMIN), with jobs queued to BENCH_REDIS_URL
(nothing is sent):
1. 50 reps in two stores and 20 assignment rules: 19 match a QR scene (mp_qr:s0 … s18),
   the last one everything else; the 50 reps are split into 20 disjoint groups (2–3 each).
2. Baseline: --leads new customers arrive from --threads concurrent callbacks (threads, each
   with its own connection, as the callback does: find or create the identity, commit),
   with no assignment.
3. The same number of other new customers arrive the same way, each followed by what the
   enrichment worker does for a first contact: the "lead_created" hook (rule match, the
   rule's row locked FOR UPDATE, the next rep, lead row, move, timeline, audit, the
   lead-assigned notice), commit. Sources are spread over the 20 scenes and "mp".
Prints leads/s of both and their ratio, the largest and smallest count per rep within each
rule's group (round-robin: they differ by at most 1), and leads left without an owner or
assigned twice (must be 0).
4. The SLA sweep: --open open leads awaiting their first response (customers and leads
   inserted in bulk), --overdue of them past their target. Timed: the sweep (indexed
   response_due_at: only the due rows are read; each alerts its rep and store manager once)
   against the baseline of computing every open lead's due time in working time from its
   first message (what a sweep without the stored due column would do). Bar: under 2 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402

from bench.common import fresh_database  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
SCENES = 19


def make_app(database_url: str):
    from app import create_app

    return create_app(
        {
            **os.environ,
            "APP_ENV": "production",
            "SECRET_KEY": "bench-secret",
            "DATA_KEY": "bench-data-key",
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "LOG_LEVEL": "ERROR",
        }
    )


def setup_team(app) -> dict[int, list[int]]:
    """50 reps, 20 rules; {rule id: its reps}."""
    from app.core.extensions import db
    from app.services.customers import staff as staff_service
    from app.services.sales import rules

    with app.app_context():
        admin = staff_service.create("管理员", "admin")
        for store in ("城东旗舰店", "城西体验店"):
            staff_service.create(f"{store}店长", "manager", store=store)
        reps = [
            staff_service.create(
                f"销售{i:02d}", "sales", store="城东旗舰店" if i % 2 else "城西体验店"
            )
            for i in range(50)
        ]
        groups: dict[int, list[int]] = {}
        for r in range(20):
            members = [rep.id for k, rep in enumerate(reps) if k % 20 == r]
            source = f"mp_qr:s{r}" if r < SCENES else ""
            row = rules.save(
                None,
                {"name": f"规则{r}", "position": r, "source": source, "rep_ids": members},
                admin,
            )
            groups[row.id] = members
        db.session.commit()
        db.session.remove()
    return groups


def arrive(app, n: int, threads: int, prefix: str, assign: bool) -> float:
    """n new customers from `threads` concurrent callers; seconds taken."""
    from app.core import hooks
    from app.core.extensions import db
    from app.services.customers import customers

    counter = iter(range(n))
    lock, errors = threading.Lock(), []
    barrier = threading.Barrier(threads + 1)

    def worker():
        with app.app_context():
            barrier.wait()
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    break
                source = f"mp_qr:s{i % (SCENES + 1)}" if i % (SCENES + 1) < SCENES else "mp"
                try:
                    identity, _ = customers.find_or_create_identity(
                        "mp_openid", f"{prefix}{i:08d}", "wxbench", source_channel=source
                    )
                    db.session.commit()
                    if assign:
                        hooks.run("lead_created", identity.customer_id, source)
                        db.session.commit()
                except Exception as exc:  # noqa: BLE001 - counted and shown
                    db.session.rollback()
                    errors.append(repr(exc))
            db.session.remove()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        print(f"  errors: {len(errors)}, first: {errors[0]}")
    return elapsed


def fairness(app, groups: dict[int, list[int]], prefix: str) -> None:
    from app.core.extensions import db
    from app.models import Customer, Lead, LeadMove

    with app.app_context():
        moves = db.session.execute(
            select(LeadMove.rule_id, LeadMove.to_staff_id).where(LeadMove.kind == "assign")
        ).all()
        per_rule: dict[int, Counter] = defaultdict(Counter)
        for rule_id, staff_id in moves:
            per_rule[rule_id][staff_id] += 1
        spreads = []
        for rule_id, members in groups.items():
            counts = [per_rule[rule_id].get(m, 0) for m in members]
            spreads.append((max(counts) - min(counts), max(counts), min(counts)))
        worst = max(spreads)
        new = select(Customer.id).where(Customer.source_channel.is_not(None))
        without = db.session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(Lead.owner_id.is_(None), Lead.customer_id.in_(new))
        )
        missing = db.session.scalar(
            text(
                "SELECT count(*) FROM customers c JOIN customer_identities i ON i.customer_id = c.id"
                " WHERE i.value LIKE :p AND NOT EXISTS (SELECT 1 FROM leads l"
                " WHERE l.customer_id = c.id AND l.owner_id IS NOT NULL)"
            ),
            {"p": f"{prefix}%"},
        )
        twice = db.session.scalar(
            text(
                "SELECT count(*) FROM (SELECT customer_id FROM lead_moves WHERE kind = 'assign'"
                " GROUP BY customer_id HAVING count(*) > 1) t"
            )
        )
        print(
            f"  per rep within a group: largest spread {worst[0]} (max {worst[1]}, min {worst[2]});"
            f" every group: {sorted({s[0] for s in spreads})}"
        )
        print(
            f"  leads without an owner: {missing} (lead rows unowned: {without}); assigned twice: {twice}"
        )
        db.session.remove()


def seed_open_leads(app, n: int, overdue: int) -> None:
    """n customers with an open first-response SLA; `overdue` of them past due."""
    from app.core.extensions import db

    with app.app_context():
        store_id = db.session.scalar(text("SELECT id FROM stores ORDER BY id LIMIT 1"))
        owner = db.session.scalar(text("SELECT min(id) FROM staff WHERE roles = 'sales'"))
        db.session.execute(
            text(
                "INSERT INTO customers (name, nickname, gender, city, community, address,"
                " source_channel, stage, owner_id, store_id, created_at, updated_at)"
                " SELECT 'SLA' || g, '', 'unknown', '', '', '', 'sla-bench', 'lead', :owner,"
                " :store, now(), now() FROM generate_series(1, :n) g"
            ),
            {"n": n, "owner": owner, "store": store_id},
        )
        db.session.execute(
            text(
                "INSERT INTO leads (customer_id, state, owner_id, store_id, source, assigned_at,"
                " first_inbound_at, response_target_at, response_due_at, idle_since, pool_reason,"
                " created_at)"
                " SELECT c.id, 'owned', c.owner_id, c.store_id, 'sla-bench', now(), t.first,"
                " t.first + interval '15 minutes', t.first + interval '15 minutes', now(), '', now()"
                " FROM (SELECT id, owner_id, store_id, row_number() OVER (ORDER BY id) AS k"
                "       FROM customers WHERE source_channel = 'sla-bench') c,"
                " LATERAL (SELECT CASE WHEN c.k <= :overdue THEN now() - interval '7 days'"
                "          ELSE now() + (c.k % 600) * interval '1 minute' END AS first) t"
            ),
            {"overdue": overdue},
        )
        db.session.commit()
        db.session.execute(text("ANALYZE leads"))
        db.session.commit()
        db.session.remove()


def sweep_bench(app, n: int, overdue: int) -> None:
    from app.core.extensions import db
    from app.models import Lead, Notice
    from app.models.types import utcnow
    from app.services.sales import clock, leads, sla

    with app.app_context():
        cal = leads.calendar()
        started = time.perf_counter()
        rows = db.session.execute(
            select(Lead.customer_id, Lead.first_inbound_at).where(
                Lead.responded_at.is_(None), Lead.first_inbound_at.is_not(None)
            )
        ).all()
        now = utcnow()
        late = sum(1 for _, first in rows if clock.add_working_minutes(cal, first, 15) <= now)
        baseline = time.perf_counter() - started
        db.session.rollback()
        started = time.perf_counter()
        total = 0
        while done := sla.sweep(utcnow()):
            db.session.commit()
            total += done
        elapsed = time.perf_counter() - started
        notices = db.session.scalar(
            select(func.count()).select_from(Notice).where(Notice.kind == "response-overdue")
        )
        again = sla.sweep(utcnow())
        db.session.commit()
        print(
            f"  baseline (every open lead's due time computed): {baseline:.2f} s for {len(rows)}"
            f" open leads ({late} late in working time)"
        )
        print(
            f"  sweep (indexed due column): {elapsed:.2f} s, {total} overdue alerted,"
            f" {notices} notices (rep + manager); a second run finds {again};"
            f" {baseline / elapsed:.1f}x the baseline; bar < 2 s: {'met' if elapsed < 2 else 'MISSED'}"
        )
        db.session.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--overdue", type=int, default=1_000)
    args = parser.parse_args()

    url = fresh_database("bench_sales")
    app = make_app(url.replace("postgresql://", "postgresql+psycopg://"))
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    groups = setup_team(app)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    if args.leads:
        print(f"{args.leads} new leads from {args.threads} concurrent callers, 20 rules, 50 reps")
        base = arrive(app, args.leads, args.threads, "oBASE", assign=False)
        print(f"  baseline (customer created, no assignment): {args.leads / base:.0f} leads/s")
        took = arrive(app, args.leads, args.threads, "oLEAD", assign=True)
        rate = args.leads / took
        ratio = rate / (args.leads / base)
        print(f"  created and assigned: {rate:.0f} leads/s ({ratio:.2f}x the baseline)")
        fairness(app, groups, "oLEAD")
    print(f"SLA sweep over {args.open} open leads, {args.overdue} overdue")
    seed_open_leads(app, args.open, args.overdue)
    sweep_bench(app, args.open, args.overdue)
    redis.Redis.from_url(REDIS_URL).flushdb()


if __name__ == "__main__":
    main()
