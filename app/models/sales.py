"""The sales workflow: assignment rules, reps' availability, leads with their response SLA
and pool state, every move of a lead, and follow-ups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import db
from app.models.types import BigId, JSONType, UTCDateTime, utcnow

FOLLOWUP_METHODS = ("电话", "微信", "到店", "上门")
LEAD_STATES = ("owned", "pool", "unassigned")
MOVE_KINDS = ("assign", "bound", "claim", "pool", "manual")


class AssignRule(db.Model):
    """One assignment rule: evaluated by `position`; empty criteria match anything.

    `cursor_staff_id` is the rep who got this rule's last lead: the next lead goes to the
    first eligible rep after them (the row is locked while choosing, so concurrent leads
    take turns)."""

    __tablename__ = "assign_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(default=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    city: Mapped[str] = mapped_column(String(50), default="")
    region: Mapped[str] = mapped_column(String(50), default="")
    # A source channel (mp, mini, form …) or a prefix ending in ":" style: "mp_qr:expo".
    source: Mapped[str] = mapped_column(String(100), default="")
    tags: Mapped[list] = mapped_column(JSONType, default=list)  # "维度:值", all required
    rep_ids: Mapped[list] = mapped_column(JSONType, default=list)  # the group, in turn order
    cursor_staff_id: Mapped[int | None] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    store = relationship("Store")


class SalesRep(db.Model):
    """A rep's availability for new leads: off today (休息), and a daily cap (None: no cap)."""

    __tablename__ = "sales_reps"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    off: Mapped[bool] = mapped_column(default=False)
    daily_cap: Mapped[int | None] = mapped_column(Integer)

    staff = relationship("Staff")


class Lead(db.Model):
    """The sales state of one customer: who owns it, its response SLA, its pool state.

    The due columns are indexed and cleared once done, so the sweeps read only what is
    due (never every customer)."""

    __tablename__ = "leads"
    __table_args__ = (
        Index(
            "ix_leads_response_due",
            "response_due_at",
            postgresql_where=text("response_due_at IS NOT NULL"),
            sqlite_where=text("response_due_at IS NOT NULL"),
        ),
        Index(
            "ix_leads_followup_due",
            "followup_due_at",
            postgresql_where=text("followup_due_at IS NOT NULL"),
            sqlite_where=text("followup_due_at IS NOT NULL"),
        ),
        Index("ix_leads_state_idle", "state", "idle_since"),
        Index("ix_leads_store_state", "store_id", "state"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(12), default="unassigned")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    rule_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(100), default="")
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Response SLA: the first message, when the answer is due (NULL once met or alerted),
    # the first answer and how long it took (wall seconds and working minutes).
    first_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_target_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_seconds: Mapped[int | None] = mapped_column(Integer)
    response_work_minutes: Mapped[int | None] = mapped_column(Integer)
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Follow-ups: the first one is due by followup_due_at (NULL once done or reminded);
    # idle_since is the last assignment or follow-up (the pool sweep's clock).
    followup_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_followup_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    idle_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Pool: when and why it went there; its previous rep may claim it again after this.
    pooled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pool_reason: Mapped[str] = mapped_column(String(200), default="")
    previous_owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reclaim_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer = relationship("Customer")
    owner = relationship("Staff", foreign_keys=[owner_id])


class LeadMove(db.Model):
    """A lead changing hands: assigned by a rule, kept by a WeCom binding, claimed from the
    pool, returned to it. Daily caps and claim limits count these."""

    __tablename__ = "lead_moves"
    __table_args__ = (Index("ix_lead_moves_to_kind_at", "to_staff_id", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    from_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    to_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    rule_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowUp(db.Model):
    """跟进记录: 方式, 内容, 结果, 下次跟进时间 (its reminder goes out once when due)."""

    __tablename__ = "followups"
    __table_args__ = (
        Index(
            "ix_followups_remind",
            "next_at",
            postgresql_where=text("next_at IS NOT NULL AND reminded_at IS NULL"),
            sqlite_where=text("next_at IS NOT NULL AND reminded_at IS NULL"),
        ),
        Index("ix_followups_staff_next", "staff_id", "next_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    method: Mapped[str] = mapped_column(String(10))
    content: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(500), default="")
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a later follow-up came
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer = relationship("Customer")
    staff = relationship("Staff")
