"""Events not yet enriched that the sweep handed over or that failed: attempts, reason, when
they are tried again, or that they are parked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import db
from app.models.types import BigId, UTCDateTime, utcnow


class EnrichmentState(db.Model):
    """What is known about one stored event whose enrichment has not succeeded yet.

    A row exists only for an event a sweep handed over, or whose enrichment raised; it is
    deleted when the event is enriched. `attempts`: failures so far (0 for an event handed
    over that has not failed); `reason`: the last failure (exception type and message, cut);
    `next_attempt_at`: no sweep hands the event over before then (the lease of a hand-over,
    or the backoff after a failure); `parked_at`: set at the ENRICH_MAX_ATTEMPTS-th failure,
    after which only `flask enrichment retry` hands it over again.
    """

    __tablename__ = "enrichment_states"
    __table_args__ = (Index("ix_enrichment_states_parked_at", "parked_at"),)

    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("timeline_events.id", ondelete="CASCADE"), primary_key=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(500), default="")
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event = relationship("TimelineEvent")
