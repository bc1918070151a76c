"""Scans of held codes counted in the web process and written together (scanbook,
PostgreSQL): what a homeowner sees stays right, and every scan reaches the database."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.core.extensions import db
from app.models import TimelineEvent, TraceCode, TraceScan
from app.services.trace import scanbook
from tests.projects.helpers import owner_headers
from tests.trace.helpers import deliver
from tests.trace.test_scan_page import scan

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
MINUTE_MS = 60_000  # the writing thread does not run by itself during a test


def _count_shown(client, code: str) -> int:
    html = scan(client, code).get_data(as_text=True)
    return int(html.split("已被查询 <strong>")[1].split("</strong>")[0])


def _stored() -> int:
    db.session.rollback()  # a fresh snapshot of what other connections committed
    return db.session.scalar(select(func.count()).select_from(TraceScan))


def _counts() -> dict[str, int]:
    db.session.rollback()
    return dict(db.session.execute(select(TraceCode.code, TraceCode.scan_count)).all())


def _book_of(application) -> scanbook.ScanBook:
    with application.app_context():
        return scanbook.book()


@pytest.fixture
def held(app, monkeypatch):
    """The suite's app with scans buffered; the test writes them (flush) when it asks."""
    monkeypatch.setitem(app.config, "TRACE_SCAN_FLUSH_MS", MINUTE_MS)
    monkeypatch.setattr(scanbook, "MIN_MISSES", 1)  # a batch is held after its first scan
    app.extensions.pop(scanbook._KEY, None)
    yield lambda: _book_of(app)
    _discard(app.extensions.pop(scanbook._KEY, None))


def _discard(book) -> None:
    if book:
        book.pending.clear()  # the next test's database is a clean one
        book.stop()


def _other_process(**settings):
    from app import create_app
    from tests.conftest import env_for_tests

    return create_app(env_for_tests(**{"TRACE_SCAN_FLUSH_MS": str(MINUTE_MS), **settings}))


def test_held_codes_are_counted_here_and_written_together(stocked, held):
    team, first, second = stocked.team, stocked.codes[0]["code"], stocked.codes[1]["code"]
    assert _count_shown(team.client, first) == 1  # not held yet: written in the request
    assert _stored() == 1
    assert [_count_shown(team.client, first) for _ in range(2)] == [2, 3]
    assert _count_shown(team.client, second) == 1
    assert _stored() == 1 and held().pending  # three scans wait in the process
    assert held().flush() == 3
    assert _stored() == 4 and not held().pending
    counts = _counts()
    assert (counts[first], counts[second]) == (3, 1)
    rows = db.session.scalars(select(TraceScan).order_by(TraceScan.id)).all()
    assert {row.os for row in rows} == {"iOS"} and all(row.client for row in rows)
    code = db.session.scalar(select(TraceCode).filter_by(code=first))
    assert code.first_scanned_at == rows[0].scanned_at
    assert code.last_scanned_at == max(r.scanned_at for r in rows if r.code_id == code.id)


def test_other_processes_scans_show_within_the_refresh(stocked, held):
    team, code = stocked.team, stocked.codes[0]["code"]
    assert [_count_shown(team.client, code) for _ in range(2)] == [1, 2]
    held().flush()
    other = _other_process()
    assert _count_shown(other.test_client(), code) == 3  # written there in the request
    try:
        assert _count_shown(team.client, code) == 3  # this process has not seen it yet
        now = held().clock() + held().refresh + 1
        held().clock = lambda: now
        assert _count_shown(team.client, code) == 5  # read again: the other's scan shows
        assert _count_shown(team.client, code) == 6
        held().flush()
        assert _counts()[code] == 6 and _stored() == 6
    finally:
        _discard(other.extensions.get(scanbook._KEY))


def test_a_delivery_shows_within_the_refresh(stocked, held):
    team, code = stocked.team, stocked.codes[2]["code"]
    assert "该材料尚未登记进场" in scan(team.client, code).get_data(as_text=True)
    deliver(team, stocked.batch["id"], first_serial=1, last_serial=10)
    now = held().clock() + held().refresh + 1
    held().clock = lambda: now
    for _ in range(2):  # the scan that reads the batch again, then one counted here
        assert "「锦绣苑」小区" in scan(team.client, code).get_data(as_text=True)


def test_a_failed_write_keeps_the_scans_for_the_next(stocked, held, monkeypatch):
    team, code = stocked.team, stocked.codes[0]["code"]
    for _ in range(3):
        _count_shown(team.client, code)
    book, calls = held(), []
    real_write = book._write

    def failing_once(pooled, rows):
        calls.append(len(rows))
        if len(calls) == 1:
            raise OperationalError("UPDATE trace_codes", {}, Exception("server closed"))
        real_write(pooled, rows)

    monkeypatch.setattr(book, "_write", failing_once)
    assert book.flush() == 0 and len(book.pending) == 2
    assert _count_shown(team.client, code) == 4  # the counters did not go back
    assert book.flush() == 3 and calls == [2, 3]
    assert _stored() == 4 and _counts()[code] == 4


def test_a_known_homeowners_scan_is_written_in_the_request(stocked, mini, held):
    team = stocked.team
    deliver(team, stocked.batch["id"])
    code = stocked.codes[2]["code"]
    scan(team.client, code)  # the batch is held now
    assert _count_shown(team.client, code) == 2 and _stored() == 1
    headers = owner_headers(team, mini)
    body = mini.get(f"/mini/v1/trace/{code}", headers=headers)
    assert body.status_code == 200 and body.json["scan_count"] == 2  # the held scan waits
    assert _stored() == 2
    db.session.rollback()
    row = db.session.scalars(select(TraceScan).filter_by(channel="mini")).one()
    assert row.customer_id == team.customer.id
    assert db.session.scalars(select(TimelineEvent).filter_by(kind="material_scanned")).one()


def test_a_batch_is_held_only_once_it_is_busy_and_let_go_when_idle(stocked, held, monkeypatch):
    monkeypatch.setattr(scanbook, "MIN_MISSES", 8)
    team, code = stocked.team, stocked.codes[0]["code"]
    assert [_count_shown(team.client, code) for _ in range(7)] == list(range(1, 8))
    assert _stored() == 7 and not held().snapshots  # scanned now and then: scan by scan
    assert _count_shown(team.client, code) == 8  # the eighth within the refresh: held now
    assert held().snapshots and _count_shown(team.client, code) == 9
    assert _stored() == 8 and len(held().pending) == 1
    now = held().clock() + held().refresh + 1
    held().clock = lambda: now
    assert _count_shown(team.client, code) == 10  # one scan since: not worth reading again
    assert not held().snapshots and not held().codes
    # Let go, its ninth scan still waits in the buffer: the next still counts up by one.
    assert _count_shown(team.client, code) == 11
    assert _stored() == 10 and held().flush() == 1 and _counts()[code] == 11


def test_a_batch_too_large_to_hold_is_written_scan_by_scan(stocked, held, monkeypatch):
    monkeypatch.setattr(scanbook, "MAX_BATCH_CODES", 10)  # the batch has 30 codes
    team, code = stocked.team, stocked.codes[0]["code"]
    assert [_count_shown(team.client, code) for _ in range(3)] == [1, 2, 3]
    assert _stored() == 3 and not held().pending


def test_the_thread_writes_them_and_stopping_writes_the_rest(stocked):
    codes = [c["code"] for c in stocked.codes[:5]]
    process = _other_process(TRACE_SCAN_FLUSH_MS="5", TRACE_SCAN_LIMIT="0")
    book = _book_of(process)

    def scanner(index: int) -> list[int]:
        client = process.test_client()
        return [_count_shown(client, codes[(index + i) % 5]) for i in range(25)]

    try:
        results = [[] for _ in range(4)]
        threads = [
            threading.Thread(target=lambda i=i: results[i].extend(scanner(i))) for i in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sum(len(r) for r in results) == 100
        book.stop()  # whatever the thread had not written yet
        assert _stored() == 100 and sum(_counts().values()) == 100
        assert all(1 <= n <= 20 for r in results for n in r)  # concurrent: any order
        client = process.test_client()
        assert [_count_shown(client, code) for code in codes] == [21] * 5
    finally:
        _discard(book)


def test_a_gunicorn_worker_writes_what_it_holds_when_it_stops(stocked, tmp_path):
    """gunicorn's graceful stop (SIGTERM) ends each worker through atexit: nothing lost."""
    from tests.conftest import database_url, env_for_tests

    codes = [c["code"] for c in stocked.codes[:10]]
    env = {**os.environ, **env_for_tests(DATABASE_URL=database_url())}
    env.update(TRACE_SCAN_FLUSH_MS=str(MINUTE_MS), TRACE_SCAN_LIMIT="0", WEB_WORKERS="1")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "gunicorn", "wsgi:app", "-c", "gunicorn.conf.py"]
    server = subprocess.Popen(
        [*command, "-b", f"127.0.0.1:{port}"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL
    )
    try:
        statuses = [_get(port, f"/t/{codes[i % 10]}", first=i == 0) for i in range(60)]
        assert statuses == [200] * 60
        assert _stored() < 60  # held in the worker
    finally:
        server.terminate()
        server.wait(30)
    assert _stored() == 60 and sum(_counts().values()) == 60


def _get(port: int, path: str, first: bool = False) -> int:
    for _ in range(300 if first else 1):  # the first request waits for the worker to boot
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response.status
        except ConnectionRefusedError:
            threading.Event().wait(0.1)
    raise AssertionError("gunicorn did not start")


def test_no_write_commits_between_a_scan_written_in_its_request_and_its_count(stocked, held):
    """A stale code's scan is written in its request; were this process's held scans
    written between its statement and its count, they would be in neither (the page going
    back by them): the book's write lock is held across both, so the writing thread waits."""
    team, code = stocked.team, stocked.codes[0]["code"]
    assert [_count_shown(team.client, code) for _ in range(4)] == [1, 2, 3, 4]
    book, writers = held(), []
    real_seen = book.seen

    def seen_while_a_write_is_due(*args):
        assert book.io.locked()  # taken before the statement
        writer = threading.Thread(target=book.flush)
        writer.start()  # the thread's write, due now: it waits for the lock
        writers.append(writer)
        return real_seen(*args)

    book.seen = seen_while_a_write_is_due
    now = book.clock() + book.refresh + 1
    book.clock = lambda: now
    assert [_count_shown(team.client, code) for _ in range(2)] == [5, 6]
    for writer in writers:
        writer.join(30)
    book.flush()
    assert _counts()[code] == 6 and _stored() == 6


def test_the_writing_thread_drops_the_pool_when_the_server_dropped_it(stocked, held, caplog):
    """The thread has no application context: a write on a connection the server closed
    (a database restart) still drops the whole pool, so the next write (and each request)
    gets a new connection instead of failing once per stale pooled one."""
    import psycopg

    from tests.conftest import database_url

    team, code = stocked.team, stocked.codes[0]["code"]
    assert [_count_shown(team.client, code) for _ in range(3)] == [1, 2, 3]
    book = held()
    db.session.rollback()
    url = database_url().replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url, autocommit=True) as other:  # every pooled connection dies
        other.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    written = []
    for _ in range(2):
        thread = threading.Thread(target=lambda: written.append(book.flush()))
        thread.start()
        thread.join(30)
    assert written == [0, 2] and not book.pending
    assert "RuntimeError" not in caplog.text
    assert _stored() == 3 and _counts()[code] == 3


def test_a_failed_batch_read_does_not_fail_the_written_scan(stocked, held, monkeypatch):
    """The scan is written before its batch is read: a read that fails (a timeout, the
    server going away) answers the page, and the batch is read at a later scan."""
    team, code, read = stocked.team, stocked.codes[0]["code"], scanbook.LOAD_BATCH
    monkeypatch.setattr(scanbook, "LOAD_BATCH", "SELECT 1 / 0 WHERE %s > %s")
    assert [_count_shown(team.client, code) for _ in range(2)] == [1, 2]
    assert _stored() == 2 and not held().pending and not held().loading
    monkeypatch.setattr(scanbook, "LOAD_BATCH", read)
    assert [_count_shown(team.client, code) for _ in range(2)] == [3, 4]
    assert held().flush() == 1 and _counts()[code] == 4


def test_a_forked_process_does_not_write_the_scans_it_inherited(stocked, held):
    """A child inherits the book's atexit call and a copy of its buffer: the parent's
    rows are the parent's to write."""
    team, code = stocked.team, stocked.codes[0]["code"]
    assert [_count_shown(team.client, code) for _ in range(3)] == [1, 2, 3]
    book = held()
    db.session.rollback()
    book.engine.dispose()  # the child opens connections of its own
    child = os.fork()
    if child == 0:  # pragma: no cover - the child: what its atexit would run
        book.stop()
        os._exit(0)
    os.waitpid(child, 0)
    assert _stored() == 1
    assert book.flush() == 2 and _stored() == 3 and _counts()[code] == 3


def test_a_write_and_a_delivery_of_the_same_codes_do_not_deadlock(stocked, held):
    """A write locks its codes, then its scan rows' foreign key takes a key share on the
    batch row; a delivery locked the batch row (FOR UPDATE, which a key share waits for)
    and then its codes: a write holding a code of the range was a deadlock, and the
    delivery answered 503."""
    import psycopg

    from tests.conftest import database_url

    team, batch_id = stocked.team, stocked.batch["id"]
    code_id = db.session.scalar(select(func.min(TraceCode.id)))
    db.session.rollback()
    url = database_url().replace("postgresql+psycopg", "postgresql")
    answers = []
    with psycopg.connect(url) as write:  # a flush, between its LOCK_CODES and INSERT_SCANS
        write.execute("SET lock_timeout = '10s'")
        write.execute(scanbook.LOCK_CODES, ([code_id],))
        delivery = threading.Thread(
            target=lambda: answers.append(deliver(team, batch_id).status_code)
        )
        delivery.start()
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        for _ in range(100):
            if write.execute(waiting).fetchone()[0]:
                break
            threading.Event().wait(0.05)
        now = datetime.now(UTC)
        row = ([code_id], [batch_id], [now], ["web"], ["c"], [""], ["iOS"], ["mobile"], [False])
        write.execute(scanbook.INSERT_SCANS, row)
        write.commit()
        delivery.join(30)
    assert answers == [201]


def test_a_batch_edit_read_with_the_page_is_adopted_by_the_book(stocked, held, app):
    """Once a held scan has read the edited batch's catalog part (the cache had none of the
    book's version), the book takes that version: the next scans find the part cached."""
    from app.services.trace import pagecache
    from tests.trace.helpers import api

    team, code, batch_id = stocked.team, stocked.codes[0]["code"], stocked.batch["id"]
    _count_shown(team.client, code)  # held now
    results = [{"item": "甲醛释放量", "result": "≤0.025 mg/m³ ENF"}]
    api(team, "patch", f"/trace/batches/{batch_id}", json={"inspection": results})
    with app.app_context():
        pagecache.cache().clear()  # as when another process's scan read it first
    assert "甲醛释放量" in scan(team.client, code).get_data(as_text=True)
    snapshot = held().snapshots[batch_id]
    with app.app_context():
        assert pagecache.cache().get((batch_id, None), snapshot.version) is not None
