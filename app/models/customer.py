"""Customers and the WeChat identities that reach them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import db
from app.models.types import JSONType, UTCDateTime, utcnow

# 客户生命周期, in order (product.md). Codes are stored; labels are shown.
STAGES = (
    ("lead", "潜在"),
    ("measured", "已量房"),
    ("design", "方案"),
    ("quoted", "报价"),
    ("contract", "签约"),
    ("construction", "施工"),
    ("completed", "竣工"),
    ("after_sales", "售后"),
)
STAGE_LABELS = dict(STAGES)
STAGE_CODES = tuple(code for code, _ in STAGES)

IDENTITY_KINDS = ("mp_openid", "mini_openid", "unionid", "wecom_external_userid", "phone")
GENDERS = ("unknown", "male", "female")


class Customer(db.Model):
    """A homeowner (or prospect); one row per person however many identities reach them."""

    __tablename__ = "customers"
    # A rep's (owner) and a store's customers newest first: the console's list walks these
    # backwards and stops at a page, whatever else it filters on (a tag, a stage), instead
    # of walking every customer's id. They serve plain owner_id / store_id lookups too.
    __table_args__ = (
        Index("ix_customers_owner_recent", "owner_id", "id"),
        Index("ix_customers_store_recent", "store_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    nickname: Mapped[str] = mapped_column(String(100), default="")
    phone_enc: Mapped[str | None] = mapped_column(String(255))
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    gender: Mapped[str] = mapped_column(String(10), default="unknown")
    birthday: Mapped[date | None] = mapped_column(Date)
    city: Mapped[str] = mapped_column(String(50), default="")
    community: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    # mp_qr:<scene> (a QR scene is up to 64 characters), wecom:<state>, mp, mini …
    source_channel: Mapped[str] = mapped_column(String(100), default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    stage: Mapped[str] = mapped_column(String(20), default="lead")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    # The latest budget amount (yuan) a customer stated, and where it was read (tagging).
    budget_amount: Mapped[int | None] = mapped_column()
    budget_evidence: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    identities: Mapped[list[CustomerIdentity]] = relationship(back_populates="customer")
    owner = relationship("Staff", foreign_keys=[owner_id])
    store = relationship("Store")

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS.get(self.stage, self.stage)

    @property
    def display_name(self) -> str:
        return self.name or self.nickname or f"客户{self.id}"


class CustomerIdentity(db.Model):
    """One way of reaching a customer: an openid, a unionid, a WeCom external id, a phone.

    `app_id` is '' (not NULL) for app-independent kinds so the unique constraint holds
    on every database. For kind 'phone' the value is the keyed phone hash, never the number.
    """

    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("kind", "app_id", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    app_id: Mapped[str] = mapped_column(String(64), default="")
    value: Mapped[str] = mapped_column(String(128))
    # Official account: does this openid follow us now (template messages need it), and
    # when did it last write (customer-service messages are allowed for 48 hours after).
    subscribed: Mapped[bool | None] = mapped_column()
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    profile_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="identities")
