"""Every inbound message and event into the right place, exactly once.

A callback becomes one row: a timeline event of the customer it is about, or, when it is
about no customer (a staff member's app message, a group-chat change, a report from
WeChat's system accounts such as a broadcast's result), a CallbackEvent. Both carry a
unique dedupe key (dedupe.py), so WeChat's retries (up to three, seconds apart) and
concurrent duplicate deliveries land on the row that is already there.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.core.wxprotocol import CallbackError
from app.models import CallbackEvent, CustomerIdentity, TimelineEvent
from app.models.types import utcnow
from app.services.customers import customers, timeline
from app.services.inbound import auto_reply, contacts, dedupe, hot_ingest
from app.services.inbound.wechat_events import (
    MP_EVENT_KINDS,
    MP_MESSAGE_TYPES,
    SYSTEM_EVENTS,
    IngestResult,
    apply_consent_events,
    callback_event,
    message_payload,
    notify_delivery,
)

QR_SCENE_PREFIX = "qrscene_"
QR_SCENE_MAX = 64  # scene_str is 1-64 characters, scene_id a 32-bit number (qrcode/create)


def occurred_at(msg: dict) -> datetime:
    raw = msg.get("CreateTime", "")
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()


def _field(msg: dict, name: str) -> str:
    value = msg.get(name, "")
    return value if isinstance(value, str) else ""


def _scene(msg: dict) -> str:
    """The QR scene a follow or a scan names, else "". Only `subscribe` with the
    `qrscene_` prefix (a non-follower scanned a parametric QR code) and SCAN (a follower
    did) name one: a follow's EventKey may be anything else (`last_trade_no_…` after a
    WeChat Pay purchase), which names no channel."""
    event, key = _field(msg, "Event"), _field(msg, "EventKey")
    if event == "subscribe" and key.startswith(QR_SCENE_PREFIX):
        scene = key[len(QR_SCENE_PREFIX) :]
    elif event == "SCAN":
        scene = key
    else:
        return ""
    return scene if 0 < len(scene) <= QR_SCENE_MAX else ""


def _mp_sender(app_id: str, openid: str, scene: str) -> tuple[CustomerIdentity, bool]:
    """The sender's identity (with its customer); a first contact creates both."""
    channel = f"mp_qr:{scene}" if scene else "mp"
    return customers.find_or_create_identity("mp_openid", openid, app_id, source_channel=channel)


def _retry_of_legacy(legacy_key: str, msg: dict, on_timeline: bool) -> IngestResult | None:
    """A retry of a delivery stored under its previous key (dedupe.py): the stored row.
    The previous release kept every official-account callback and WeCom's contact changes
    on the timeline, the rest of WeCom's as CallbackEvents."""
    if not on_timeline:
        row = dedupe.stored_before(legacy_key, msg, CallbackEvent)
        return None if row is None else IngestResult(False)
    event = dedupe.stored_before(legacy_key, msg, TimelineEvent)
    if event is None:
        return None
    return IngestResult(False, event.id, auto_reply.stored_reply(legacy_key))


def ingest_mp(app_id: str, msg: dict) -> IngestResult:
    """An official-account message or event, from an openid, into its customer's timeline."""
    openid = _field(msg, "FromUserName")
    if not openid:
        raise CallbackError(400, "message without FromUserName")
    msg_type, event = _field(msg, "MsgType"), _field(msg, "Event")
    key, legacy = dedupe.mp_key(app_id, msg), dedupe.legacy_mp_key(app_id, msg)
    if msg_type in MP_MESSAGE_TYPES and not event:
        stored = hot_ingest.store_message(app_id, openid, msg, key, occurred_at(msg), legacy)
        if stored is not None:
            reply = auto_reply.reply_for(stored.customer_id, msg, key)
            return IngestResult(True, stored.event_id, reply)
    if (retry := _retry_of_legacy(legacy, msg, on_timeline=True)) is not None:
        return retry
    if msg_type == "event" and event in SYSTEM_EVENTS:  # WeChat's own accounts: no customer
        _, created = callback_event("mp", msg, key)
        return IngestResult(created)
    scene = _scene(msg)
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


def ingest_wecom(corp_id: str, msg: dict) -> IngestResult:
    """A WeCom callback: customer-contact changes go to the customer; the rest is kept raw."""
    contact = _field(msg, "Event") == "change_external_contact" and _field(msg, "ExternalUserID")
    legacy = dedupe.legacy_wecom_key(corp_id, msg)
    if (retry := _retry_of_legacy(legacy, msg, on_timeline=bool(contact))) is not None:
        return retry
    key = dedupe.wecom_key(corp_id, msg)
    if contact:
        return contacts.ingest_contact_change(corp_id, msg, key, occurred_at(msg))
    _, created = callback_event("wecom", msg, key)
    return IngestResult(created)
