"""Replying to a customer from the console: a customer-service message inside WeChat's
48-hour window, or a notice through the outbox outside it.

WeChat allows customer-service messages (客服消息) for 48 hours after the customer's last
message to the official account (wechat-protocol.md; errcode 45015 past it). The window is
read from the identity's `last_inbound_at`, which the callback keeps (erring early, so
the page closes the window a little before WeChat would). A reply is sent at once, through
the official-account client; the timeline event is inserted first under a key made from the
form's one-time nonce, so a form submitted twice sends once. A refusal is explained in
Chinese by its errcode and nothing is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.core.errors import Conflict, Invalid, UpstreamUnavailable
from app.core.extensions import db
from app.models import Customer, CustomerIdentity, Staff, TimelineEvent
from app.models.types import utcnow
from app.services.customers import audit, timeline
from app.services.notices import channels, notice_templates, outbox
from app.services.sales import sla

MAX_REPLY = 600  # characters; WeChat's text limit is 2,048 bytes
OFFERED_TEMPLATES = ("rep-followup",)
ERRORS = {
    45015: "客户超过 48 小时没有给公众号发消息，微信不再允许发送客服消息，请改用通知模板",
    43004: "客户已取消关注公众号，无法发送客服消息",
    45047: "客户回复前最多只能连续发送 20 条客服消息，请等待客户回复",
    40003: "客户的公众号 openid 无效，无法发送",
    48001: "公众号没有客服消息接口权限，请联系管理员",
    45009: "微信接口今日调用次数已达上限，请稍后再试",
    45011: "微信接口调用太频繁，请一分钟后再试",
    -1: "微信服务器繁忙，请稍后再试",
}


@dataclass
class Window:
    open: bool
    openid: str
    last_inbound_at: datetime | None
    reason: str  # why a reply is not possible ('' when it is)


def window(
    customer: Customer,
    identities: list[CustomerIdentity] | None = None,
    now: datetime | None = None,
) -> Window:
    """Whether a customer-service message may be sent now, and why not. `identities`: the
    customer's, when the caller has them already (no query)."""
    now = now or utcnow()
    if identities is None:
        identities = db.session.scalars(
            select(CustomerIdentity).where(CustomerIdentity.customer_id == customer.id)
        ).all()
    rows = [i for i in identities if i.kind == "mp_openid"]
    if not rows:
        return Window(
            False, "", None, "客户没有通过公众号联系过，无法在这里回复；请在企业微信中联系"
        )
    best = max(rows, key=lambda r: r.last_inbound_at or datetime.min.replace(tzinfo=now.tzinfo))
    last = best.last_inbound_at
    if last is None or now - last >= channels.SERVICE_WINDOW:
        return Window(
            False,
            best.value,
            last,
            "客户超过 48 小时没有给公众号发消息，微信不允许再发送客服消息；可以改发通知模板",
        )
    return Window(True, best.value, last, "")


def explain(errcode: int | None, error: str = "") -> str:
    if errcode in ERRORS:
        return f"发送失败：{ERRORS[errcode]}（错误码 {errcode}）"
    if errcode is None:
        return "发送失败：微信服务器暂时无法连接，请稍后重试"
    return f"发送失败：微信拒绝了这条消息（错误码 {errcode}）"


def send(staff: Staff, customer: Customer, text: str, nonce: str) -> TimelineEvent:
    """Send `text` as a customer-service message now; the timeline event (kind message,
    outbound). Invalid (empty or long text), Conflict (window closed), UpstreamUnavailable
    (WeChat refused or did not answer; the message says why)."""
    text = (text or "").strip()
    if not text or len(text) > MAX_REPLY:
        raise Invalid("回复内容有误", {"text": f"回复内容不能为空，且不超过 {MAX_REPLY} 字"})
    state = window(customer)
    if not state.open:
        raise Conflict(state.reason)
    event, created = timeline.record_once(
        customer,
        "message",
        channel="mp",
        direction="outbound",
        actor_staff=staff,
        payload={"msg_type": "text", "content": text, "via": "custom"},
        dedupe_key=f"console-reply:{customer.id}:{nonce[:64]}",
    )
    if not created:
        return event  # the same form again: already sent
    body = {"touser": state.openid, "msgtype": "text", "text": {"content": text}}
    try:
        client = channels.client_for("custom")
    except Exception as exc:  # noqa: BLE001 - not configured
        outcome = channels.classify(exc)
    else:
        outcome = channels.call(client, "custom", body)
    if outcome.result != "ok":
        db.session.delete(event)
        message = explain(outcome.errcode, outcome.error)
        audit.record(
            "customer.reply_failed",
            "customer",
            customer.id,
            actor=staff,
            after={"errcode": outcome.errcode},
        )
        raise UpstreamUnavailable(message, {"text": message})
    audit.record(
        "customer.reply", "customer", customer.id, actor=staff, after={"event_id": event.id}
    )
    sla.met(customer.id, event.occurred_at)  # the first answer meets the response SLA
    return event


def templates() -> list:
    """The notice templates a rep may send by hand (NoticeTemplate objects)."""
    return [notice_templates.load(kind) for kind in OFFERED_TEMPLATES]


def send_template(staff: Staff, customer: Customer, kind: str, nonce: str, topic: str, note: str):
    """A notice through the outbox (its channel chosen when sent: subscribe message,
    template message, or a task for the rep); the same nonce gives the same notice."""
    if kind not in OFFERED_TEMPLATES:
        raise Invalid("没有这个通知模板", {"kind": "没有这个通知模板"})
    topic, note = (topic or "").strip(), (note or "").strip()
    errors = {}
    if not 0 < len(topic) <= 20:
        errors["topic"] = "主题为 1 到 20 个字（微信模板消息的限制）"
    if len(note) > 20:
        errors["note"] = "说明不超过 20 个字（微信模板消息的限制）"
    if errors:
        raise Invalid("通知内容有误", errors)
    notice = outbox.notify_customer(
        kind,
        customer,
        f"customer:{customer.id}:{nonce[:64]}",
        staff_name=staff.name,
        topic=topic,
        note=note,
    )
    audit.record(
        "customer.notice", "customer", customer.id, actor=staff, after={"notice_id": notice.id}
    )
    return notice
