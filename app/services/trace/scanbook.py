"""The scan page's counters and scans kept in each web process between two writes
(PostgreSQL, TRACE_SCAN_FLUSH_MS > 0): a scan of a held code makes no database round trip.

Why: a scan's page needs its code's serial, batch, delivery and counters, and the scan must
be stored. Done in the request, that is one round trip and one write transaction per scan,
which cost the busy page two thirds of its CPU (bench/trace.py). Here each process holds the
codes of the batches it has served (a Snapshot per batch, read in one query) and keeps the
scans it counts in a buffer that a thread writes every TRACE_SCAN_FLUSH_MS, all of them in
one transaction (codes' counters added in id order, scan rows inserted).

What a scan sees and stores:
- A code this process does not hold goes through the one-statement scan in the request, as
  with the buffer off. A batch is read and held once it is busy here: its MIN_MISSES-th
  such scan within TRACE_SCAN_REFRESH_SECONDS (a batch scanned now and then costs less scan
  by scan than read whole). A held batch is read again, by the first scan after the
  refresh (that scan written in the request), when the scans counted here since paid for
  it (`_worth_keeping`), else let go. A batch of more than MAX_BATCH_CODES codes is never
  held: all its scans are written in the request.
- A held code is counted here: the page shows the database's count at the snapshot plus the
  scans counted since in this process (ones of other processes appear at the next refresh,
  within TRACE_SCAN_REFRESH_SECONDS), and its scan row waits in the buffer.
- Counts: a batch read takes the database's count (every process's written scans) and adds
  what this process has not written yet (`unflushed`); a scan written in its request adds
  them to the count its statement returns. Both happen while no write of this process can
  commit (`io`, taken for the read, or from before the statement until then), so each scan
  counts once: one after another, the scans of a code in one process count up by one
  (concurrent ones may show the same number), and the database's rows and counters are
  always exact.
- A known customer's scan is never buffered (scans.record writes it in the request, with
  its timeline event); nor are scans while the buffer holds MAX_PENDING rows (the database
  is not taking the writes: the request then fails or succeeds as without the buffer).
Durability: a write that fails keeps its rows for the next (a warning is logged, with no
personal data); the process writes what it holds when it exits (atexit, which gunicorn's
graceful worker exit runs; a test stops a real gunicorn). A process killed outright (SIGKILL,
the OOM killer, gunicorn's 30 s timeout) loses the scans it held: those of its last
TRACE_SCAN_FLUSH_MS, or, while PostgreSQL refuses the writes, up to MAX_PENDING; like the
asynchronous commit the one-statement scan already uses (see scans), what was written is
always consistent: each scan row is counted on its code exactly once.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from time import monotonic

from flask import current_app

from app.core.database import driver_error
from app.core.extensions import db

log = logging.getLogger(__name__)

MAX_BATCH_CODES = 20_000  # a larger batch is not held (its scans go to the database)
MAX_HELD = 200_000  # codes held per process (about 40 MB); past this, start over
MAX_PENDING = 20_000  # buffered scans per process; past this, scans go to the database
MIN_MISSES = 8  # scans of a batch within a refresh before a process reads and holds it
_KEY = "trace.scan_book"

LOAD_BATCH = """
SELECT c.code, c.id, c.serial, c.delivery_id, c.scan_count, c.first_scanned_at
FROM trace_codes c WHERE c.batch_id = %s LIMIT %s
"""
BATCH_VERSION = "SELECT xmin::text FROM material_batches WHERE id = %s"
# Locked in id order: two processes' writes never wait on each other in a cycle.
LOCK_CODES = "SELECT id FROM trace_codes WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
ADD_COUNTS = """
UPDATE trace_codes c SET scan_count = c.scan_count + d.n,
  first_scanned_at = LEAST(c.first_scanned_at, d.first),
  last_scanned_at = GREATEST(c.last_scanned_at, d.last)
FROM (SELECT code_id, count(*) AS n, min(at) AS first, max(at) AS last
      FROM unnest(%s::bigint[], %s::timestamptz[]) AS s(code_id, at) GROUP BY code_id) d
WHERE c.id = d.code_id
"""
INSERT_SCANS = """
INSERT INTO trace_scans
  (code_id, batch_id, scanned_at, channel, client, network, os, device, in_wechat)
SELECT * FROM unnest(%s::bigint[], %s::int[], %s::timestamptz[], %s::varchar[],
  %s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[], %s::boolean[])
"""
ASYNC_COMMIT = "SELECT set_config('synchronous_commit', 'off', true)"
ROW_FIELDS = ("channel", "client", "network", "os", "device", "in_wechat")


@dataclass(slots=True)
class Entry:
    """One code as this process knows it."""

    code_id: int
    batch_id: int
    serial: int
    delivery_id: int | None
    count: int
    first: datetime | None


@dataclass
class Snapshot:
    """A batch's codes as read at `loaded_at` (monotonic seconds); `version` is the batch
    row's (see pagecache); `held` False for a batch too large to hold."""

    batch_id: int
    version: str
    loaded_at: float
    held: bool
    codes: set[str] = field(default_factory=set)
    claimed: bool = False  # a thread is reading it again
    hits: int = 0  # scans counted here since it was read


@dataclass(frozen=True)
class Counted:
    """A scan counted here: what the page shows of the code, and its batch's version."""

    serial: int
    scan_count: int
    first_scanned_at: datetime
    batch_id: int
    delivery_id: int | None
    version: str


class ScanBook:
    """One web process's held codes (by batch) and buffered scans; see the module."""

    def __init__(self, engine, flush_seconds: float, refresh_seconds: float) -> None:
        self.engine, self.flush_seconds, self.refresh = engine, flush_seconds, refresh_seconds
        self.lock = threading.Lock()  # the dicts and the buffer (short, no I/O)
        self.io = threading.Lock()  # a batch read and a write exclude each other
        self.codes: dict[str, Entry] = {}
        self.snapshots: dict[int, Snapshot] = {}
        self.loading: set[int] = set()  # batches a thread is reading for the first time
        self.misses: dict[int, list] = {}  # batch → [since, scans written in the request]
        self.pending: list[tuple] = []  # scan rows not written yet
        self.unflushed: Counter[int] = Counter()  # code id → its scans not written yet
        self.clock = monotonic
        self.pid = os.getpid()
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()

    def count(self, params: dict) -> Counted | None:
        """Count the scan of `params["code"]` here, its row buffered; None when this
        process does not hold the code fresh (the caller writes it in the request)."""
        with self.lock:
            entry = self.codes.get(params["code"])
            if entry is None or len(self.pending) >= MAX_PENDING:
                return None
            snapshot = self.snapshots[entry.batch_id]
            if not snapshot.claimed and self.clock() - snapshot.loaded_at > self.refresh:
                return None  # this scan is written in its request and reads the batch again
            # While one thread reads it again, the others go on counting here.
            snapshot.hits += 1
            entry.count += 1
            entry.first = entry.first or params["now"]
            self.unflushed[entry.code_id] += 1
            row = (entry.code_id, entry.batch_id, params["now"])
            self.pending.append(row + tuple(params[name] for name in ROW_FIELDS))
            return Counted(
                entry.serial,
                entry.count,
                entry.first,
                entry.batch_id,
                entry.delivery_id,
                snapshot.version,
            )

    def adopt(self, batch_id: int, version: str) -> None:
        """The batch row's newer `version`, read with the page's catalog part (an edit
        since the batch was read here): its held scans then find that part in the page
        cache instead of reading it at each scan until the refresh."""
        with self.lock:
            snapshot = self.snapshots.get(batch_id)
            if snapshot is not None:
                snapshot.version = version

    def writing(self) -> threading.Lock:
        """Held by a scan written in its request from before its statement until it has
        been `seen` (and its batch read, if claimed): no write of this process commits in
        between, so the count the statement returns and the scans not written yet
        (`unflushed`) add up to the code's count, each scan once."""
        return self.io

    def seen(self, code: str, code_id: int, counted: int, first: datetime) -> tuple[int, datetime]:
        """A scan of `code` written in its request (inside `writing()`), `counted` and
        `first` the code row's after it: the count and first scan to show, with this
        process's scans of it not written yet (also of a code no longer held: a batch let
        go or started over still has its scans in the buffer); kept for the next held scan
        of the code."""
        with self.lock:
            shown = counted + self.unflushed.get(code_id, 0)
            entry = self.codes.get(code)
            if entry is None:
                return shown, first
            entry.count = max(entry.count, shown)
            entry.first = min(first, entry.first or first)
            return entry.count, entry.first

    def claim(self, batch_id: int) -> bool:
        """True when the caller, having just written a scan of `batch_id` in its request,
        is to read the batch (again); see `_busy` and `_worth_keeping`."""
        with self.lock:
            snapshot = self.snapshots.get(batch_id)
            if snapshot is None:
                if batch_id in self.loading or not self._busy(batch_id):
                    return False
                self.loading.add(batch_id)
                return True
            if not snapshot.held or snapshot.claimed:
                return False  # a batch too large stays unheld; another thread reads it
            if self.clock() - snapshot.loaded_at <= self.refresh:
                return False
            if not self._worth_keeping(snapshot):
                self._drop(snapshot)
                return False
            snapshot.claimed = True
            return True

    def _busy(self, batch_id: int) -> bool:
        """Whether this scan is the MIN_MISSES-th of the batch written in the request within
        one refresh: a batch is held only while it is scanned often (a batch scanned now
        and then is cheaper to write scan by scan than to read whole)."""
        now = self.clock()
        window = self.misses.get(batch_id)
        if window is None or now - window[0] > self.refresh:
            if len(self.misses) >= MAX_HELD:
                self.misses.clear()
            window = self.misses[batch_id] = [now, 0]
        window[1] += 1
        if window[1] < MIN_MISSES:
            return False
        del self.misses[batch_id]
        return True

    @staticmethod
    def _worth_keeping(snapshot: Snapshot) -> bool:
        """Whether the scans counted here since the batch was read paid for reading it
        again: reading a code costs about a hundredth of what holding saves a scan."""
        return snapshot.hits >= MIN_MISSES + len(snapshot.codes) // 100

    def _drop(self, snapshot: Snapshot) -> None:
        del self.snapshots[snapshot.batch_id]
        for code in snapshot.codes:
            self.codes.pop(code, None)

    def load(self, driver, batch_id: int) -> None:
        """Read the batch's codes on `driver` (psycopg, autocommit) into its snapshot
        (inside `writing()`: no write of this process commits during the read). A failed
        read only leaves the batch as it was (its scans go to the database until it is
        read): the scan is written by then, and failing its page would make the homeowner
        scan (and count) again. The pool discards a connection that broke."""
        try:
            version = driver.execute(BATCH_VERSION, (batch_id,)).fetchone()
            rows = driver.execute(LOAD_BATCH, (batch_id, MAX_BATCH_CODES + 1)).fetchall()
            self._replace(batch_id, version[0] if version else "", rows)
        except self.engine.dialect.loaded_dbapi.Error as exc:
            log.warning("trace scans: batch %d not read: %r", batch_id, type(exc))
        finally:
            with self.lock:
                self.loading.discard(batch_id)
                if batch_id in self.snapshots:
                    self.snapshots[batch_id].claimed = False

    def _replace(self, batch_id: int, version: str, rows: list) -> None:
        """The batch's snapshot from `rows`, built outside `lock` (a batch of thousands of
        codes would hold every scan of the process back) and swapped in under it, with the
        scans this process counted and has not written yet (kept still by `io`)."""
        held = len(rows) <= MAX_BATCH_CODES
        fresh = {
            code: Entry(code_id, batch_id, serial, delivery_id, count, first)
            for code, code_id, serial, delivery_id, count, first in (rows if held else ())
        }
        codes_by_id = {entry.code_id: code for code, entry in fresh.items()}
        snapshot = Snapshot(batch_id, version, self.clock(), held, set(fresh))
        with self.lock:
            for code_id, unwritten in self.unflushed.items():
                code = codes_by_id.get(code_id)
                if code is not None:
                    self._add_unwritten(fresh[code], self.codes.get(code), unwritten)
            old = self.snapshots.pop(batch_id, None)
            kept = len(self.codes) - (len(old.codes) if old else 0)
            if held and kept + len(fresh) > MAX_HELD:
                self.codes, self.snapshots, old = {}, {}, None  # start over
            self.codes.update(fresh)
            for code in old.codes - snapshot.codes if old else ():
                self.codes.pop(code, None)
            self.snapshots[batch_id] = snapshot

    @staticmethod
    def _add_unwritten(entry: Entry, known: Entry | None, unwritten: int) -> None:
        """The database's count of a code plus its scans counted here and not written yet
        (the first of those may be earlier than the database's first)."""
        entry.count += unwritten
        if known is not None and known.first is not None:
            entry.first = known.first if entry.first is None else min(entry.first, known.first)

    def flush(self) -> int:
        """Write the buffered scans in one transaction; how many. A failure keeps them
        for the next flush (logged without personal data)."""
        with self.lock:
            if not self.pending:
                return 0
        # The connection before `io`, as a scan written in its request takes them: a thread
        # holding `io` never waits for a connection another holds while waiting for `io`.
        try:
            pooled = self.engine.raw_connection()
        except Exception as exc:  # noqa: BLE001 - no connection now: the scans are kept
            log.warning("trace scans: not written yet, kept: %r", type(exc))
            return 0
        try:
            with self.io:
                return self._flush_on(pooled)
        finally:
            pooled.close()  # rolled back by the pool when the commit did not happen

    def _flush_on(self, pooled) -> int:
        with self.lock:
            rows, self.pending = self.pending, []
        if not rows:
            return 0
        try:
            self._write(pooled, rows)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the scans are kept
            with self.lock:
                self.pending[:0] = rows
            log.warning("trace scans: %d not written yet, kept: %r", len(rows), type(exc))
            return 0
        with self.lock:
            for row in rows:
                left = self.unflushed[row[0]] - 1
                if left > 0:
                    self.unflushed[row[0]] = left
                else:
                    del self.unflushed[row[0]]
        return len(rows)

    def _write(self, pooled, rows: list[tuple]) -> None:
        columns = [list(column) for column in zip(*rows, strict=True)]
        driver = pooled.driver_connection
        try:
            driver.execute(ASYNC_COMMIT)
            driver.execute(LOCK_CODES, (sorted(set(columns[0])),))
            driver.execute(ADD_COUNTS, (columns[0], columns[2]))
            driver.execute(INSERT_SCANS, columns)
            driver.commit()
        except self.engine.dialect.loaded_dbapi.Error as exc:
            raise driver_error(exc, driver, pooled.invalidate, self.engine) from exc

    def start(self) -> None:
        """The writing thread, started with the process's book (scanbook.book)."""
        with self.lock:
            if self.thread is not None:
                return
            self.thread = threading.Thread(target=self._run, name="trace-scan-flush", daemon=True)
        self.thread.start()
        atexit.register(self.stop)

    def _run(self) -> None:
        while not self.stopping.wait(self.flush_seconds):
            self.flush()

    def stop(self) -> None:
        """Stop the thread and write what is held (at exit; tests). Not in a process forked
        from this one: it inherits this atexit call and a copy of the buffer, whose rows
        are this process's to write (written twice otherwise)."""
        if os.getpid() != self.pid:
            return
        self.stopping.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(5)
        self.flush()


def book() -> ScanBook | None:
    """This web process's book; None when every scan is written in its request
    (TRACE_SCAN_FLUSH_MS 0, or not PostgreSQL)."""
    app = current_app
    found = app.extensions.get(_KEY)
    if found is not None and (found is False or found.pid == os.getpid()):
        return found or None
    milliseconds = app.config["TRACE_SCAN_FLUSH_MS"]
    if milliseconds <= 0 or db.engine.dialect.name != "postgresql":
        app.extensions[_KEY] = False
        return None
    refresh = app.config["TRACE_SCAN_REFRESH_SECONDS"]
    found = app.extensions[_KEY] = ScanBook(db.engine, milliseconds / 1000, refresh)
    found.start()
    return found
