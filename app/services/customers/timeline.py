"""The customer timeline: record events once, read them newest first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, text, tuple_

from app.core import cursors
from app.core.cursors import CursorError  # noqa: F401 - part of this module's API
from app.core.database import as_loaded
from app.core.extensions import db
from app.models import CHANNELS, DIRECTIONS, Customer, Staff, TimelineEvent
from app.models.types import JSONType, UTCDateTime, utcnow

MAX_PAGE = 100


def find_by_dedupe_key(key: str) -> TimelineEvent | None:
    return db.session.scalars(select(TimelineEvent).filter_by(dedupe_key=key)).first()


def record_once(
    customer: Customer,
    kind: str,
    *,
    channel: str = "system",
    direction: str = "internal",
    payload: dict | None = None,
    occurred_at: datetime | None = None,
    actor_staff: Staff | None = None,
    actor_type: str | None = None,
    dedupe_key: str | None = None,
    needs_enrichment: bool = False,
) -> tuple[TimelineEvent, bool]:
    """Store an event unless its dedupe key is already stored; (event, created)."""
    if channel not in CHANNELS or direction not in DIRECTIONS:
        raise ValueError(f"bad channel/direction {channel!r}/{direction!r}")
    values = {
        "customer_id": customer.id,
        "kind": kind,
        "channel": channel,
        "direction": direction,
        "payload": payload or {},
        "occurred_at": occurred_at or utcnow(),
        "actor_staff_id": actor_staff.id if actor_staff else None,
        "actor_type": actor_type or ("staff" if actor_staff else "system"),
        "dedupe_key": dedupe_key,
        "needs_enrichment": needs_enrichment,
    }
    event = _insert_unless_duplicate(values)
    if event is not None:  # always, without a dedupe key
        return event, True
    return find_by_dedupe_key(dedupe_key), False


def _insert_unless_duplicate(values: dict) -> TimelineEvent | None:
    """INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING: one round trip, and a
    concurrent twin of the same WeChat message simply gets no row back. The row is handed
    to the session as if loaded (no flush of the unit of work, no SELECT): the callback's
    hot path, and the tag events a batch of enrichment writes by the thousand."""
    values = {**values, "created_at": utcnow()}
    new_id = db.session.execute(_UPSERT, values).scalar()
    if new_id is None:
        return None
    return as_loaded(TimelineEvent, {"id": new_id, **values})


# The one column list of every SQL insert into timeline_events (this module's own, the
# callback's one-statement path in inbound.hot_ingest, the outbox's sent notices): each
# writes INSERT_EVENT followed by its values in this order. A column added to the model is
# added here, and tests/customers/test_timeline.py fails until it is.
EVENT_COLUMNS = (
    "customer_id",
    "occurred_at",
    "kind",
    "channel",
    "direction",
    "actor_type",
    "actor_staff_id",
    "payload",
    "dedupe_key",
    "needs_enrichment",
    "created_at",
)
INSERT_EVENT = f"INSERT INTO timeline_events ({', '.join(EVENT_COLUMNS)})"

# Plain SQL, the same on PostgreSQL and SQLite (≥ 3.35). SQLAlchemy's dialect upserts are
# not cacheable and recompiled on every call, which cost more than the INSERT itself.
_UPSERT = text(
    f"{INSERT_EVENT} VALUES ({', '.join(':' + c for c in EVENT_COLUMNS)})"
    " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
).bindparams(
    bindparam("payload", type_=JSONType),
    bindparam("occurred_at", type_=UTCDateTime),
    bindparam("created_at", type_=UTCDateTime),
)


def record(customer: Customer, kind: str, **fields) -> TimelineEvent:
    """Store an event and return it, or the already stored one with the same dedupe key."""
    return record_once(customer, kind, **fields)[0]


def encode_cursor(event: TimelineEvent) -> str:
    return cursors.encode(event.occurred_at, event.id)


def page_query(
    customer_id: int,
    before: str | None = None,
    limit: int = 20,
    kinds: tuple[str, ...] | None = None,
    exclude: bool = False,
):
    """The SELECT of one page (limit + 1 rows); CursorError for a cursor we did not issue."""
    bound = None
    if before:
        when, ident = cursors.decode(before)
        bound = (bindparam("before_at", when, type_=UTCDateTime), ident)
    where = page_clauses(customer_id, kinds, exclude, bound)
    return select(TimelineEvent).where(*where).order_by(*NEWEST_FIRST).limit(limit + 1)


NEWEST_FIRST = (TimelineEvent.occurred_at.desc(), TimelineEvent.id.desc())


def page_clauses(customer_id, kinds=None, exclude: bool = False, before=None) -> list:
    """The WHERE clauses of a page: one customer's events (only `kinds`, or with `exclude`
    all but them) older than `before`, a (when, id) pair. Values or bind parameters."""
    where = [TimelineEvent.customer_id == customer_id]
    if kinds:
        chosen = TimelineEvent.kind.in_(kinds)
        where.append(~chosen if exclude else chosen)
    if before is not None:
        # A row value, so PostgreSQL seeks the (customer_id, occurred_at, id) index to it.
        where.append(tuple_(TimelineEvent.occurred_at, TimelineEvent.id) < tuple_(*before))
    return where


def page(
    customer_id: int,
    before: str | None = None,
    limit: int = 20,
    kinds: tuple[str, ...] | None = None,
    exclude: bool = False,
) -> tuple[list, str | None]:
    """Newest-first events of one customer, keyset-paginated on (occurred_at, id); only
    `kinds` (or, with `exclude`, all but them) when given."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = db.session.scalars(page_query(customer_id, before, limit, kinds, exclude)).all()
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return list(rows[:limit]), next_cursor


def message_text(payload: dict) -> str:
    """What the customer said in words: text content, or the voice recognition."""
    return payload.get("content") or payload.get("recognition") or ""
