"""Every inbound message and event into the right place, exactly once.

A callback becomes one row: a timeline event of the customer it is about, or, when it is
about no customer (a staff member's app message, a group-chat change), a CallbackEvent.
Both carry a unique dedupe key, so WeChat's retries (up to three, seconds apart) and
concurrent duplicate deliveries land on the row that is already there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, text

from app.extensions import begin_autocommit, db, end_autocommit
from app.models import CustomerIdentity
from app.models.types import JSONType, UTCDateTime, utcnow
from app.services import auto_reply, contacts, customers, timeline
from app.services.wechat_events import (
    MP_EVENT_KINDS,
    MP_MESSAGE_TYPES,
    apply_consent_events,
    callback_event,
    message_payload,
    notify_delivery,
)
from app.wxprotocol import CallbackError


@dataclass
class IngestResult:
    created: bool
    event_id: int | None = None
    reply: str | None = None


def occurred_at(msg: dict) -> datetime:
    raw = msg.get("CreateTime", "")
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()


def _field(msg: dict, name: str) -> str:
    value = msg.get(name, "")
    return value if isinstance(value, str) else ""


def mp_dedupe_key(app_id: str, msg: dict) -> str:
    if _field(msg, "MsgId"):
        return f"mp:{app_id}:msg:{msg['MsgId']}"
    parts = [_field(msg, k) for k in ("FromUserName", "CreateTime", "Event", "EventKey", "MsgID")]
    return f"mp:{app_id}:evt:" + ":".join(parts)


def _scene(msg: dict) -> str:
    """The QR scene: `qrscene_X` on a first follow, plain `X` on SCAN by a follower."""
    key = _field(msg, "EventKey")
    return key.removeprefix("qrscene_") if key.startswith("qrscene_") else key


def _mp_sender(app_id: str, openid: str, scene: str) -> tuple[CustomerIdentity, bool]:
    """The sender's identity (with its customer); a first contact creates both."""
    channel = f"mp_qr:{scene}" if scene else "mp"
    return customers.find_or_create_identity("mp_openid", openid, app_id, source_channel=channel)


def ingest_mp(app_id: str, msg: dict) -> IngestResult:
    """An official-account message or event, from an openid, into its customer's timeline."""
    openid = _field(msg, "FromUserName")
    if not openid:
        raise CallbackError(400, "message without FromUserName")
    msg_type, event = _field(msg, "MsgType"), _field(msg, "Event")
    key = mp_dedupe_key(app_id, msg)
    if msg_type in MP_MESSAGE_TYPES and not event:
        known = _message_from_known_sender(app_id, openid, msg, key)
        if known is not None:
            return known
    scene = _scene(msg) if event in ("subscribe", "SCAN") else ""
    identity, first = _mp_sender(app_id, openid, scene)
    customer = customers.resolve(identity.customer)
    kind = (
        "message" if msg_type in MP_MESSAGE_TYPES else MP_EVENT_KINDS.get(event, "wechat_unknown")
    )
    record, created = timeline.record_once(
        customer, kind, channel="mp", direction="inbound", actor_type="customer",
        payload=message_payload(msg, first_contact=first, scene=scene),
        occurred_at=occurred_at(msg), dedupe_key=key, needs_enrichment=True,
    )  # fmt: skip
    if not created:  # WeChat's retry: same row, same answer
        return IngestResult(False, record.id, auto_reply.stored_reply(key))
    contacts.touch_mp_identity(identity, kind, record.occurred_at)
    apply_consent_events(customer, msg)
    notify_delivery(msg)
    reply = auto_reply.reply_for(customer.id, msg, key) if kind == "message" else None
    return IngestResult(True, record.id, reply)


# Nearly every callback is a message from a customer we know. One statement finds the
# sender (the identity of a customer not merged away), stores the message, and touches the
# identity as contacts.touch_mp_identity would (follow state and the 48-hour window, written
# only when they change). A single statement is atomic, so it runs outside a transaction:
# one round trip and one commit instead of six. No row back (a new sender, a merged
# customer, WeChat's retry) and the full path runs.
_SENDER_MESSAGE = (
    "INSERT INTO timeline_events (customer_id, occurred_at, kind, channel, direction, actor_type,"
    " actor_staff_id, payload, dedupe_key, needs_enrichment, created_at)"
    " SELECT i.customer_id, :occurred_at, 'message', 'mp', 'inbound', 'customer', NULL,"
    " :payload, :dedupe_key, :yes, :created_at"
    " FROM customer_identities i JOIN customers c ON c.id = i.customer_id"
    " WHERE i.kind = 'mp_openid' AND i.app_id = :app_id AND i.value = :openid"
    " AND c.merged_into_id IS NULL"
    " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, customer_id"
)
_SENDER_TOUCH = (
    "UPDATE customer_identities SET subscribed = :yes, last_inbound_at = :occurred_at"
    " WHERE kind = 'mp_openid' AND app_id = :app_id AND value = :openid"
    " AND (subscribed IS NULL OR subscribed = :no OR last_inbound_at IS NULL"
    " OR last_inbound_at < :stale)"
)
_BINDS = (
    bindparam("payload", type_=JSONType),
    bindparam("occurred_at", type_=UTCDateTime),
    bindparam("created_at", type_=UTCDateTime),
    bindparam("stale", type_=UTCDateTime),
)
# PostgreSQL: both in one statement (data-modifying WITH). SQLite, the embedded default,
# has no such WITH: two statements, the touch only when the message was stored.
_FAST_PATH = {
    "postgresql": [text(
        f"WITH event AS ({_SENDER_MESSAGE}), touched AS ({_SENDER_TOUCH}"
        " AND EXISTS (SELECT 1 FROM event) RETURNING 1) SELECT id, customer_id FROM event"
    ).bindparams(*_BINDS)],
    "sqlite": [text(_SENDER_MESSAGE).bindparams(*_BINDS[:3]),
               text(_SENDER_TOUCH).bindparams(_BINDS[1], _BINDS[3])],
}  # fmt: skip


def _message_from_known_sender(app_id: str, openid: str, msg: dict, key: str):
    """The fast path of ingest_mp; None when the full path must run."""
    if not begin_autocommit():
        return None
    connection = db.session.connection()
    store, *touch = _FAST_PATH[connection.dialect.name]
    when = occurred_at(msg)
    values = {
        "occurred_at": when, "payload": message_payload(msg), "dedupe_key": key, "yes": True,
        "no": False, "created_at": utcnow(), "app_id": app_id, "openid": openid,
        "stale": when - contacts.WINDOW_SLACK,
    }  # fmt: skip
    row = connection.execute(store, values).first()
    if row is None:
        end_autocommit()  # the full path runs in a transaction
        return None
    for statement in touch:
        connection.execute(statement, values)
    return IngestResult(True, row.id, auto_reply.reply_for(row.customer_id, msg, key))


def wecom_dedupe_key(corp_id: str, msg: dict) -> str:
    if _field(msg, "MsgId"):
        return f"wecom:{corp_id}:msg:{msg['MsgId']}"
    event = _field(msg, "Event")
    if event == "change_external_contact":
        # FromUserName is always "sys" here: the key must name both people and the change.
        ids = ("ChangeType", "UserID", "ExternalUserID", "CreateTime")
    elif event == "change_external_chat":
        ids = ("ChatId", "ChangeType", "UpdateDetail", "CreateTime", "CurMemVer")
    else:
        ids = ("FromUserName", "CreateTime", "Event", "ChangeType", "EventKey", "Id", "TagId")
    return f"wecom:{corp_id}:{event or 'msg'}:" + ":".join(_field(msg, k) for k in ids)


def ingest_wecom(corp_id: str, msg: dict) -> IngestResult:
    """A WeCom callback: customer-contact changes go to the customer; the rest is kept raw."""
    key = wecom_dedupe_key(corp_id, msg)
    if _field(msg, "Event") == "change_external_contact" and _field(msg, "ExternalUserID"):
        return contacts.ingest_contact_change(corp_id, msg, key, occurred_at(msg))
    _, created = callback_event("wecom", msg, key)
    return IngestResult(created)
