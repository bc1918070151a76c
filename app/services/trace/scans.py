"""Opening a trace code: the public page's one write and read, and who scanned.

Every opening of an issued code counts on the code row and stores a scan row (time, coarse
client, the customer when known), then reads what the page shows. On PostgreSQL, with
TRACE_SCAN_FLUSH_MS set (production's default), an anonymous scan of a code whose batch this
process holds is counted in the process and written with others a moment later (scanbook:
no round trip); every other scan is written in its request as follows. On PostgreSQL the count
and the store are one statement (an UPDATE … RETURNING and an INSERT … SELECT as WITH
parts), run as an app.core.prebuilt statement on a pooled connection in autocommit: one
round trip, no Session, atomic on its own. It returns the code's counters and its batch
row's version; the page's catalog part (material, batch, inspection, the site's community)
comes from this process's pagecache, read once per batch and delivery (see pagecache for
how it stays correct). SQLite runs the same steps through the Session and reads the whole
page each time. A malformed code makes no query; an unknown one finds no row: both are the
same "not issued" answer.

Durability: the scan's transaction commits with synchronous_commit off (for that
transaction only, set inside the statement), so the request does not wait for the WAL to
reach the disk. A scan written in its request is written before the page answers and
survives any crash of the app (a buffered one: see scanbook); only a crash of the
PostgreSQL server or its machine can lose the scans of its last moments (at most three
times wal_writer_delay, 0.6 s by default), never leaving the database inconsistent. Every other write of the app keeps synchronous commits.

A known customer's scan (WeChat OAuth, or the mini program) is also a timeline event, once a
day per customer and code (dedupe key), so a homeowner checking a box twice is one event.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import bindparam, func, insert, literal_column, select, update

from app.core.errors import NotFound
from app.core.extensions import db
from app.core.prebuilt import Prebuilt, reading
from app.models import (
    Customer,
    MaterialBatch,
    MaterialDelivery,
    Project,
    TraceCode,
    TraceScan,
)
from app.models.types import UTCDateTime, utcnow
from app.services.customers import timeline
from app.services.trace import catalog, codes, oauth, pagecache, ratelimit, reports, scanbook
from app.services.trace.clients import Client

CODE, SCAN = TraceCode.__table__, TraceScan.__table__
SCAN_COLUMNS = (
    "code_id",
    "batch_id",
    "scanned_at",
    "channel",
    "client",
    "network",
    "os",
    "device",
    "in_wechat",
    "customer_id",
)
COUNTERS = ("serial", "scan_count", "first_scanned_at")  # what the page shows of the code row


@dataclass(frozen=True)
class ScanView:
    """What the scan page and the mini program show of one code (never a person's data:
    the site is named by its community only)."""

    code: str
    serial: int
    scan_count: int
    first_scanned_at: datetime | None
    batch_id: int
    batch_no: str
    production_date: date | None
    contract_ref: str
    inspection: list
    report_no: str
    inspection_agency: str
    has_report: bool
    category: str
    name: str
    brand: str
    model: str
    spec: str
    unit: str
    supplier: str
    delivered_at: datetime | None
    project_id: int | None
    community: str | None

    @property
    def url(self) -> str:
        return codes.url(self.code)


def _site_columns() -> list:
    delivery, project = MaterialDelivery.__table__, Project.__table__
    return [delivery.c.delivered_at, delivery.c.project_id, project.c.community]


def _page_columns(source) -> list:
    """The page's columns, read from `source` (the code table)."""
    return [*(source.c[name] for name in COUNTERS), *catalog.CATALOG_COLUMNS, *_site_columns()]


def _joined(source):
    delivery, project = MaterialDelivery.__table__, Project.__table__
    return (
        catalog.join_catalog(source, source.c.batch_id)
        .outerjoin(delivery, delivery.c.id == source.c.delivery_id)
        .outerjoin(project, project.c.id == delivery.c.project_id)
    )


def _now():
    return bindparam("now", type_=UTCDateTime)


def _counting(where):
    return (
        update(CODE)
        .where(where)
        .values(
            scan_count=CODE.c.scan_count + 1,
            first_scanned_at=func.coalesce(CODE.c.first_scanned_at, _now()),
            last_scanned_at=_now(),
        )
    )


def _scan_values(code_id, batch_id) -> list:
    typed = (bindparam(name, type_=SCAN.c[name].type) for name in SCAN_COLUMNS[3:])
    return [code_id, batch_id, _now(), *typed]


# PostgreSQL's row version of a batch: a new value after every UPDATE of the row.
BATCH_VERSION = literal_column("material_batches.xmin::text")
# synchronous_commit off for the statement's own transaction (see the docstring).
ASYNC_COMMIT = literal_column("set_config('synchronous_commit', 'off', true)")


def _one_statement():
    """PostgreSQL: count, store the scan and return the code's counters, its batch and
    delivery and the batch row's version, in one statement committed asynchronously."""
    counted = (
        _counting(CODE.c.code == bindparam("code"))
        .returning(*(CODE.c[n] for n in ("id", "batch_id", "delivery_id", *COUNTERS)))
        .cte("counted")
    )
    stored = (
        insert(SCAN)
        .from_select(SCAN_COLUMNS, select(*_scan_values(counted.c.id, counted.c.batch_id)))
        .returning(SCAN.c.id)
        .cte("stored")
    )
    version = select(BATCH_VERSION).where(catalog.BATCH.c.id == counted.c.batch_id)
    return select(
        select(stored.c.id).scalar_subquery().label("scan_id"),
        counted.c.id.label("code_id"),
        *(counted.c[name] for name in (*COUNTERS, "batch_id", "delivery_id")),
        version.scalar_subquery().label("version"),
        ASYNC_COMMIT.label("commit_mode"),
    )


def _catalog_statement():
    """PostgreSQL: the page's catalog part of a batch and a delivery (or none), and the
    batch row's version, read together."""
    delivery, project = MaterialDelivery.__table__, Project.__table__
    batch = catalog.BATCH
    joined = (
        batch.join(catalog.MATERIAL, catalog.MATERIAL.c.id == batch.c.material_id)
        .join(catalog.SUPPLIER, catalog.SUPPLIER.c.id == batch.c.supplier_id)
        .outerjoin(delivery, delivery.c.id == bindparam("delivery_id", type_=delivery.c.id.type))
        .outerjoin(project, project.c.id == delivery.c.project_id)
    )
    return (
        select(BATCH_VERSION.label("version"), *catalog.CATALOG_COLUMNS, *_site_columns())
        .select_from(joined)
        .where(batch.c.id == bindparam("batch_id"))
    )


OPEN_PG = Prebuilt(_one_statement())
CATALOG_PG = Prebuilt(_catalog_statement())
# SQLite: the same page read from the code row, after the two writes.
FIND_SQLITE = select(CODE.c.id, CODE.c.batch_id).where(CODE.c.code == bindparam("code"))
PAGE_SQLITE = (
    select(*_page_columns(CODE)).select_from(_joined(CODE)).where(CODE.c.id == bindparam("code_id"))
)


def _scan_params(code: str, client: Client, channel: str, customer_id: int | None) -> dict:
    return {
        "code": code,
        "now": utcnow(),
        "channel": channel,
        "customer_id": customer_id,
        **client.columns(),
    }


def _open_sqlite(params: dict) -> dict | None:
    session = db.session
    found = session.execute(FIND_SQLITE, params).first()
    if found is None:
        return None
    session.execute(_counting(CODE.c.id == found.id), params)
    values = dict(zip(SCAN_COLUMNS, (found.id, found.batch_id), strict=False))
    values.update({name: params[name] for name in SCAN_COLUMNS[3:]}, scanned_at=params["now"])
    session.execute(insert(TraceScan).values(**values))
    row = session.execute(PAGE_SQLITE, {"code_id": found.id}).first()
    page = row._asdict()
    page["inspection"] = page["inspection"] or []
    return page


def _catalog_part(
    batch_id: int, delivery_id: int | None, version: str, reader=None
) -> tuple[dict, str]:
    """The page's catalog part, from this process's cache or read (and kept), and the batch
    version it is of (`version`, or the one read); `reader`: an open prebuilt.Reader to read
    it on (else one is opened when it must be read)."""
    cache, key = pagecache.cache(), (batch_id, delivery_id)
    part = cache.get(key, version)
    if part is not None:
        return part, version
    if reader is None:
        with reading() as opened:
            return _catalog_part(batch_id, delivery_id, version, opened)
    row = reader.first(CATALOG_PG, {"batch_id": batch_id, "delivery_id": delivery_id})
    part = row._asdict()
    part["inspection"] = part["inspection"] or []
    version = part.pop("version")
    cache.put(key, version, part)
    return part, version


def _open_pg(params: dict, book: scanbook.ScanBook | None, buffered: bool) -> dict | None:
    """A held code's scan, when `buffered`, is counted in the process (scanbook); any other
    goes to the database in one statement, and the book learns of it (and may then read
    its batch to hold it)."""
    if buffered and book is not None and (counted := book.count(params)) is not None:
        part, version = _catalog_part(counted.batch_id, counted.delivery_id, counted.version)
        if version != counted.version:  # the batch was edited since the book read it
            book.adopt(counted.batch_id, version)
        return {
            "serial": counted.serial,
            "scan_count": counted.scan_count,
            "first_scanned_at": counted.first_scanned_at,
            **part,
        }
    with reading() as reader, book.writing() if book is not None else nullcontext():
        row = reader.first(OPEN_PG, params)
        if row is None:
            return None
        part, _ = _catalog_part(row.batch_id, row.delivery_id, row.version, reader)
        count, first = row.scan_count, row.first_scanned_at
        if book is not None:
            count, first = book.seen(params["code"], row.code_id, count, first)
            if book.claim(row.batch_id):
                book.load(reader.driver, row.batch_id)
    return {"serial": row.serial, "scan_count": count, "first_scanned_at": first, **part}


def record(code: str, client: Client, channel: str, customer_id: int | None = None):
    """Count an opening of `code` and store its scan; the page's ScanView, or None when
    the code was never issued (a malformed one makes no query). A known customer's scan is
    written in the request; another may wait in this process's scanbook."""
    if not codes.well_formed(code):
        return None
    params = _scan_params(code, client, channel, customer_id)
    if db.engine.dialect.name != "postgresql":
        page = _open_sqlite(params)
    else:
        page = _open_pg(params, scanbook.book(), buffered=customer_id is None)
    return None if page is None else ScanView(code=code, **page)


def local_day(when: datetime) -> date:
    return when.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def note_customer(view: ScanView, customer: Customer, channel: str) -> None:
    """The homeowner's timeline: one `material_scanned` event a day per code."""
    payload = {
        "trace_code": view.code,
        "batch_id": view.batch_id,
        "batch_no": view.batch_no,
        "material": view.name,
        "brand": view.brand,
        "model": view.model,
        "project_id": view.project_id,
    }
    key = f"trace-scan:{customer.id}:{view.code}:{local_day(utcnow()).isoformat()}"
    timeline.record_once(
        customer,
        "material_scanned",
        channel=channel,
        direction="inbound",
        actor_type="customer",
        payload=payload,
        dedupe_key=key,
    )


@dataclass(frozen=True)
class Visit:
    """The scan page's answer: the page (view), WeChat's OAuth first (redirect), or
    nothing issued (both None); `cookie` is an openid to remember."""

    view: ScanView | None = None
    redirect: str | None = None
    cookie: str | None = None


def visit(
    code: str,
    client: Client,
    cookie: str | None = None,
    oauth_code: str | None = None,
    state: str | None = None,
) -> Visit:
    """One opening of /t/<code>. RateLimited past the client's limit. Inside WeChat, an
    issued code first goes through the official account's OAuth (once: the openid is then
    remembered in the cookie); the openid's customer, when we know one, is recorded."""
    ratelimit.hit(client.limit_key)
    openid, remember = oauth.openid_from_cookie(cookie), None
    if openid is None and client.in_wechat and oauth.enabled() and codes.well_formed(code):
        if state is None:
            if codes.find(code) is not None:
                return Visit(redirect=oauth.authorize_url(code))
        elif oauth_code:
            openid = remember = oauth.openid_from_code(oauth_code, state, code)
    customer = oauth.customer_of(openid)
    channel = "wechat" if openid else "web"
    view = record(code, client, channel, customer.id if customer else None)
    if view is not None and customer is not None:
        note_customer(view, customer, "mp")
    return Visit(view=view, cookie=oauth.cookie_value(remember) if remember else None)


def visit_mini(code: str, client: Client, customer: Customer) -> ScanView | None:
    """GET /mini/v1/trace/<code>: the homeowner is known; RateLimited past the limit."""
    ratelimit.hit(client.limit_key)
    view = record(code, client, "mini", customer.id)
    if view is not None:
        note_customer(view, customer, "mini")
    return view


def report(code: str, client: Client) -> tuple[bytes | None, str]:
    """(bytes, content type) of the inspection report behind an issued code, (None, "")
    when there is none; counts against the client's rate limit like the page."""
    ratelimit.hit(client.limit_key)
    if not codes.well_formed(code):
        return None, ""
    batch = MaterialBatch.__table__
    row = db.session.execute(
        select(batch.c.report_key, batch.c.report_type)
        .join(CODE, CODE.c.batch_id == batch.c.id)
        .where(CODE.c.code == code)
    ).first()
    if row is None or row.report_key is None:
        return None, ""
    try:
        return reports.require(row.report_key, row.report_type)
    except NotFound:
        return None, ""


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])
