"""Mini-program feed benchmark: project feed and detail through gunicorn on PostgreSQL.

    .venv/bin/python bench/mini_feed.py [--projects 10000] [--entries 1000000] [--n 4000] [--reuse]
        [--database zxcrm_bench_mini]

Fills a fresh database server-side (INSERT … SELECT generate_series through psycopg, not
the ORM): 10,000 homeowners with a mini-program identity, 10,000 projects of 8 nodes, and
1,000,000 progress entries (logs with 2 photos, every 7th a QC report), interleaved across
projects as real posting would be; then VACUUM ANALYZE and a CHECKPOINT (rows as they are a
few days after posting, not a bulk load seconds old). Then gunicorn with the production
settings (gunicorn.conf.py) serves GET /mini/v1/projects/<id>/feed, GET /mini/v1/projects/<id> and /healthz at concurrency 16.
Prints the CPU per request of gunicorn, PostgreSQL, Redis and the load generator (the
measure a shared machine moves least), and the EXPLAIN ANALYZE of the feed query (first page and a cursor page).
--reuse keeps the database of an earlier run when it holds the same sizes (the fill is most
of a run's time); the benchmark only reads, so the figures are comparable.
Bar: feed and detail p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy.dialects import postgresql  # noqa: E402

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

SECRET, MINI_APPID = "bench-secret", "wxbenchmini0001"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
PHOTO = (
    "jsonb_build_object('key', 'photos/2026/03/e' || g || '{0}.jpg', 'thumb', "
    "'photos/2026/03/e' || g || '{0}_thumb.jpg', 'type', 'image/jpeg', 'width', 1200, "
    "'height', 900)"
)
FILL = [
    "INSERT INTO stores (name, city, region, created_at) VALUES ('城东旗舰店', '上海', '', now())",
    """INSERT INTO staff (name, roles, store_id, active, created_at)
       VALUES ('王项目', 'pm', 1, true, now()), ('赵监理', 'supervisor', 1, true, now())""",
    """INSERT INTO customers (name, nickname, gender, city, community, address, source_channel,
                              stage, store_id, created_at, updated_at)
       SELECT '业主' || g, '', 'unknown', '上海', '', '', 'mini', 'construction', 1, now(), now()
       FROM generate_series(1, %(projects)s) g""",
    """INSERT INTO customer_identities (customer_id, kind, app_id, value, created_at)
       SELECT g, 'mini_openid', %(appid)s, 'oBench' || g, now() FROM generate_series(1, %(projects)s) g""",
    # Homeowner g's session token is 'bench-token-g' (requests() sends it); its SHA-256 is kept.
    """INSERT INTO mini_sessions (token_hash, identity_id, created_at, expires_at)
       SELECT encode(sha256(convert_to('bench-token-' || g, 'UTF8')), 'hex'), g, now(),
              now() + interval '10 years'
       FROM generate_series(1, %(projects)s) g""",
    """INSERT INTO projects (customer_id, store_id, address, community, package_name,
                             contract_amount_fen, pm_id, supervisor_id, status, created_at, updated_at)
       SELECT g, 1, '锦绣路 ' || g || ' 号', '锦绣苑', '全包 899', 18800000, 1, 2, 'active', now(), now()
       FROM generate_series(1, %(projects)s) g""",
    """INSERT INTO project_nodes (project_id, name, position, status, rejection_count, updated_at,
                                  planned_start, planned_end)
       SELECT p, (ARRAY['开工交底','水电改造','水电验收','泥瓦','木工','油漆','安装','竣工验收'])[n], n,
              CASE WHEN n <= 3 THEN 'accepted' WHEN n = 4 THEN 'in_progress' ELSE 'not_started' END,
              0, now(), current_date + (n - 4) * 7, current_date + (n - 4) * 7 + 6
       FROM generate_series(1, %(projects)s) p, generate_series(1, 8) n ORDER BY p, n""",
    """INSERT INTO progress_entries (project_id, node_id, kind, author_staff_id, text, photos,
                                     findings, created_at)
       SELECT g %% %(projects)s + 1, (g %% %(projects)s) * 8 + 1 + (g / %(projects)s) %% 4,
              CASE WHEN g %% 7 = 0 THEN 'qc' ELSE 'log' END,
              CASE WHEN g %% 7 = 0 THEN 2 ELSE 1 END,
              '今天完成卫生间防水涂刷第二遍，闭水试验明天开始 #' || g,
              CASE WHEN g %% 7 = 0 THEN '[]'::jsonb
                   ELSE jsonb_build_array(PHOTO_A, PHOTO_B) END,
              CASE WHEN g %% 7 = 0
                   THEN '[{"text": "插座高度不一致", "hazard": "low", "photo": null}]'::jsonb
                   ELSE '[]'::jsonb END,
              now() - make_interval(secs => (%(entries)s - g) * 8)
       FROM generate_series(1, %(entries)s) g""",
    # A site's rows are days old when homeowners read them: with autovacuum off on the bench
    # server, the first reads would otherwise set every page's hint bits (dirtying them), and
    # the fill's write-back could run as a checkpoint during the measurement.
    "VACUUM ANALYZE",
    "CHECKPOINT",
]


def environment(database_url: str) -> dict:
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATA_KEY": "bench-data-key",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "WARNING",
        "WECHAT_MINI_APPID": MINI_APPID,
        "WECHAT_MINI_SECRET": "x",
        "WECHAT_API_BASE": "http://127.0.0.1:9",
        "WECOM_API_BASE": "http://127.0.0.1:9",
    }


def fill(dsn: str, projects: int, entries: int) -> None:
    params = {"projects": projects, "entries": entries, "appid": MINI_APPID}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in FILL:
            start = time.perf_counter()
            sql = statement.replace("PHOTO_A", PHOTO.format("a")).replace(
                "PHOTO_B", PHOTO.format("b")
            )
            conn.execute(sql, params if "%(" in sql else None)
            label = " ".join(statement.split()[:3:2])
            print(f"  {label:<32} {time.perf_counter() - start:6.1f} s")


def filled(database_url: str, projects: int, entries: int) -> bool:
    """Whether the database of an earlier run holds these sizes already."""
    dsn = database_url.replace("+psycopg", "")
    try:
        with psycopg.connect(dsn) as conn:
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM projects), (SELECT count(*) FROM progress_entries),"
                " (SELECT count(*) FROM mini_sessions)"
            ).fetchone()
    except psycopg.Error:
        return False
    return counts == (projects, entries, projects)


def prepare(args) -> str:
    """The filled database's URL: a fresh fill, or with --reuse an earlier one of this size."""
    name = args.database
    reused = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    if args.reuse and filled(reused, args.projects, args.entries):
        print(f"reusing {name}: {args.projects} projects, {args.entries} progress entries")
        flask(environment(reused), "db", "upgrade")
        return reused
    database_url = fresh_database(name)
    flask(environment(database_url), "db", "upgrade")
    print(f"filling {args.projects} projects, {args.entries} progress entries:")
    fill(database_url.replace("+psycopg", ""), args.projects, args.entries)
    return database_url


def explain(dsn: str, project_id: int) -> None:
    from app.services.projects.progress import FEED_STATEMENTS

    with psycopg.connect(dsn) as conn:
        last = conn.execute(
            "SELECT created_at, id FROM progress_entries WHERE project_id = %s "
            "ORDER BY created_at DESC, id DESC OFFSET 19 LIMIT 1",
            [project_id],
        ).fetchone()
        # The statement the mini program's feed runs, for the project's owner.
        params = {
            "project_id": project_id,
            "limit": 21,
            "token_hash": hashlib.sha256(token(project_id).encode()).hexdigest(),
            "now": datetime.now(UTC),
            "before_at": last[0],
            "before_id": last[1],
        }
        for label, cursor in (("first page", False), ("cursor page", True)):
            query = FEED_STATEMENTS[(True, cursor)].statement.params(params)
            sql = str(
                query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
            )
            plan = [row[0] for row in conn.execute("EXPLAIN ANALYZE " + sql)]
            print(f"\nEXPLAIN ANALYZE feed query ({label}):\n  " + "\n  ".join(plan))
            uses = any("ix_progress_project_recent" in line for line in plan)
            print(f"  → uses index ix_progress_project_recent: {'yes' if uses else 'NO'}")


def token(project_id: int) -> str:
    """The session token of the project's homeowner (FILL stores its hash)."""
    return f"bench-token-{project_id}"


def requests(projects: int, n: int) -> tuple[list, list]:
    rng = random.Random(5)
    feed, detail = [], []
    for _ in range(n):
        pid = rng.randint(1, projects)
        feed.append(
            ("GET", f"/mini/v1/projects/{pid}/feed?limit=20&bench_token={token(pid)}", None)
        )
        detail.append(("GET", f"/mini/v1/projects/{pid}?bench_token={token(pid)}", None))
    return feed, detail


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (0: production)")
    parser.add_argument("--threads", type=int, default=0, help="threads per worker (0: production)")
    parser.add_argument(
        "--reuse", action="store_true", help="keep an earlier run's database of the same sizes"
    )
    parser.add_argument("--database", default="zxcrm_bench_mini", help="created afresh")
    args = parser.parse_args()

    database_url = prepare(args)
    env = environment(database_url)
    dsn = database_url.replace("+psycopg", "")
    feed, detail = requests(args.projects, args.n)
    port = free_port()
    server = start_gunicorn(env, "bench.mini_wsgi:app", port, args.workers, args.threads)
    cpu = CpuMeter(server.pid, database_url.rsplit("/", 1)[1])
    try:
        load(port, feed[:400] + detail[:400])  # warm up connections and caches
        health = cpu.measure(load, port, [("GET", "/healthz", None)] * args.n)
        feed_stats = cpu.measure(load, port, feed)
        detail_stats = cpu.measure(load, port, detail)
    finally:
        server.terminate()
        server.wait(10)
    print()
    for label, stats in (
        ("healthz", health),
        ("mini feed", feed_stats),
        ("mini project detail", detail_stats),
    ):
        print(describe(label, stats))
    print("\nCPU ms per request (gunicorn, PostgreSQL, Redis, load generator):")
    for label, stats in (("healthz", health), ("feed", feed_stats), ("detail", detail_stats)):
        print(f"  {label:<7} {cpu.describe(stats)}")
    explain(dsn, random.Random(9).randint(1, args.projects))
    ok = all(s["p99_ms"] < 50 and not s["errors"] for s in (feed_stats, detail_stats))
    print("\nPASS" if ok else "\nFAIL", "(bar: feed and detail p99 < 50 ms, no errors)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
