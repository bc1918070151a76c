"""Dedupe keys: one per delivery, the same for WeChat's retries of it.

A key names every field that tells two deliveries apart. A message (it has a MsgId) is
its MsgId from its sender at its CreateTime: WeChat has been seen giving two customers'
messages one MsgId. An event has no id and no rule of its own that would hold for every
kind (WeCom sends `change_contact` for many users in one second, all from "sys"), so its
key is a digest of all its fields: a retry repeats them all, and two deliveries that
differ in any field are two events. Keys end in a fixed-size digest, so they fit the
200-character columns (and the 206 of an auto reply's "reply:" key) however long the
fields WeChat sends.

Rows stored before this format (issue 12) carry the previous keys (`legacy_*`). A retry of
one of them can arrive just after a deploy; `stored_before` finds it, and only when it
holds the very same fields, so another customer's message that shares an old row's MsgId
is still stored. The lookup is one index probe; it can go once no delivery from before
the deploy can still be retried (WeChat and WeCom retry for seconds).
"""

from __future__ import annotations

import hashlib

import orjson
from sqlalchemy import select

from app.core.extensions import db
from app.models import CallbackEvent, TimelineEvent


def _field(msg: dict, name: str) -> str:
    value = msg.get(name, "")
    return value if isinstance(value, str) else ""


def _digest(value) -> str:
    """128 bits of sha256 over the canonical JSON of `value` (sorted keys)."""
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def _key(platform: str, account: str, msg: dict) -> str:
    msg_id = _field(msg, "MsgId")
    if msg_id:
        sender = (_field(msg, "FromUserName"), _field(msg, "CreateTime"))
        return f"{platform}:{account}:msg:{msg_id}:{_digest(sender)}"
    return f"{platform}:{account}:evt:{_field(msg, 'Event')}:{_digest(msg)}"


def mp_key(app_id: str, msg: dict) -> str:
    """Official account: `mp:<appid>:msg:<MsgId>:<digest of sender, CreateTime>` for a
    message, `mp:<appid>:evt:<Event>:<digest of every field>` for an event."""
    return _key("mp", app_id, msg)


def wecom_key(corp_id: str, msg: dict) -> str:
    """WeCom, as mp_key under `wecom:<corp id>`."""
    return _key("wecom", corp_id, msg)


def legacy_mp_key(app_id: str, msg: dict) -> str:
    """The official account's key before issue 12 (it merged two senders' MsgIds)."""
    if _field(msg, "MsgId"):
        return f"mp:{app_id}:msg:{msg['MsgId']}"
    parts = [_field(msg, k) for k in ("FromUserName", "CreateTime", "Event", "EventKey", "MsgID")]
    return f"mp:{app_id}:evt:" + ":".join(parts)


def legacy_wecom_key(corp_id: str, msg: dict) -> str:
    """WeCom's key before issue 12."""
    if _field(msg, "MsgId"):
        return f"wecom:{corp_id}:msg:{msg['MsgId']}"
    event = _field(msg, "Event")
    if event == "change_external_contact":
        ids: tuple[str, ...] = ("ChangeType", "UserID", "ExternalUserID", "CreateTime")
    elif event == "change_external_chat":
        ids = ("ChatId", "ChangeType", "UpdateDetail", "CreateTime", "CurMemVer")
    else:
        ids = ("FromUserName", "CreateTime", "Event", "ChangeType", "EventKey", "Id", "TagId")
    return f"wecom:{corp_id}:{event or 'msg'}:" + ":".join(_field(msg, k) for k in ids)


def stored_before(legacy_key: str, msg: dict, model: type[TimelineEvent] | type[CallbackEvent]):
    """The row (of `model`, where the previous release kept such a delivery) this very
    delivery was stored as under its previous key, if any."""
    row = db.session.scalars(select(model).filter_by(dedupe_key=legacy_key)).first()
    if row is None:
        return None
    fields = row.payload.get("raw") if model is TimelineEvent else row.payload
    return row if fields == msg else None
