"""Staff console benchmark: the customer list, the customer page and the timeline's second
page through gunicorn on PostgreSQL, signed in as a store manager and as a sales rep.

    .venv/bin/python bench/console.py [--customers 100000] [--events 5000000] [--n 800] [--reuse]

Fills a fresh database server-side (INSERT … SELECT generate_series, not the ORM): 2 stores,
2 managers and 50 reps, 100,000 customers (half per store, 2,000 per rep) each with an
official-account identity, three intent tags each (each 风格 value on one customer in ten, in both stores) and an
encrypted phone with its keyed hash (computed here, copied in), and 5,000,000 timeline
events (50 per customer, interleaved over a year as real traffic would be: messages in and
out, notes, tags). Then VACUUM ANALYZE and a CHECKPOINT. gunicorn with the production
settings (gunicorn.conf.py) serves, at concurrency 8, each page in turn against /healthz
measured in the same run, and the CPU each request cost the server and PostgreSQL (a figure
other load on the machine does not change). Prints the EXPLAIN ANALYZE of each page's main
queries.
--reuse keeps the database of an earlier run of the same sizes (the fill is most of a run).
Bar: every page's p99 under 200 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
import requests as http  # noqa: E402
from sqlalchemy.dialects import postgresql  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from bench.common import (  # noqa: E402
    PG_ADMIN,
    CpuMeter,
    describe,
    flask,
    free_port,
    fresh_database,
    load,
    start_gunicorn,
)

# BENCH_CONSOLE_DB: a database name of one's own when several people bench one server.
DB_NAME = os.environ.get("BENCH_CONSOLE_DB", "console_bench_console")
SECRET, DATA_KEY, PASSWORD = "bench-secret", "bench-data-key-0123456789", "bench-pass-1"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
REPS = 50
STYLES = ("现代简约", "新中式", "北欧", "欧式", "美式", "日式", "轻奢", "工业风", "法式", "地中海")
FILL = [
    """INSERT INTO stores (name, city, region, created_at)
       VALUES ('城东旗舰店', '杭州', '', now()), ('城西体验店', '杭州', '', now())""",
    # staff 1 and 2: the store managers; 3 … 52: reps, alternating stores.
    """INSERT INTO staff (name, roles, store_id, active, password_hash, created_at)
       SELECT CASE WHEN g <= 2 THEN '店长' || g ELSE '销售' || g END,
              CASE WHEN g <= 2 THEN 'manager' ELSE 'sales' END,
              CASE WHEN g <= 2 THEN g ELSE (g %% 2) + 1 END, true, %(hash)s, now()
       FROM generate_series(1, %(reps)s + 2) g""",
    """INSERT INTO customers (id, name, nickname, gender, city, community, address, source_channel,
                              stage, owner_id, store_id, created_at, updated_at)
       SELECT g, (ARRAY['张','王','李','赵','刘','陈','杨','黄'])[g %% 8 + 1] || '女士' || g, '',
              'unknown', '杭州', '绿城桂花园', '', (ARRAY['mp','wecom','mini','demo'])[g %% 4 + 1],
              (ARRAY['lead','measured','design','quoted','contract','construction'])[g %% 6 + 1],
              3 + g %% %(reps)s, (3 + g %% %(reps)s) %% 2 + 1,
              now() - make_interval(mins => %(customers)s - g), now() - make_interval(mins => g %% 5000)
       FROM generate_series(1, %(customers)s) g""",
    "SELECT setval('customers_id_seq', %(customers)s)",
    """INSERT INTO customer_identities (customer_id, kind, app_id, value, subscribed,
                                        last_inbound_at, created_at)
       SELECT g, 'mp_openid', 'wxbenchmp', 'oBench' || g, true,
              now() - make_interval(hours => g %% 96), now()
       FROM generate_series(1, %(customers)s) g""",
    """INSERT INTO tags (dimension, value)
       SELECT '风格', s FROM unnest(%(styles)s::text[]) s
       UNION ALL SELECT '预算', s FROM unnest(ARRAY['高端','中端','经济']) s
       UNION ALL SELECT '空间', s FROM unnest(ARRAY['全屋','客厅','卧室','厨房','卫生间']) s""",
    """INSERT INTO customer_tags (customer_id, tag_id, source, evidence, created_at)
       SELECT g, t.id, 'auto', jsonb_build_object('words', jsonb_build_array(t.value)), now()
       FROM generate_series(1, %(customers)s) g
       JOIN tags t ON (t.dimension = '风格' AND t.value = (%(styles)s::text[])[g / 2 %% 10 + 1])
                   OR (t.dimension = '预算' AND t.value = (ARRAY['高端','中端','经济'])[g %% 3 + 1])
                   OR (t.dimension = '空间' AND t.value = (ARRAY['全屋','客厅','卧室','厨房','卫生间'])[g %% 5 + 1])""",
    # 50 events a customer over the past year, interleaved as real traffic arrives.
    """INSERT INTO timeline_events (customer_id, occurred_at, kind, channel, direction, actor_type,
                                    actor_staff_id, payload, needs_enrichment, created_at)
       SELECT c, at, k, CASE WHEN k IN ('note', 'tag_added') THEN 'console' ELSE 'mp' END,
              CASE WHEN k = 'message' AND g %% 20 IN (2, 3) THEN 'outbound'
                   WHEN k = 'message' THEN 'inbound' ELSE 'internal' END,
              CASE WHEN g %% 20 IN (0, 2, 3) THEN 'staff' WHEN g %% 20 = 1 THEN 'system' ELSE 'customer' END,
              CASE WHEN g %% 20 IN (0, 2, 3) THEN 3 + c %% %(reps)s END,
              CASE WHEN k = 'tag_added' THEN jsonb_build_object('tag', '风格:北欧', 'source', 'auto')
                   ELSE jsonb_build_object('msg_type', 'text',
                        'content', '想了解一下全屋定制，大概多少钱一平？#' || g) END,
              false, at
       FROM (SELECT g, g %% %(customers)s + 1 AS c,
                    now() - make_interval(secs => (%(events)s - g) * 31536000.0 / %(events)s) AS at,
                    CASE g %% 20 WHEN 0 THEN 'note' WHEN 1 THEN 'tag_added' ELSE 'message' END AS k
             FROM generate_series(1, %(events)s) g) s""",
    "VACUUM ANALYZE",
    "CHECKPOINT",
]


def environment(database_url: str) -> dict:
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATA_KEY": DATA_KEY,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "WARNING",
        "CONSOLE_COOKIE_SECURE": "false",  # the benchmark talks plain http on loopback
        "WECHAT_API_BASE": "http://127.0.0.1:9",
        "WECOM_API_BASE": "http://127.0.0.1:9",
    }


def phone_of(n: int) -> str:
    return f"139{n:08d}"


def _phones(conn, customers: int) -> None:
    """Encrypt each phone and compute its keyed hash as the app does, then COPY them in."""
    from app.core import pii

    keys = pii.data_keys(DATA_KEY)
    conn.execute("CREATE TEMP TABLE phones (id int, enc text, hash text)")
    with conn.cursor().copy("COPY phones FROM STDIN") as copy:
        for n in range(1, customers + 1):
            phone = phone_of(n)
            copy.write_row((n, pii.encrypt(keys, phone), pii.phone_hash(keys, phone)))
    conn.execute(
        "UPDATE customers c SET phone_enc = p.enc, phone_hash = p.hash FROM phones p WHERE p.id = c.id"
    )


def fill(dsn: str, customers: int, events: int) -> None:
    params = {
        "customers": customers,
        "events": events,
        "reps": REPS,
        "styles": list(STYLES),
        "hash": generate_password_hash(PASSWORD),
    }
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in FILL:
            start = time.perf_counter()
            if statement.startswith("VACUUM"):
                _phones(conn, customers)
            conn.execute(statement, params if "%(" in statement else None)
            label = " ".join(statement.split()[:3:2])
            print(f"  {label:<32} {time.perf_counter() - start:6.1f} s", flush=True)


def prepare(args) -> str:
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{DB_NAME}"
    if args.reuse:
        try:
            with psycopg.connect(url) as conn:
                counts = conn.execute(
                    "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM timeline_events)"
                ).fetchone()
            if counts == (args.customers, args.events):
                print(f"reusing {DB_NAME}: {counts[0]} customers, {counts[1]} events")
                flask(environment(url), "db", "upgrade")
                return url
        except psycopg.Error:
            pass
    database_url = fresh_database(DB_NAME)
    flask(environment(database_url), "db", "upgrade")
    print(f"filling {args.customers} customers, {args.events} timeline events:", flush=True)
    fill(database_url.replace("+psycopg", ""), args.customers, args.events)
    return database_url


def sign_in(port: int, name: str) -> str:
    """The session cookie of `name`, signed in through the login form."""
    session = http.Session()
    base = f"http://127.0.0.1:{port}/console"
    page = session.get(f"{base}/login").text
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    form = {"csrf_token": token.group(1), "login": name, "password": PASSWORD}
    answer = session.post(f"{base}/login", data=form, allow_redirects=False)
    assert answer.status_code == 302, answer.text[:500]
    return session.cookies["zx_console"]


def _visible(dsn: str, rep_id: int | None, customers: int, rng) -> int:
    """A random customer the rep owns (or any, for the manager of store 1)."""
    while True:
        n = rng.randint(1, customers)
        if rep_id is None and (3 + n % REPS) % 2 + 1 == 1:
            return n
        if rep_id is not None and 3 + n % REPS == rep_id:
            return n


def _second_page_cursor(conn, customer_id: int) -> str:
    from app.core import cursors

    at, ident = conn.execute(
        "SELECT occurred_at, id FROM timeline_events WHERE customer_id = %s "
        "ORDER BY occurred_at DESC, id DESC OFFSET 19 LIMIT 1",
        [customer_id],
    ).fetchone()
    return cursors.encode(at, ident)


def series(dsn: str, who: str, rep_id: int | None, cookie: str, customers: int, n: int) -> dict:
    """(label → requests) of each page, for one signed-in person."""
    rng = random.Random(7)
    c = quote(cookie)
    picks = [_visible(dsn, rep_id, customers, rng) for _ in range(n)]
    with psycopg.connect(dsn) as conn:
        cursors = {p: _second_page_cursor(conn, p) for p in set(picks[: n // 2])}
    pages = {
        "list": [f"/console/customers?bench_cookie={c}"] * n,
        "list by tag": [
            f"/console/customers?tag={quote('风格:' + rng.choice(STYLES))}&bench_cookie={c}"
            for _ in range(n)
        ],
        "list by phone": [f"/console/customers?q={phone_of(p)}&bench_cookie={c}" for p in picks],
        "customer page": [f"/console/customers/{p}?bench_cookie={c}" for p in picks],
        "timeline page 2": [
            f"/console/customers/{p}?before={cursors[p]}&bench_cookie={c}" for p in picks[: n // 2]
        ]
        * 2,
    }
    return {
        f"{who}: {label}": [("GET", path, None) for path in paths] for label, paths in pages.items()
    }


def explain(database_url: str, customers: int) -> None:
    """EXPLAIN ANALYZE of the list's queries (as the manager and a rep) and the timeline's."""
    from app import create_app
    from app.core.extensions import db
    from app.models import Staff
    from app.services.customers import directory, timeline
    from app.services.customers.directory import Filters

    app = create_app(environment(database_url))
    dsn = database_url.replace("+psycopg", "")
    with app.app_context(), psycopg.connect(dsn) as conn:
        manager, rep = db.session.get(Staff, 1), db.session.get(Staff, 3)
        customer = _visible(dsn, 3, customers, random.Random(3))
        cases = [
            ("manager: list", directory.query(manager, Filters())),
            ("manager: list by tag", directory.query(manager, Filters(tag="风格:北欧"))),
            ("manager: list by phone", directory.query(manager, Filters(q=phone_of(customer)))),
            ("rep: list", directory.query(rep, Filters())),
            ("rep: list by tag", directory.query(rep, Filters(tag="风格:北欧"))),
            ("rep: list by phone", directory.query(rep, Filters(q=phone_of(customer)))),
        ]
        first = timeline.page_query(customer, None, 20)
        cases.append(("customer page: timeline first page", first))
        cursor = _second_page_cursor(conn, customer)
        cases.append(("timeline page 2", timeline.page_query(customer, cursor, 20)))
        for label, query in cases:
            sql = str(
                query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
            )
            plan = [row[0] for row in conn.execute("EXPLAIN ANALYZE " + sql)]
            print(f"\nEXPLAIN ANALYZE {label}:\n  " + "\n  ".join(plan))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--n", type=int, default=800, help="requests per page and person")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (0: production)")
    parser.add_argument("--threads", type=int, default=0, help="threads per worker (0: production)")
    parser.add_argument("--reuse", action="store_true", help="keep an earlier run's database")
    args = parser.parse_args()

    database_url = prepare(args)
    env = environment(database_url)
    dsn = database_url.replace("+psycopg", "")
    port = free_port()
    server = start_gunicorn(env, "bench.console_wsgi:app", port, args.workers, args.threads)
    results = []
    try:
        people = {"manager": (None, sign_in(port, "店长1")), "rep": (3, sign_in(port, "销售3"))}
        work = {}
        for who, (rep_id, cookie) in people.items():
            work.update(series(dsn, who, rep_id, cookie, args.customers, args.n))
        warm = [r for reqs in work.values() for r in reqs[:40]]
        load(port, warm, concurrency=8, procs=2)  # connections, caches, the first compile
        meter = CpuMeter(server.pid)
        health = [("GET", f"/healthz?bench_cookie={quote(people['rep'][1])}", None)] * args.n
        results.append(("healthz", meter.measure(load, port, health, concurrency=8, procs=2)))
        for label, reqs in work.items():
            results.append((label, meter.measure(load, port, reqs, concurrency=8, procs=2)))
    finally:
        server.terminate()
        server.wait(10)
    print()
    for label, stats in results:
        print(describe(label, stats))
    # CPU per request does not depend on what else runs on the machine: on two free cores
    # at concurrency 8, a page's latency is about its gunicorn + PostgreSQL CPU times 4.
    print("\nCPU ms per request (gunicorn, PostgreSQL, Redis, load generator):")
    for label, stats in results:
        print(f"  {label:<26} {CpuMeter.describe(stats)}")
    explain(database_url, args.customers)
    pages = [s for label, s in results if label != "healthz"]
    ok = all(s["p99_ms"] < 200 and not s["errors"] for s in pages)
    print("\nPASS" if ok else "\nFAIL", "(bar: every page p99 < 200 ms, no errors)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
