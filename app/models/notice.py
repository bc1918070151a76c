"""The notice outbox, rep tasks, maintenance plans and service tickets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import db
from app.models.types import BigId, JSONType, UTCDateTime, utcnow

NOTICE_STATUSES = ("pending", "queued", "sending", "sent", "delivered", "failed", "task")
TICKET_KINDS = ("报修", "投诉", "回访", "检测")


class Notice(db.Model):
    """One notice to a customer or a staff member: a row first, sent by the outbox jobs.

    `idem_key` (kind + subject, e.g. `maintenance-3y:project:7`) is unique, so the same
    notice can never be created twice. `payload` is the rendered message (filled when the
    notice is created in Python, or on its first send when a set-based pass created it).
    """

    __tablename__ = "notices"
    __table_args__ = (
        # The dispatcher's "due now" scan and the recovery's "stuck since" scan.
        Index("ix_notices_status_scheduled", "status", "scheduled_at"),
        # The marketing cap counts a customer's notices of one day.
        Index("ix_notices_customer_scheduled", "customer_id", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    audience: Mapped[str] = mapped_column(String(10), default="customer")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    idem_key: Mapped[str] = mapped_column(String(200), unique=True)
    marketing: Mapped[bool] = mapped_column(default=False)
    urgent: Mapped[bool] = mapped_column(default=False)
    context: Mapped[dict] = mapped_column(JSONType, default=dict)
    payload: Mapped[dict | None] = mapped_column(JSONType)
    channel: Mapped[str] = mapped_column(String(10), default="")
    channel_reason: Mapped[str] = mapped_column(String(500), default="")
    tried: Mapped[list | None] = mapped_column(JSONType, default=list)  # channels refused
    status: Mapped[str] = mapped_column(String(10), default="pending")
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    msgid: Mapped[str | None] = mapped_column(String(64), index=True)
    delivery: Mapped[str] = mapped_column(String(40), default="")
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer = relationship("Customer")
    staff = relationship("Staff")


class Task(db.Model):
    """Something a staff member must do by hand, e.g. send a notice from WeCom."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer = relationship("Customer")


class MaintenancePlan(db.Model):
    """The 1/3/5-year anniversary schedule of one completed project.

    `project_id` is a plain integer until the projects table exists. `next_due` is indexed:
    the daily pass reads only the plans due today (or missed), never every project.
    """

    __tablename__ = "maintenance_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    project_id: Mapped[int] = mapped_column(Integer, unique=True)
    completed_on: Mapped[date] = mapped_column(Date)
    next_due: Mapped[date | None] = mapped_column(Date, index=True)
    next_years: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceTicket(db.Model):
    """A service ticket (报修 / 投诉 / 回访 / 检测) of a customer."""

    __tablename__ = "service_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="open")
    title: Mapped[str] = mapped_column(String(200))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
