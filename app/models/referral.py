"""口碑银行 (referral bank): referral codes, referrals, the credit ledger, redemptions.

Credits are whole units of 装修基金 (one credit is shown as one yuan). The ledger is
append-only: a reward taken back is a reversal entry, never a deleted row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import db
from app.models.types import BigId, UTCDateTime, utcnow

# A referral follows the referee's lifecycle (product.md); codes are stored, labels shown.
REFERRAL_STEPS = (
    ("registered", "已登记"),
    ("measured", "已量房"),
    ("signed", "已签约"),
    ("completed", "已竣工"),
)
STEP_LABELS = dict(REFERRAL_STEPS)
STEP_CODES = tuple(code for code, _ in REFERRAL_STEPS)
REFERRAL_STATUSES = (
    ("attributed", "已归属"),
    ("held", "待审核"),
    ("rejected", "审核未通过"),
    ("not_attributed", "未归属"),
    ("void", "已作废"),
)
REFERRAL_STATUS_LABELS = dict(REFERRAL_STATUSES)
LIVE_STATUSES = ("attributed", "held")  # at most one live referral per referee
CREDIT_KINDS = ("reward", "redemption", "reversal", "adjustment")
REDEMPTION_STATUSES = ("requested", "approved", "rejected")


class ReferralCode(db.Model):
    """A customer's own share code: scanned as r_<code> (mini program, official account,
    WeCom contact way) or typed into the mini program."""

    __tablename__ = "referral_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    # The official account's permanent QR (qrcode/create), fetched once.
    mp_ticket: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Referral(db.Model):
    """One person (referee) brought by another (referrer); the first valid one wins.

    `status`: attributed (counts), held (waiting for a manager), rejected, not_attributed
    (recorded with `reason`), void (a self-referral found later). Only a live one
    (attributed or held) follows the referee's stages; one per referee (partial unique).
    """

    __tablename__ = "referrals"
    __table_args__ = (
        Index(
            "uq_referrals_live_referee",
            "referee_id",
            unique=True,
            postgresql_where=text("status IN ('attributed', 'held')"),
            sqlite_where=text("status IN ('attributed', 'held')"),
        ),
        Index("ix_referrals_referrer", "referrer_id", "status", "step"),
        Index("ix_referrals_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    referee_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(20))  # mini, mp, wecom
    device: Mapped[str] = mapped_column(String(64), default="")
    step: Mapped[str] = mapped_column(String(20), default="registered")
    status: Mapped[str] = mapped_column(String(20), default="attributed")
    reason: Mapped[str] = mapped_column(String(200), default="")  # why not attributed/held
    review_note: Mapped[str] = mapped_column(String(500), default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attributed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    referrer = relationship("Customer", foreign_keys=[referrer_id])
    referee = relationship("Customer", foreign_keys=[referee_id])

    @property
    def step_label(self) -> str:
        return STEP_LABELS.get(self.step, self.step)

    @property
    def status_label(self) -> str:
        return REFERRAL_STATUS_LABELS.get(self.status, self.status)


class CreditAccount(db.Model):
    """A referrer's running balance (the ledger's sum, locked for every entry) and VIP.

    `vip_since` is set once at three signed referrals and never cleared by the machine;
    `vip_review_at` flags for a manager a VIP whose signed referrals fell under three.
    """

    __tablename__ = "credit_accounts"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    vip_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    vip_review_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    vip_review_reason: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CreditEntry(db.Model):
    """One append-only ledger line. A referral's reward or reversal is unique per
    (referral, step, kind, cycle): `cycle` counts the step's earlier reversals, so a
    re-signed contract earns again but two concurrent sign events earn once."""

    __tablename__ = "credit_entries"
    __table_args__ = (
        UniqueConstraint("referral_id", "step", "kind", "cycle"),
        Index("ix_credit_entries_customer", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    amount: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    step: Mapped[str | None] = mapped_column(String(20))
    cycle: Mapped[int | None] = mapped_column(Integer)
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemptions.id"))
    reference: Mapped[str] = mapped_column(String(200), default="")
    actor: Mapped[str] = mapped_column(String(100), default="system")
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    balance_after: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Redemption(db.Model):
    """Credits asked for an item in the mini program; a manager approves (the debit is
    written then) or rejects."""

    __tablename__ = "redemptions"
    __table_args__ = (Index("ix_redemptions_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    item: Mapped[str] = mapped_column(String(100))
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="requested")
    note: Mapped[str] = mapped_column(String(500), default="")
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
