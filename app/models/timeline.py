"""The one ordered history of a customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import db
from app.models.types import BigId, JSONType, UTCDateTime, utcnow

CHANNELS = ("mp", "wecom", "mini", "console", "api", "system")
DIRECTIONS = ("inbound", "outbound", "internal")


class TimelineEvent(db.Model):
    """Something that happened with a customer: a message, a stage change, a note.

    `dedupe_key` is unique: WeChat retries a delivery up to three times, and the key
    (MsgId, or the event's identifying fields) makes a retry land on the same row.
    """

    __tablename__ = "timeline_events"
    __table_args__ = (
        # "Newest events of one customer": the timeline page and its cursor.
        Index("ix_timeline_customer_recent", "customer_id", "occurred_at", "id"),
        # "Events since T": sweeps, reports, retagging.
        Index("ix_timeline_occurred_at", "occurred_at"),
        # The sweep's "stored but not yet enriched" list stays tiny: a partial index.
        Index(
            "ix_timeline_needs_enrichment",
            "created_at",
            postgresql_where=text("needs_enrichment"),
            sqlite_where=text("needs_enrichment"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(50))
    channel: Mapped[str] = mapped_column(String(20), default="system")
    direction: Mapped[str] = mapped_column(String(10), default="internal")
    actor_type: Mapped[str] = mapped_column(String(10), default="system")
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    needs_enrichment: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer = relationship("Customer")
    actor_staff = relationship("Staff")
