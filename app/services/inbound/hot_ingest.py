"""The callback's hot path: a plain message stored in one statement, on the driver connection.

Nearly every callback is a text, image or voice message, and nearly every sender is a
customer we know. On PostgreSQL one statement finds the sender (the identity of a customer
not merged away), stores the message unless its dedupe key is already there, and touches
the identity as contacts.touch_mp_identity would (follow state and the 48-hour window,
written only when stale); for a stranger the same statement creates the customer and the
identity. A single statement is atomic, so it runs outside a transaction. It runs on the
pool's psycopg connection, not through the Session or Core: profiled, the Session spent
0.33 ms of Python per message and the driver 0.06 ms, while PostgreSQL runs the statement
in less than either, and a callback server's CPU is what limits it.

Whenever nothing is stored (WeChat's retry, a merged customer, two first messages of one
stranger racing, a row under the message's previous key format: dedupe.py) ingest.py's
full path runs, which finds the stored row or the winner's customer. SQLite, the embedded default, keeps the known sender's two statements through
SQLAlchemy and the full path for first contacts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import bindparam, text

from app.core.database import begin_autocommit, driver_connection, end_autocommit
from app.core.extensions import db
from app.models import Customer
from app.models.types import JSONType, UTCDateTime, utcnow
from app.services.customers.timeline import INSERT_EVENT
from app.services.inbound.contacts import WINDOW_SLACK
from app.services.inbound.wechat_events import message_payload


@dataclass(frozen=True)
class Stored:
    event_id: int
    customer_id: int


_EVENT_COLUMNS = INSERT_EVENT  # the timeline's own column list; values below in its order
# SQLite: the known sender's message, then the touch when it was stored (no data-modifying
# WITH there). PostgreSQL runs both, and a stranger's first contact, as MESSAGE_PG below.
_KNOWN_MESSAGE_SQLITE = (
    f"{_EVENT_COLUMNS} SELECT i.customer_id, :occurred_at, 'message', 'mp', 'inbound',"
    " 'customer', NULL, :payload, :dedupe_key, true, :created_at"
    " FROM customer_identities i JOIN customers c ON c.id = i.customer_id"
    " WHERE i.kind = 'mp_openid' AND i.app_id = :app_id AND i.value = :openid"
    " AND c.merged_into_id IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM timeline_events o WHERE o.dedupe_key = :legacy_key)"
    " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, customer_id"
)
_TOUCH_SQLITE = (
    "UPDATE customer_identities SET subscribed = true, last_inbound_at = :occurred_at"
    " WHERE kind = 'mp_openid' AND app_id = :app_id AND value = :openid"
    " AND (subscribed IS NULL OR subscribed = false OR last_inbound_at IS NULL"
    " OR last_inbound_at < :stale)"
)


def _customer_values() -> dict[str, str]:
    """SQL for each column an ORM insert of a bare Customer fills: the model's own defaults
    as literals (sent with every message as parameters, they cost more than the insert),
    and its clock defaults as the time the message was stored."""
    values = {}
    for column in Customer.__table__.columns:
        default = column.default
        if default is None:
            continue
        value = default.arg(None) if default.is_callable else default.arg
        if isinstance(value, datetime):
            values[column.name] = "%(created_at)s"
        elif isinstance(value, str):
            values[column.name] = "'" + value.replace("'", "''") + "'"
        else:  # a new kind of default: teach this function, never store something else
            raise TypeError(f"customers.{column.name}: default {value!r} has no SQL here")
    return {**values, "source_channel": "'mp'"}


_CUSTOMER = _customer_values()
# PostgreSQL: one statement whoever the sender is. A known sender's message is stored and
# the identity touched; a stranger's creates the customer (only when no identity exists)
# and the identity with it. The result is the stored event's (id, customer_id), or NULLs
# (a retry, a customer merged away, a row under the previous key: the full path, which
# creates nothing twice). Two strangers' twins racing: the identity's unique constraint
# fails the later statement whole, nothing of it is kept.
MESSAGE_PG = f"""
WITH legacy AS (
    SELECT 1 FROM timeline_events WHERE dedupe_key = %(legacy_key)s
), sender AS (
    SELECT i.customer_id, c.merged_into_id IS NULL AS alive
    FROM customer_identities i JOIN customers c ON c.id = i.customer_id
    WHERE i.kind = 'mp_openid' AND i.app_id = %(app_id)s AND i.value = %(openid)s
), customer AS (
    INSERT INTO customers ({", ".join(_CUSTOMER)})
    SELECT {", ".join(_CUSTOMER.values())}
    WHERE NOT EXISTS (SELECT 1 FROM sender) AND NOT EXISTS (SELECT 1 FROM legacy)
    RETURNING id
), identity AS (
    INSERT INTO customer_identities
        (customer_id, kind, app_id, value, subscribed, last_inbound_at, created_at)
    SELECT id, 'mp_openid', %(app_id)s, %(openid)s, true, %(occurred_at)s, %(created_at)s
    FROM customer
    RETURNING customer_id
), event AS (
    {_EVENT_COLUMNS}
    SELECT s.customer_id, %(occurred_at)s, 'message', 'mp', 'inbound', 'customer', NULL,
        CASE WHEN s.first THEN %(payload)s || '{{"first_contact": true}}' ELSE %(payload)s END,
        %(dedupe_key)s, true, %(created_at)s
    FROM (SELECT customer_id, false AS first FROM sender WHERE alive
          UNION ALL SELECT customer_id, true FROM identity) s
    WHERE NOT EXISTS (SELECT 1 FROM legacy)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, customer_id
), touched AS (
    UPDATE customer_identities SET subscribed = true, last_inbound_at = %(occurred_at)s
    WHERE kind = 'mp_openid' AND app_id = %(app_id)s AND value = %(openid)s
      AND (subscribed IS NULL OR subscribed = false OR last_inbound_at IS NULL
           OR last_inbound_at < %(stale)s)
      AND EXISTS (SELECT 1 FROM event) AND EXISTS (SELECT 1 FROM sender)
    RETURNING 1
)
SELECT (SELECT id FROM event), (SELECT customer_id FROM event)
"""

_BINDS = {
    "payload": bindparam("payload", type_=JSONType),
    "occurred_at": bindparam("occurred_at", type_=UTCDateTime),
    "created_at": bindparam("created_at", type_=UTCDateTime),
    "stale": bindparam("stale", type_=UTCDateTime),
}
KNOWN_SQLITE = (
    text(_KNOWN_MESSAGE_SQLITE).bindparams(
        _BINDS["payload"], _BINDS["occurred_at"], _BINDS["created_at"]
    ),
    text(_TOUCH_SQLITE).bindparams(_BINDS["occurred_at"], _BINDS["stale"]),
)


def store_message(
    app_id: str, openid: str, msg: dict, key: str, when: datetime, legacy_key: str
) -> Stored | None:
    """Store an official-account message (not an event) under `key`, unless a row holds
    `legacy_key` (its previous format); None when the full path must run."""
    values = {
        "occurred_at": when,
        "payload": message_payload(msg),
        "dedupe_key": key,
        "legacy_key": legacy_key,
        "created_at": utcnow(),
        "app_id": app_id,
        "openid": openid,
        "stale": when - WINDOW_SLACK,
    }
    if db.engine.dialect.name != "postgresql":
        return _known_sqlite(values)
    from psycopg.errors import UniqueViolation

    with driver_cursor() as cursor:
        try:
            params = {**values, "payload": _jsonb(values["payload"])}
            event_id, customer_id = cursor.execute(MESSAGE_PG, params).fetchone()
        except UniqueViolation:  # a stranger's twin won: the full path finds its identity
            return None
    return Stored(event_id, customer_id) if event_id is not None else None


def _known_sqlite(values: dict) -> Stored | None:
    if not begin_autocommit():
        return None
    connection = db.session.connection()
    row = connection.execute(KNOWN_SQLITE[0], values).first()
    if row is None:
        end_autocommit()  # the full path runs in a transaction
        return None
    connection.execute(KNOWN_SQLITE[1], values)
    return Stored(row.id, row.customer_id)


def _jsonb(payload: dict):
    from psycopg.types.json import Jsonb

    return Jsonb(payload, dumps=orjson.dumps)


@contextmanager
def driver_cursor() -> Iterator:
    """A cursor on a pooled driver connection in autocommit (database.driver_connection).
    The cursor is kept with the connection: making one per message cost more than running
    the statement."""
    with driver_connection() as pooled:
        conn = pooled.driver_connection
        cursor = pooled.info.get("hot_cursor")
        if cursor is None or cursor.closed or cursor.connection is not conn:
            cursor = pooled.info["hot_cursor"] = conn.cursor()
        yield cursor
