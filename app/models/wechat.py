"""What WeChat and WeCom tell us beyond the timeline: relationships, consents, replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.extensions import db
from app.models.types import BigId, JSONType, UTCDateTime, utcnow


class ContactRelation(db.Model):
    """A WeCom member (sales rep) ↔ external contact (customer) friendship.

    Set by add_external_contact / add_half_external_contact, ended by del_follow_user
    (the customer deleted the rep) or del_external_contact (the rep deleted the customer).
    """

    __tablename__ = "contact_relations"
    __table_args__ = (UniqueConstraint("wecom_userid", "external_userid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    wecom_userid: Mapped[str] = mapped_column(String(64))
    external_userid: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(64), default="")
    remark: Mapped[str] = mapped_column(String(100), default="")
    half: Mapped[bool] = mapped_column(default=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str] = mapped_column(String(50), default="")


class CallbackEvent(db.Model):
    """A callback that belongs to no customer (a staff member's app message, a group chat
    change, an unknown sender): kept with its raw fields, never dropped."""

    __tablename__ = "callback_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(60))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class MessageConsent(db.Model):
    """Whether a customer accepts a subscribe-message template, and how many one-time
    sends they have granted (each accepted popup grants one; each send consumes one)."""

    __tablename__ = "message_consents"
    __table_args__ = (UniqueConstraint("customer_id", "channel", "template_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    template_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(20), default="accept")
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AutoReplyRule(db.Model):
    """A keyword passive reply on the official account: exact match or contains."""

    __tablename__ = "auto_reply_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    keyword: Mapped[str] = mapped_column(String(100))
    match: Mapped[str] = mapped_column(String(10), default="contains")
    reply: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
