"""客户价值 (customer value): each customer's level, its score and the reasons for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.extensions import db
from app.models.types import JSONType, UTCDateTime, utcnow

# Stored codes and what people read (the fourth classification axis beside need, budget
# and stage; issue #17).
VALUE_LEVELS = (("high", "高价值"), ("normal", "一般"), ("low", "低价值"))
VALUE_LABELS = dict(VALUE_LEVELS)


class CustomerValue(db.Model):
    """A customer's value as last computed (app.services.value), one row per customer.

    `reasons` keeps each input's contribution like a tag's evidence: [{input, points,
    text, evidence}]. `recompute_after` is when the 90-day engagement window next drops
    a counted event, so the nightly pass knows whom to look at again (None: nothing to
    drop).
    """

    __tablename__ = "customer_values"
    __table_args__ = (Index("ix_customer_values_level", "level", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(10))
    score: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[list] = mapped_column(JSONType, default=list)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recompute_after: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    @property
    def label(self) -> str:
        return VALUE_LABELS.get(self.level, self.level)
