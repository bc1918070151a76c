"""Passive replies on the official account: keyword rules, and a note out of hours."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.core.extensions import db
from app.models import AutoReplyRule, Customer, TimelineEvent
from app.models.types import utcnow
from app.services.customers import timeline

DEFAULT_OFF_HOURS_REPLY = "您好，已收到您的消息，顾问会在上班后第一时间联系您"
# One out-of-hours note per customer per evening is enough; more would read as spam.
OFF_HOURS_QUIET = timedelta(hours=6)
RULES_TTL = 30.0


def reply_key(inbound_key: str) -> str:
    return f"reply:{inbound_key}"


def stored_reply(inbound_key: str) -> str | None:
    """The reply already recorded for a message: a WeChat retry gets the same answer."""
    event = timeline.find_by_dedupe_key(reply_key(inbound_key))
    return event.payload.get("content") if event else None


@dataclass(frozen=True)
class CachedRule:
    id: int
    keyword: str
    match: str
    reply: str


_cache: dict = {"at": float("-inf"), "rules": ()}


def active_rules() -> tuple[CachedRule, ...]:
    """Keyword rules, cached per process for RULES_TTL seconds: every message reads them,
    staff rarely change them, and a change showing within the TTL is soon enough."""
    now = time.monotonic()
    if now - _cache["at"] > RULES_TTL:
        rows = db.session.scalars(
            select(AutoReplyRule)
            .filter_by(active=True)
            .order_by(AutoReplyRule.priority, AutoReplyRule.id)
        ).all()
        _cache["rules"] = tuple(CachedRule(r.id, r.keyword, r.match, r.reply) for r in rows)
        _cache["at"] = now
    return _cache["rules"]


def forget_rules() -> None:
    """Drop the cache (after staff edit the rules, and in tests)."""
    _cache["at"] = float("-inf")


def keyword_reply(text: str) -> CachedRule | None:
    rules = active_rules()
    text = text.strip()
    exact = [r for r in rules if r.match == "exact" and r.keyword == text]
    contains = [r for r in rules if r.match == "contains" and r.keyword and r.keyword in text]
    return (exact or contains or [None])[0]


def is_working_time(now: datetime) -> bool:
    config = current_app.config
    local = now.astimezone(ZoneInfo(config["TIMEZONE"]))
    start, end = config["WORK_START"], config["WORK_END"]
    return local.isoweekday() in config["WORK_DAYS"] and start <= (local.hour, local.minute) < end


def _recent_off_hours_note(customer_id: int, now: datetime) -> bool:
    return (
        db.session.scalars(
            select(TimelineEvent.id).where(
                TimelineEvent.customer_id == customer_id,
                TimelineEvent.kind == "auto_reply",
                TimelineEvent.occurred_at > now - OFF_HOURS_QUIET,
            )
        ).first()
        is not None
    )


def reply_for(customer_id: int, msg: dict, inbound_key: str) -> str | None:
    """Choose a reply for a new message and record it as outbound; None means `success`.

    Takes the id: on the callback's fast path no customer object is loaded unless a reply
    is due."""
    now = utcnow()
    rule = keyword_reply(msg.get("Content", "")) if msg.get("MsgType") == "text" else None
    if rule is not None:
        content, reason = rule.reply, f"keyword:{rule.id}"
    elif not is_working_time(now) and not _recent_off_hours_note(customer_id, now):
        content, reason = (
            current_app.config["OFF_HOURS_REPLY"] or DEFAULT_OFF_HOURS_REPLY,
            "off_hours",
        )
    else:
        return None
    timeline.record(
        db.session.get(Customer, customer_id),
        "auto_reply",
        channel="mp",
        direction="outbound",
        actor_type="system",
        payload={"content": content, "reason": reason},
        occurred_at=now,
        dedupe_key=reply_key(inbound_key),
    )
    return content
