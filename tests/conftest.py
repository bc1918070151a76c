"""Test tiers: TEST_DB=sqlite (default) or TEST_DB=postgres; Redis tests use the real server.

With REQUIRE_SERVICES=1 (CI) an unreachable PostgreSQL or Redis fails the run; otherwise
the tier is skipped with one loud line.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis as redis_lib
from sqlalchemy import create_engine, text

pytest_plugins = ["tests.fixtures_wechat", "tests.fixtures_outbox"]

TEST_DB = os.environ.get("TEST_DB", "sqlite")
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
REQUIRE = os.environ.get("REQUIRE_SERVICES", "") == "1"
TMP = Path(tempfile.mkdtemp(prefix="zxcrm-tests-"))


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port), timeout=1).close()
        return True
    except OSError:
        return False


def _unavailable(what: str) -> None:
    message = f"!!! {what} is not reachable: its tests are SKIPPED (set REQUIRE_SERVICES=1 to fail instead) !!!"
    if REQUIRE:
        pytest.exit(f"{what} is not reachable and REQUIRE_SERVICES=1", returncode=3)
    print("\n" + message)


def database_url() -> str:
    return (
        _without_commit_waits(PG_URL)
        if TEST_DB == "postgres"
        else f"sqlite:///{TMP / 'test.sqlite3'}"
    )


def _without_commit_waits(url: str) -> str:
    """The test server's sessions commit without waiting for the WAL flush: 1 ms a commit
    instead of 4 here, and a test database need not survive a server crash. Nothing the
    tests assert depends on it (every session still sees every commit at once)."""
    if "synchronous_commit" in url:
        return url
    return url + ("&" if "?" in url else "?") + "options=-csynchronous_commit%3Doff"


def pytest_configure(config):
    if TEST_DB == "postgres" and not _reachable(PG_URL):
        _unavailable("PostgreSQL")
        config.option.markexpr = "not postgres and postgres"  # deselect everything
    config.redis_ok = _reachable(REDIS_URL)
    if not config.redis_ok:
        _unavailable("Redis")


def pytest_report_header(config):
    return f"database tier: {TEST_DB} ({database_url().split('@')[-1]}); redis: {REDIS_URL}"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres" in item.keywords and TEST_DB != "postgres":
            item.add_marker(
                pytest.mark.skip(reason="PostgreSQL-only: runs in the TEST_DB=postgres tier")
            )
        if "redis" in item.keywords and not config.redis_ok:
            item.add_marker(pytest.mark.skip(reason="Redis is not reachable"))


def _reset_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def env_for_tests(**extra) -> dict:
    env = {
        "APP_ENV": "test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": "",
        "SECRET_KEY": "test-secret",
        "DATA_KEY": "test-data-key-0123456789abcdef",
        "LOG_LEVEL": "WARNING",
        # The documented sample accounts, so Tencent's own vectors replay verbatim.
        "WECHAT_MP_APPID": "wx2c2769f8efd9abc2",
        "WECHAT_MP_SECRET": "mp-secret",
        "WECHAT_MP_TOKEN": "spamtest",
        "WECHAT_MP_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        # Both modes, as during a mode switch, so each sample is posted plain and encrypted;
        # tests/inbound/test_callback_forgery.py checks the refusal without this.
        "WECHAT_MP_ACCEPT_PLAIN": "true",
        "WECOM_CORP_ID": "wx5823bf96d3bd56c7",
        "WECOM_SECRET": "wecom-secret",
        "WECOM_CONTACT_SECRET": "wecom-contact-secret",
        "WECOM_AGENT_ID": "1000002",
        "WECOM_TOKEN": "QDG6eK",
        "WECOM_AES_KEY": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
        "WECHAT_MINI_APPID": "wxminiapp000001",
        "WECHAT_MINI_SECRET": "mini-secret",
        # A closed port: a test that forgets the fake WeChat server fails fast, never leaks.
        "WECHAT_API_BASE": "http://127.0.0.1:9",
        "WECOM_API_BASE": "http://127.0.0.1:9",
        # Working hours all day every day, so only tests about off-hours see that reply.
        "WORK_START": "00:00",
        "WORK_END": "23:59",
        "WORK_DAYS": "1,2,3,4,5,6,7",
        # The scan limit counts fixed windows on the wall clock: one of about three years,
        # so a test that counts up to the limit never straddles two (tests of a new window
        # fake the clock, tests/core/test_rate_limit.py).
        "TRACE_SCAN_WINDOW": "100000000",
        # Each scan written in its request; tests/trace/test_scan_book.py tests the buffer.
        "TRACE_SCAN_FLUSH_MS": "0",
    }
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def app():
    from flask_migrate import upgrade

    from app import create_app

    if TEST_DB == "postgres":
        _reset_postgres(PG_URL)
    application = create_app(env_for_tests())
    with application.app_context():
        upgrade()
        if TEST_DB == "postgres":
            _keep_insertion_order()
    return application


def _keep_insertion_order() -> None:
    """No autovacuum on the test tables: the rows each test deletes are never made free
    space again, so new rows go at the end of the table, in the order they were written, as
    after the TRUNCATE this suite used before. Without it, the row order of a query without
    ORDER BY changes with autovacuum's timing, and a test would pass or fail by it."""
    from app.core.extensions import db

    with db.engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            conn.execute(text(f"ALTER TABLE {table.name} SET (autovacuum_enabled = false)"))


# What TRUNCATE … RESTART IDENTITY did: every id starts at 1 again (SQLite's rowids do so by
# themselves once a table is empty).
_RESTART_SEQUENCES = (
    "SELECT setval(c.oid, 1, false) FROM pg_class c"
    " WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
)


def _truncate(application) -> None:
    from app.core.extensions import db

    with application.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            # DELETE, not TRUNCATE: a TRUNCATE of ~50 tables costs PostgreSQL 0.3-0.6 s (a new
            # file per table, synced at commit) and ran before every test; a DELETE of a few
            # rows costs milliseconds. Children first, so no foreign key is in the way.
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            if conn.dialect.name == "postgresql":
                conn.execute(text(_RESTART_SEQUENCES))
        db.session.remove()


@pytest.fixture
def ctx(app):
    """A clean database and an app context for one test."""
    from app.services.inbound import auto_reply
    from app.services.tagging import tag_rules

    _truncate(app)
    for name in [key for key in app.extensions if key.endswith("limiter")]:
        app.extensions.pop(name)  # in-process attempt counters: ids repeat after a truncate
    auto_reply.forget_rules()
    tag_rules.forget_rules()
    with app.app_context():
        yield app
        from app.core.extensions import db

        db.session.remove()


@pytest.fixture
def client(ctx):
    return ctx.test_client()


@pytest.fixture
def redis_conn():
    from app.core import batch

    conn = redis_lib.Redis.from_url(REDIS_URL)
    batch.flush()  # nothing an earlier test held back lands in this one's Redis
    conn.flushdb()
    yield conn
    batch.flush()
    conn.flushdb()


@pytest.fixture
def redis_app(app, redis_conn):
    """The same database, with REDIS_URL set: jobs go to RQ queues."""
    from app import create_app

    _truncate(app)
    application = create_app(env_for_tests(REDIS_URL=REDIS_URL))
    with application.app_context():
        yield application
        from app.core.extensions import db

        db.session.remove()


@pytest.fixture
def make_staff(ctx):
    from app.core.extensions import db
    from app.services.customers import staff as staff_service

    def make(name="李销售", roles="sales", store=None, **kw):
        member = staff_service.create(name, roles, store=store, **kw)
        db.session.commit()
        return member

    return make


@pytest.fixture
def bearer(make_staff):
    """(staff, headers) for an API call as a fresh staff member of the given roles."""
    from app.core.extensions import db
    from app.services.customers import staff as staff_service

    def make(name="李销售", roles="sales", store=None):
        member = make_staff(name, roles, store)
        token = staff_service.issue_token(member)
        db.session.commit()
        return member, {"Authorization": f"Bearer {token}"}

    return make
