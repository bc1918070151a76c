"""What each WeChat message and event type means to us: timeline kinds and payloads."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import select

from app.core import hooks
from app.core.database import insert_once
from app.core.extensions import db
from app.core.wxprotocol import as_list
from app.models import CallbackEvent, Customer, MessageConsent, Staff


@dataclass
class IngestResult:
    """A callback taken in: whether it was new (a retry is not), its timeline event, and
    the passive reply to send back (None: answer "success")."""

    created: bool
    event_id: int | None = None
    reply: str | None = None


MP_MESSAGE_TYPES = ("text", "image", "voice", "video", "shortvideo", "location", "link")
# Events a follower makes (接收事件推送, 自定义菜单事件推送, 订阅通知事件推送) and their
# timeline kinds; an event not named here is kept as "wechat_unknown" with its raw fields.
MP_EVENT_KINDS = {
    "subscribe": "follow",
    "unsubscribe": "unfollow",
    "SCAN": "qr_scan",
    "LOCATION": "location_report",
    "CLICK": "menu_click",
    "VIEW": "menu_view",
    "view_miniprogram": "menu_miniprogram",
    "scancode_push": "menu_scan",
    "scancode_waitmsg": "menu_scan",
    "pic_sysphoto": "menu_photo",
    "pic_photo_or_album": "menu_photo",
    "pic_weixin": "menu_photo",
    "location_select": "menu_location",
    "kf_create_session": "cs_session_opened",
    "kf_close_session": "cs_session_closed",
    "kf_switch_session": "cs_session_transferred",
    "TEMPLATESENDJOBFINISH": "notice_delivery",
    "subscribe_msg_popup_event": "consent_popup",
    "subscribe_msg_change_event": "consent_change",
    "subscribe_msg_sent_event": "notice_delivery",
}
# Events whose sender is one of WeChat's system accounts, not a person (the docs: "此时发送方
# 是系统账号"; a broadcast's result comes from the 群发助手): they concern no customer and
# are kept as CallbackEvents. Broadcast and publishing results, account verification,
# card and store reviews.
SYSTEM_EVENTS = frozenset(
    {
        "MASSSENDJOBFINISH",
        "PUBLISHJOBFINISH",
        "FREEPUBLISHJOBFINISH",
        "qualification_verify_success",
        "qualification_verify_fail",
        "naming_verify_success",
        "naming_verify_fail",
        "annual_renew",
        "verify_expired",
        "card_pass_check",
        "card_not_pass_check",
        "card_sku_remind",
        "card_pay_order",
        "poi_check_notify",
    }
)
# The fields worth reading at a glance, per message type; the whole message stays in "raw".
SUMMARY_FIELDS = {
    "text": ("Content",),
    "image": ("PicUrl", "MediaId"),
    "voice": ("MediaId", "Format", "Recognition"),
    "video": ("MediaId", "ThumbMediaId"),
    "shortvideo": ("MediaId", "ThumbMediaId"),
    "location": ("Location_X", "Location_Y", "Scale", "Label"),
    "link": ("Title", "Description", "Url"),
}


# Per event: the block its fields come in (None: at the top) and the fields worth reading
# at a glance (自定义菜单事件推送, 上报地理位置事件, 多客服会话状态通知事件).
EVENT_SUMMARY: dict[str, tuple[str | None, dict[str, str]]] = {
    "LOCATION": (
        None,
        {"Latitude": "latitude", "Longitude": "longitude", "Precision": "precision"},
    ),
    "VIEW": (None, {"MenuId": "menu_id"}),
    "view_miniprogram": (None, {"MenuId": "menu_id"}),
    "scancode_push": ("ScanCodeInfo", {"ScanType": "scan_type", "ScanResult": "scan_result"}),
    "scancode_waitmsg": ("ScanCodeInfo", {"ScanType": "scan_type", "ScanResult": "scan_result"}),
    "pic_sysphoto": ("SendPicsInfo", {"Count": "pic_count"}),
    "pic_photo_or_album": ("SendPicsInfo", {"Count": "pic_count"}),
    "pic_weixin": ("SendPicsInfo", {"Count": "pic_count"}),
    "kf_create_session": (None, {"KfAccount": "kf_account"}),
    "kf_close_session": (None, {"KfAccount": "kf_account"}),
    "kf_switch_session": (
        None,
        {"FromKfAccount": "from_kf_account", "ToKfAccount": "to_kf_account"},
    ),
    "location_select": (
        "SendLocationInfo",
        {
            "Location_X": "latitude",
            "Location_Y": "longitude",
            "Scale": "scale",
            "Label": "label",
            "Poiname": "poiname",
        },
    ),
}


def message_payload(msg: dict, *, first_contact: bool = False, scene: str = "") -> dict:
    msg_type = msg.get("MsgType", "")
    payload: dict = {"msg_type": msg_type, "raw": msg}
    for field in SUMMARY_FIELDS.get(msg_type, ()):
        if msg.get(field):
            payload[_snake(field)] = msg[field]
    if msg_type == "event":
        payload["event"] = msg.get("Event", "")
        if msg.get("EventKey"):
            payload["event_key"] = msg["EventKey"]
        payload.update(_event_summary(msg))
    if scene:
        payload["scene"] = scene
    if first_contact:
        payload["first_contact"] = True
    return payload


def _event_summary(msg: dict) -> dict:
    container, fields = EVENT_SUMMARY.get(msg.get("Event", ""), (None, {}))
    block = msg.get(container) if container else msg
    if not isinstance(block, dict):
        return {}
    summary = {name: block[f] for f, name in fields.items() if isinstance(block.get(f), str)}
    summary = {name: value for name, value in summary.items() if value}
    pictures = block.get("PicList")
    if isinstance(pictures, dict):
        items = [i for i in as_list(pictures.get("item")) if isinstance(i, dict)]
        summary["pic_md5s"] = [i["PicMd5Sum"] for i in items if isinstance(i.get("PicMd5Sum"), str)]
    return summary


@cache  # a handful of WeChat field names, asked for on every message
def _snake(name: str) -> str:
    return {"Location_X": "latitude", "Location_Y": "longitude"}.get(name) or "".join(
        "_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name)
    )


def _consent_items(msg: dict) -> list[dict]:
    # The doc's own sample of subscribe_msg_change_event wraps the list in
    # <SubscribeMsgPopupEvent> (a known doc bug): accept every container.
    for container in ("SubscribeMsgPopupEvent", "SubscribeMsgChangeEvent", "SubscribeMsgSentEvent"):
        block = msg.get(container)
        if isinstance(block, dict):
            return [item for item in as_list(block.get("List")) if isinstance(item, dict)]
    return []


def apply_consent_events(customer: Customer, msg: dict) -> None:
    """subscribe_msg_popup/change events: record which templates the customer accepts."""
    if msg.get("Event") not in ("subscribe_msg_popup_event", "subscribe_msg_change_event"):
        return
    for item in _consent_items(msg):
        template_id, status = item.get("TemplateId", ""), item.get("SubscribeStatusString", "")
        if not template_id or status not in ("accept", "reject"):
            continue
        consent = db.session.scalars(
            select(MessageConsent).filter_by(
                customer_id=customer.id, channel="mp", template_id=template_id
            )
        ).first()
        if consent is None:
            consent = MessageConsent(
                customer_id=customer.id, channel="mp", template_id=template_id, remaining=0
            )
            db.session.add(consent)
        consent.status = status
        if status == "accept" and msg.get("Event") == "subscribe_msg_popup_event":
            consent.remaining = (consent.remaining or 0) + 1


def notify_delivery(msg: dict) -> None:
    """TEMPLATESENDJOBFINISH / subscribe_msg_sent_event: tell the outbox how a send ended."""
    if msg.get("Event") == "TEMPLATESENDJOBFINISH":
        results = [(msg.get("MsgID", ""), msg.get("Status", ""))]
    elif msg.get("Event") == "subscribe_msg_sent_event":
        results = [(i.get("MsgID", ""), i.get("ErrorStatus", "")) for i in _consent_items(msg)]
    else:
        return
    for msgid, status in results:
        hooks.run("delivery_reported", msgid, status, msg)


def callback_event(source: str, msg: dict, key: str) -> tuple[CallbackEvent, bool]:
    """Keep a callback that concerns no customer; (row, created)."""
    existing = db.session.scalars(select(CallbackEvent).filter_by(dedupe_key=key)).first()
    if existing is not None:
        return existing, False
    sender = msg.get("FromUserName", "")
    staff = (
        db.session.scalars(select(Staff).filter_by(wecom_userid=sender)).first() if sender else None
    )
    kind = f"{msg.get('MsgType', 'unknown')}:{msg.get('Event') or msg.get('MsgType', '')}"
    row = CallbackEvent(
        source=source,
        kind=kind[:60],
        payload=msg,
        dedupe_key=key,
        staff_id=staff.id if staff else None,
    )
    if not insert_once(row):
        return db.session.scalars(select(CallbackEvent).filter_by(dedupe_key=key)).one(), False
    return row, True
