"""Which WeChat channel may carry a notice right now, the request it takes, and the call.

Preference for a customer: mini program subscribe message (needs a granted one-time
subscription), official-account template message (needs a follower), official-account
customer-service message (only within 48 hours of the customer's last message), and
finally a task for the sales rep. Staff get WeCom app messages, or a task of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import select

from app.core.extensions import db
from app.core.logs import redact
from app.core.wechat import WeChatClientException, WeChatConfigError, is_token_error, is_transient
from app.models import CustomerIdentity, MessageConsent, Notice, Staff

CUSTOMER_CHANNELS = ("mini", "mp", "custom")
LABELS = {
    "mini": "小程序订阅消息",
    "mp": "公众号模板消息",
    "custom": "公众号客服消息",
    "wecom": "企业微信应用消息",
    "task": "顾问任务",
}
ENDPOINTS = {
    "mini": "message/subscribe/send",
    "mp": "message/template/send",
    "custom": "message/custom/send",
    "wecom": "message/send",
}
SERVICE_WINDOW = timedelta(hours=48)  # WeChat refuses customer-service messages after that
QUOTA_ERRCODE = 45009
WECOM_DEDUPE_SECONDS = 14400  # WeCom's longest duplicate-check interval (4 hours)


@dataclass
class Reach:
    """How one customer can be reached now."""

    mini_openid: str = ""
    mp_openid: str = ""
    subscribed: bool = False
    last_inbound_at: datetime | None = None
    consents: dict[str, int] = field(default_factory=dict)  # mini template id → remaining


@dataclass
class Choice:
    channel: str
    reason: str
    body: dict | None = None


@dataclass
class Outcome:
    """ok, retry (transient), quota (45009), refused (permanent for this channel)."""

    result: str
    msgid: str = ""
    errcode: int | None = None
    error: str = ""


def load_reach(customer_ids: Iterable[int]) -> dict[int, Reach]:
    """Identities and mini-program consents of many customers in two queries."""
    ids = set(customer_ids)
    reach = {cid: Reach() for cid in ids}
    rows = db.session.scalars(
        select(CustomerIdentity).where(
            CustomerIdentity.customer_id.in_(ids),
            CustomerIdentity.kind.in_(("mini_openid", "mp_openid")),
        )
    )
    for row in rows:
        item = reach[row.customer_id]
        if row.kind == "mini_openid":
            item.mini_openid = row.value
        elif not item.mp_openid or row.subscribed:
            item.mp_openid, item.subscribed = row.value, bool(row.subscribed)
            item.last_inbound_at = row.last_inbound_at
    consents = db.session.scalars(
        select(MessageConsent).where(
            MessageConsent.customer_id.in_(ids),
            MessageConsent.channel == "mini",
            MessageConsent.status == "accept",
        )
    )
    for consent in consents:
        reach[consent.customer_id].consents[consent.template_id] = consent.remaining or 0
    return reach


def _why_not(channel: str, notice: Notice, reach: Reach, now: datetime) -> str | None:
    """None when `channel` is allowed for this notice now, else the reason it is not."""
    payload = notice.payload or {}
    if channel in {t.get("channel") for t in notice.tried or []}:
        return "已失败"
    if channel in ("mini", "mp") and channel not in payload:
        return "未配置模板"
    if channel == "mini":
        if not reach.mini_openid:
            return "无小程序openid"
        if reach.consents.get(payload["mini"]["template_id"], 0) < 1:
            return "无剩余订阅次数"
    elif not reach.mp_openid:
        return "无公众号openid"
    elif channel == "mp" and not reach.subscribed:
        return "未关注公众号"
    elif channel == "custom" and not (
        reach.last_inbound_at and now - reach.last_inbound_at < SERVICE_WINDOW
    ):
        return "48小时内无互动"
    return None


def choose(notice: Notice, reach: Reach | None, staff: Staff | None, now: datetime) -> Choice:
    """The first allowed channel, with the reasons the ones before it were skipped."""
    if notice.audience == "staff":
        return _choose_staff(notice, staff)
    skipped = []
    for channel in CUSTOMER_CHANNELS:
        why = _why_not(channel, notice, reach or Reach(), now)
        if why is None:
            reason = f"{LABELS[channel]}；跳过：{'，'.join(skipped) or '无'}"
            return Choice(channel, reason, _body(channel, notice, reach))
        skipped.append(f"{LABELS[channel]}({why})")
    return Choice("task", f"{LABELS['task']}；跳过：{'，'.join(skipped)}")


def _choose_staff(notice: Notice, staff: Staff | None) -> Choice:
    tried = {t.get("channel") for t in notice.tried or []}
    if staff is None or not staff.wecom_userid:
        return Choice("task", "顾问任务；跳过：企业微信应用消息(无企业微信账号)")
    if "wecom" in tried:
        return Choice("task", "顾问任务；跳过：企业微信应用消息(已失败)")
    body = {
        "touser": staff.wecom_userid,
        "msgtype": "text",
        "agentid": int(current_app.config.get("WECOM_AGENT_ID") or 0),
        "text": {"content": notice.payload["text"]},
        # WeCom drops an identical text to the same member within the interval: this
        # closes the resend-after-crash window for staff alerts.
        "enable_duplicate_check": 1,
        "duplicate_check_interval": WECOM_DEDUPE_SECONDS,
    }
    return Choice("wecom", "企业微信应用消息", body)


def _body(channel: str, notice: Notice, reach: Reach) -> dict:
    payload = notice.payload
    if channel == "custom":
        return {"touser": reach.mp_openid, "msgtype": "text", "text": {"content": payload["text"]}}
    tpl = payload[channel]
    if channel == "mini":
        body = {
            "touser": reach.mini_openid,
            "template_id": tpl["template_id"],
            "data": tpl["data"],
            "miniprogram_state": current_app.config.get("WECHAT_MINI_STATE") or "formal",
        }
        if tpl.get("page"):
            body["page"] = tpl["page"]
        return body
    # client_msg_id: WeChat drops a second send with the same id, so a resend after a crash
    # (the row was left "sending") never reaches the customer twice on this channel.
    body = {
        "touser": reach.mp_openid,
        "template_id": tpl["template_id"],
        "data": tpl["data"],
        "client_msg_id": notice.idem_key,
    }
    if tpl.get("page") and current_app.config.get("WECHAT_MINI_APPID"):
        body["miniprogram"] = {
            "appid": current_app.config["WECHAT_MINI_APPID"],
            "pagepath": tpl["page"],
        }
    elif tpl.get("url"):
        body["url"] = tpl["url"]
    return body


def client_for(channel: str):
    """The API client of a channel (built once per app)."""
    from app.core import wechat

    if channel == "mini":
        return wechat.mini_client()
    return wechat.wecom_client() if channel == "wecom" else wechat.mp_client()


def call(client, channel: str, body: dict) -> Outcome:
    """POST one message (runs in a sender thread: no database here)."""
    try:
        result = client.post(ENDPOINTS[channel], data=body)
    except WeChatClientException as exc:
        return classify(exc)
    except (requests.RequestException, OSError) as exc:
        # The exception's text is the request URL, with the secret or the access_token.
        return Outcome("retry", error=redact(f"network: {exc!r}")[:500])
    return Outcome("ok", msgid=str(result.get("msgid") or ""))


def classify(exc: Exception) -> Outcome:
    if isinstance(exc, WeChatConfigError):
        return Outcome("refused", error=str(exc))
    code = getattr(exc, "errcode", None)
    text = redact(f"{getattr(exc, 'errcode', '')} {exc}")[:500]
    if code == QUOTA_ERRCODE:
        return Outcome("quota", errcode=code, error=text)
    # The client has already refreshed the token once; a second token error is transient.
    if is_transient(exc) or is_token_error(exc) or is_token_error(exc, wecom=True):
        return Outcome("retry", errcode=code, error=text)
    return Outcome("refused", errcode=code, error=text)
