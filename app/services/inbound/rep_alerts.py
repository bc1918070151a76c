"""Tell the sales rep, in WeCom, when their customer writes on the official account.

Reps live in WeCom, not in our console: a message that waits for them to open a page
waits too long. Runs as an enricher (after the callback, in a job), one alert per message.
"""

from __future__ import annotations

from app.core.extensions import db
from app.models import Customer, Staff, TimelineEvent
from app.services.customers import customers
from app.services.customers.timeline import message_text
from app.services.notices import outbox

PLACEHOLDERS = {
    "image": "[图片]",
    "voice": "[语音]",
    "video": "[视频]",
    "shortvideo": "[小视频]",
    "location": "[位置]",
    "link": "[链接]",
}
SUMMARY_CHARS = 200


def summary(payload: dict) -> str:
    text = message_text(payload).strip()
    if not text:
        return PLACEHOLDERS.get(payload.get("msg_type", ""), "[消息]")
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def alert_owner(event: TimelineEvent) -> None:
    """An inbound official-account message of a customer with a rep: one WeCom alert."""
    if event.kind != "message" or event.direction != "inbound" or event.channel != "mp":
        return
    customer = customers.resolve(db.session.get(Customer, event.customer_id))
    rep = db.session.get(Staff, customer.owner_id) if customer.owner_id else None
    if rep is None or not rep.active:
        return
    outbox.notify_staff(
        "customer-message",
        rep,
        f"event:{event.id}",
        customer_id=customer.id,
        customer_name=customer.display_name,
        summary=summary(event.payload or {}),
    )
