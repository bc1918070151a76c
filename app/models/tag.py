"""Intent tags (维度:值) and which customers carry them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import JSONType, UTCDateTime, utcnow


class Tag(db.Model):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("dimension", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(50))

    @property
    def label(self) -> str:
        return f"{self.dimension}:{self.value}"


class CustomerTag(db.Model):
    """A tag on a customer, with who put it there and why.

    A row with `removed_at` set is a person's removal: it stays so that automation,
    seeing the row, does not put the tag back.
    """

    __tablename__ = "customer_tags"
    __table_args__ = (UniqueConstraint("customer_id", "tag_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), index=True)
    source: Mapped[str] = mapped_column(String(10), default="auto")
    evidence: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    tag: Mapped[Tag] = relationship()
