"""Every inbound message and event into the right place, exactly once.

A callback becomes one row: a timeline event of the customer it is about, or, when it is
about no customer (a staff member's app message, a group-chat change), a CallbackEvent.
Both carry a unique dedupe key, so WeChat's retries (up to three, seconds apart) and
concurrent duplicate deliveries land on the row that is already there.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.core.wxprotocol import CallbackError
from app.models import CustomerIdentity
from app.models.types import utcnow
from app.services.customers import customers, timeline
from app.services.inbound import auto_reply, contacts, hot_ingest
from app.services.inbound.wechat_events import (
    MP_EVENT_KINDS,
    MP_MESSAGE_TYPES,
    IngestResult,
    apply_consent_events,
    callback_event,
    message_payload,
    notify_delivery,
)


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
        stored = hot_ingest.store_message(app_id, openid, msg, key, occurred_at(msg))
        if stored is not None:
            reply = auto_reply.reply_for(stored.customer_id, msg, key)
            return IngestResult(True, stored.event_id, reply)
    scene = _scene(msg) if event in ("subscribe", "SCAN") else ""
    identity, first = _mp_sender(app_id, openid, scene)
    customer = customers.resolve(identity.customer)
    kind = (
        "message" if msg_type in MP_MESSAGE_TYPES else MP_EVENT_KINDS.get(event, "wechat_unknown")
    )
    record, created = timeline.record_once(
        customer,
        kind,
        channel="mp",
        direction="inbound",
        actor_type="customer",
        payload=message_payload(msg, first_contact=first, scene=scene),
        occurred_at=occurred_at(msg),
        dedupe_key=key,
        needs_enrichment=True,
    )
    if not created:  # WeChat's retry: same row, same answer
        return IngestResult(False, record.id, auto_reply.stored_reply(key))
    contacts.touch_mp_identity(identity, kind, record.occurred_at)
    apply_consent_events(customer, msg)
    notify_delivery(msg)
    reply = auto_reply.reply_for(customer.id, msg, key) if kind == "message" else None
    return IngestResult(True, record.id, reply)


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
