"""Follow-ups (跟进): 方式, 内容, 结果, 下次跟进时间. A next time becomes a reminder to the
rep in WeCom when due (the outbox's key `followup-due:followup:<id>`: never twice), and a
lead with no follow-up FOLLOWUP_FIRST_HOURS after assignment reminds its rep (once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update

from app.core.errors import Invalid
from app.core.extensions import db
from app.models import FOLLOWUP_METHODS, Customer, FollowUp, Lead, Staff
from app.models.types import utcnow
from app.services.customers import audit, timeline
from app.services.notices import outbox
from app.services.sales import leads, sla

MAX_CONTENT, MAX_RESULT = 2000, 500
# A next time past this is a typo; and one near year 9999 overflowed on its way to UTC (a 500).
MAX_AHEAD = timedelta(days=36500)
SWEEP_BATCH = 500


@dataclass(frozen=True)
class FollowUpIn:
    method: str
    content: str
    result: str = ""
    next_at: datetime | None = None


def _check(data: FollowUpIn, now: datetime) -> dict[str, str]:
    errors = {}
    if data.method not in FOLLOWUP_METHODS:
        errors["method"] = "跟进方式只能是" + "、".join(FOLLOWUP_METHODS)
    if not data.content.strip() or len(data.content) > MAX_CONTENT:
        errors["content"] = f"跟进内容不能为空，且不超过 {MAX_CONTENT} 字"
    if len(data.result) > MAX_RESULT:
        errors["result"] = f"跟进结果不超过 {MAX_RESULT} 字"
    if data.next_at is not None and data.next_at <= now:
        errors["next_at"] = "下次跟进时间必须晚于现在"
    elif data.next_at is not None and data.next_at > now + MAX_AHEAD:
        errors["next_at"] = "下次跟进时间不能超过 100 年后"
    return errors


def log(staff: Staff, customer: Customer, data: FollowUpIn, now: datetime | None = None):
    """Record a follow-up by `staff`; Invalid with field messages for bad input."""
    now = now or utcnow()
    if errors := _check(data, now):
        raise Invalid("跟进记录有误", errors)
    db.session.execute(  # the customer's earlier planned follow-ups are answered by this one
        update(FollowUp)
        .where(FollowUp.customer_id == customer.id, FollowUp.done_at.is_(None))
        .values(done_at=now)
    )
    row = FollowUp(
        customer_id=customer.id,
        staff_id=staff.id,
        method=data.method,
        content=data.content.strip(),
        result=data.result.strip(),
        next_at=data.next_at,
        created_at=now,
    )
    db.session.add(row)
    db.session.flush()
    lead = leads.ensure(customer)
    lead.last_followup_at = lead.idle_since = now
    lead.followup_due_at = None
    sla.met(customer.id, now)
    details = {"followup_id": row.id, "method": row.method, "content": row.content}
    details |= {"result": row.result, "next_at": data.next_at.isoformat() if data.next_at else None}
    timeline.record(customer, "followup", payload=details, actor_staff=staff, occurred_at=now)
    audit.record("followup.create", "customer", customer.id, actor=staff, after=details)
    return row


def due_for(staff: Staff, now: datetime | None = None, days_ahead: int = 0) -> list[FollowUp]:
    """The rep's planned follow-ups not yet answered, due by the end of today (TIMEZONE)
    plus `days_ahead`, oldest first."""
    now = now or utcnow()
    until = leads.local_midnight(now) + timedelta(days=1 + days_ahead)
    return list(
        db.session.scalars(
            select(FollowUp)
            .where(
                FollowUp.staff_id == staff.id,
                FollowUp.next_at.is_not(None),
                FollowUp.next_at < until,
                FollowUp.done_at.is_(None),
            )
            .order_by(FollowUp.next_at)
            .limit(200)
        )
    )


def remind_due(now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Planned follow-ups now due: a `followup-due` WeCom message to the rep, once each."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(FollowUp)
        .where(FollowUp.next_at <= now, FollowUp.reminded_at.is_(None))
        .order_by(FollowUp.next_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.reminded_at = now
        if row.done_at is None:
            outbox.notify_staff(
                "followup-due",
                row.staff,
                f"followup:{row.id}",
                customer_id=row.customer_id,
                customer_name=row.customer.display_name,
                due_at=row.next_at.isoformat(),
                note=row.result or row.content[:40],
            )
    return len(rows)


def remind_first(now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Leads assigned FOLLOWUP_FIRST_HOURS ago with no follow-up: their rep is reminded once."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(Lead)
        .where(Lead.followup_due_at <= now)
        .order_by(Lead.followup_due_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    for lead in rows:
        lead.followup_due_at = None
        if lead.owner_id is None or lead.last_followup_at is not None:
            continue
        outbox.notify_staff(
            "followup-due",
            lead.owner,
            f"lead:{lead.customer_id}:first-followup:{lead.assigned_at.isoformat()}",
            customer_id=lead.customer_id,
            customer_name=lead.customer.display_name,
            due_at=now.isoformat(),
            note="新线索分配后还没有跟进记录，请尽快首次跟进",
        )
    return len(rows)


def for_customer(customer_id: int, limit: int = 20) -> list[FollowUp]:
    return list(
        db.session.scalars(
            select(FollowUp)
            .where(FollowUp.customer_id == customer_id)
            .order_by(FollowUp.created_at.desc(), FollowUp.id.desc())
            .limit(limit)
        )
    )


def aware(value: datetime | None) -> datetime | None:
    """A time as a person wrote it: without a zone it is TIMEZONE's."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
