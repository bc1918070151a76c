"""Material traceability benchmark: 10,000 codes with PNGs and the label PDF, then the public
scan page through gunicorn against /healthz of the same server.

    .venv/bin/python bench/trace.py [--codes 10000] [--n 6000] [--rounds 3] [--scan-only]
                                    [--database trace_bench]

1. In-process on a fresh PostgreSQL database: generate --codes trace codes for one batch
   (the staff API's service), draw every code's QR as a PNG, and lay all of them out as the
   A4 label sheet PDF. Prints the seconds of each step and the process's peak memory (max
   RSS), and, as the baseline measured in the same run, qrcode's own one-call PNG
   (`qrcode.make`, best mask chosen) on a sample, extrapolated to --codes.
   Bar: codes + PNGs + PDF in under 30 s.
2. gunicorn with the production settings (gunicorn.conf.py) serves GET /t/<code> for random
   codes of that batch (half delivered to a site, so the page shows the delivery and the
   community) and GET /healthz at concurrency 16, alternated in --rounds rounds (bench.common
   .alternate). Every scan is a real one: the rate limit counted (all load comes from one
   address, its limit raised to 10^9: a process counts alone up to a tenth of a window's
   room, app.core.rate_limit.allow_batched, so here, as for a homeowner's few openings, it
   never reaches Redis; a client near its limit asks Redis at each opening), the code
   counted and a scan row stored:
   with production's TRACE_SCAN_FLUSH_MS each worker holds the batch's codes after its
   8 first scans of it (written in the request) and writes its scans every 50 ms (app.services.trace.scanbook; that
   thread's CPU is gunicorn's), and after gunicorn's graceful stop the run checks that
   every scan sent is a row and counted on its code. The page's
   catalog part comes from each process's cache (app.services.trace.pagecache), here two
   entries (the batch undelivered and delivered): the hit path, which is what a busy site
   runs; a miss costs one more read per batch and delivery per process every 30 s.
   A third series opens a malformed code (the rate limit and the 404 page, no database
   query): the floor of what any scan page costs here.
   Bar: scan page p99 < 50 ms and throughput ≥ 50% of /healthz.
--scan-only skips the PNGs and the PDF (step 1 then only generates the codes); --database
names the PostgreSQL database created afresh, so two checkouts can run it side by side.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import io  # noqa: E402

import qrcode  # noqa: E402
import redis  # noqa: E402

from bench.common import (  # noqa: E402
    CpuMeter,
    alternate,
    describe,
    flask,
    free_port,
    fresh_database,
    start_gunicorn,
    stop,
)

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
DATABASE = "trace_bench"  # the default of --database


def environment(database_url: str, codes: int) -> dict:
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": "bench-secret",
        "DATA_KEY": "bench-data-key",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "WARNING",
        "TRACE_PUBLIC_BASE": "https://trace.example.com",
        "TRACE_MAX_CODES": str(codes),
        "TRACE_SCAN_LIMIT": str(10**9),
        "WECHAT_API_BASE": "http://127.0.0.1:9",
        "WECOM_API_BASE": "http://127.0.0.1:9",
    }


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(count: int):
    """A site, a staff member and a tile batch; the batch."""
    from app.cli.seed import DEMO_TILE
    from app.core.extensions import db
    from app.models import Customer, Project
    from app.services.customers import staff
    from app.services.trace import catalog

    member = staff.create("王经理", "manager", store="城东旗舰店")
    customer = Customer(name="业主", store_id=member.store_id)
    db.session.add(customer)
    db.session.flush()
    db.session.add(Project(customer_id=customer.id, community="锦绣苑", address="锦绣路 1 号"))
    supplier = catalog.create_supplier({"name": "佛山建材", "credit_code": "", "note": ""})
    material = catalog.create_material(DEMO_TILE)
    batch = catalog.create_batch(
        {
            "material_id": material.id,
            "supplier_id": supplier.id,
            "batch_no": "B20261101",
            "quantity": count,
            "inspection": [{"item": "放射性", "result": "A类"}],
        },
        member,
    )
    db.session.commit()
    return batch, member


def generate(count: int, drawn: bool = True) -> tuple[list[str], dict]:
    """Step 1: codes, PNGs, the PDF; their seconds, bytes and the peak memory."""
    from app.core.extensions import db
    from app.models import Project
    from app.services.trace import codes, deliveries, labels, qr

    batch, member = seed(count)
    rss_before = max_rss_mb()
    figures = {}
    start = time.perf_counter()
    codes.generate(batch, count)
    db.session.commit()
    figures["codes"] = time.perf_counter() - start
    pairs = list(codes.in_range(batch.id))
    start = time.perf_counter()
    png_bytes = sum(len(qr.png(codes.url(code))) for _, code in pairs) if drawn else 0
    figures["pngs"] = time.perf_counter() - start
    start = time.perf_counter()
    pdf = labels.sheet(batch, pairs) if drawn else b""
    figures["pdf"] = time.perf_counter() - start
    figures.update(png_bytes=png_bytes, pdf_bytes=len(pdf), rss_before=rss_before)
    figures["rss_peak"] = max_rss_mb()
    project = db.session.query(Project).one()
    deliveries.deliver(batch, project, member, 1, count // 2)
    db.session.commit()
    return [code for _, code in pairs], figures


def baseline(count: int, sample: int = 300) -> float:
    """qrcode's one call (best mask, its own PIL drawing, PNG), extrapolated to `count`."""
    rng = random.Random(3)
    urls = [f"https://trace.example.com/t/{rng.getrandbits(84):022X}" for _ in range(sample)]
    start = time.perf_counter()
    for url in urls:
        qrcode.make(url, error_correction=qrcode.constants.ERROR_CORRECT_M).save(io.BytesIO())
    return (time.perf_counter() - start) / sample * count


def _stored(database_url: str) -> tuple[int, int]:
    """(scan rows, the codes' scan counts summed) in the bench's database."""
    import psycopg

    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM trace_scans), (SELECT sum(scan_count) FROM trace_codes)"
        ).fetchone()
    return int(row[0]), int(row[1] or 0)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=6000, help="requests per series")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scan-only", action="store_true", help="skip the PNGs and the PDF")
    parser.add_argument("--database", default=DATABASE, help="created afresh")
    args = parser.parse_args()
    database_url = fresh_database(args.database)
    env = environment(database_url, args.codes)
    redis.Redis.from_url(REDIS_URL).flushdb()
    flask(env, "db", "upgrade")

    from app import create_app

    app = create_app(env)
    with app.app_context():
        issued, fig = generate(args.codes, not args.scan_only)
        from app.core.extensions import db

        db.engine.dispose()
    total = fig["codes"] + fig["pngs"] + fig["pdf"]
    base = baseline(args.codes) if not args.scan_only else 1.0
    print(
        f"\n{args.codes} codes:  generate {fig['codes']:.2f} s   PNGs {fig['pngs']:.2f} s"
        f" ({fig['png_bytes'] / 1e6:.1f} MB)   label PDF {fig['pdf']:.2f} s"
        f" ({fig['pdf_bytes'] / 1e6:.1f} MB, {-(-args.codes // 24)} pages)"
    )
    print(
        f"  total {total:.2f} s; peak memory (max RSS) {fig['rss_peak']:.0f} MB"
        f" ({fig['rss_before']:.0f} MB before the codes)"
    )
    print(
        f"  baseline: qrcode.make PNGs alone, extrapolated from 300: {base:.2f} s"
        f"  → our PNGs take {fig['pngs'] / base:.0%} of that"
    )

    rng = random.Random(7)
    scans = [("GET", f"/t/{rng.choice(issued)}", None) for _ in range(args.n)]
    health = [("GET", "/healthz", None)] * args.n
    # The floor of any scan page: the rate limit and a rendered page, no database.
    malformed = [("GET", "/t/not-a-code", None)] * (args.n // 2)
    port = free_port()
    server = start_gunicorn(env, "wsgi:app", port)
    try:
        meter = CpuMeter(server.pid)
        from bench.common import load

        load(port, scans[:300] + health[:300])  # warm up connections and caches
        stats = alternate(
            lambda fn, p, chunk: meter.measure(fn, p, chunk),
            port,
            {"healthz": health, "scan page": scans, "malformed code (404)": malformed},
            args.rounds,
        )
    finally:
        stop(server)
    stored = _stored(database_url)
    sent = 300 + len(scans)
    print()
    for label, result in stats.items():
        print(describe(label, result), "  cpu ms/req:", CpuMeter.describe(result))
    ratio = stats["scan page"]["rps"] / stats["healthz"]["rps"]
    floor = stats["malformed code (404)"]["rps"] / stats["healthz"]["rps"]
    print(f"\nscan page throughput / healthz: {ratio:.1%} (malformed code, no query: {floor:.1%})")
    print(f"scans sent {sent}: rows stored {stored[0]}, counted on the codes {stored[1]}")
    ok = (
        stored == (sent, sent)
        and total < 30
        and stats["scan page"]["p99_ms"] < 50
        and ratio >= 0.5
        and not stats["scan page"]["errors"]
    )
    print(
        "PASS" if ok else "FAIL",
        "(bars: codes+PNGs+PDF < 30 s; scan p99 < 50 ms, ≥ 50% of healthz; every scan stored)",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
