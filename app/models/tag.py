"""Intent tags (维度:值) and which customers carry them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import db
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
    __table_args__ = (
        UniqueConstraint("customer_id", "tag_id"),
        # The customer list filtered by a tag: that tag's customers, newest first.
        Index("ix_customer_tags_tag_customer", "tag_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), index=True)
    source: Mapped[str] = mapped_column(String(10), default="auto")
    evidence: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    tag: Mapped[Tag] = relationship()


class TagRule(db.Model):
    """A tagging rule staff can edit: words (and exclusions) that give `dimension:value`.

    Rows loaded from the shipped rules file keep the file's rule name in `default_key`,
    so loading the defaults again adds only what is missing.
    """

    __tablename__ = "tag_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(50))
    words: Mapped[list] = mapped_column(JSONType, default=list)
    exclusions: Mapped[list] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    source: Mapped[str] = mapped_column(String(10), default="staff")
    default_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    updated_by = relationship("Staff")

    @property
    def tag(self) -> str:
        return f"{self.dimension}:{self.value}"


class TaggingState(db.Model):
    """Small named counters: the rules version (bumped on every rule change, so each
    process knows its cached rule set is stale) and the retag checkpoint."""

    __tablename__ = "tagging_state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, default=0)
    note: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
