"""The first-response SLA: due SLA_RESPONSE_MINUTES of working time after a new customer
first writes; met by a console reply, a logged follow-up, or a WeCom message or
relationship event of the owning rep. A miss alerts the rep and the store's managers once
(the outbox's idempotency key), found by the indexed `response_due_at` (cleared when met
or alerted, so the sweep reads only what is due)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.core.extensions import db
from app.models import Customer, Lead, Staff, TimelineEvent
from app.models.types import utcnow
from app.services.notices import outbox
from app.services.sales import clock, leads

SWEEP_BATCH = 500


def on_event(event: TimelineEvent) -> None:
    """Hook "event_enriched": a new customer's first message starts the clock; the owning
    rep's WeCom message or relationship event meets it."""
    if event.direction == "inbound" and event.actor_type == "customer" and event.kind == "message":
        _start(event)
    if event.channel == "wecom" and event.actor_staff_id is not None:
        customer = db.session.get(Customer, event.customer_id)
        if customer is not None and customer.owner_id == event.actor_staff_id:
            met(customer.id, event.occurred_at)


def _start(event: TimelineEvent) -> None:
    lead = leads.find(event.customer_id)
    if lead is None and (event.payload or {}).get("first_contact"):
        lead = leads.ensure(db.session.get(Customer, event.customer_id))
    if lead is None or lead.first_inbound_at is not None:
        return
    start(lead, event.occurred_at)


def start(lead: Lead, when: datetime) -> None:
    due = clock.add_working_minutes(
        leads.calendar(), when, current_app.config["SLA_RESPONSE_MINUTES"]
    )
    lead.first_inbound_at, lead.response_target_at = when, due
    if lead.responded_at is None:
        lead.response_due_at = due


def met(customer_id: int, when: datetime | None = None) -> None:
    """The customer got its first answer (nothing when it had one, or never wrote)."""
    lead = leads.find(customer_id)
    if lead is None or lead.first_inbound_at is None or lead.responded_at is not None:
        return
    when = when or utcnow()
    when = max(when, lead.first_inbound_at)
    lead.responded_at, lead.response_due_at = when, None
    lead.response_seconds = int((when - lead.first_inbound_at).total_seconds())
    lead.response_work_minutes = clock.working_minutes_between(
        leads.calendar(), lead.first_inbound_at, when
    )


@dataclass(frozen=True)
class SlaState:
    label: str  # 已回复 / 剩余 N 分钟 / 超时 N 分钟
    overdue: bool
    minutes: int | None


def state(lead: Lead | None, now: datetime | None = None) -> SlaState | None:
    """What the console shows: minutes left or overdue, in working time."""
    if lead is None or lead.first_inbound_at is None:
        return None
    if lead.responded_at is not None:
        return SlaState(f"已回复（{lead.response_work_minutes or 0} 分钟）", False, None)
    left = clock.working_minutes_between(leads.calendar(), now or utcnow(), lead.response_target_at)
    if left >= 0:
        return SlaState(f"剩余 {left} 分钟", False, left)
    return SlaState(f"超时 {-left} 分钟", True, -left)


def states(customer_ids: list[int], now: datetime | None = None) -> dict[int, SlaState]:
    """{customer id: SLA state} of a page of customers, in one query."""
    if not customer_ids:
        return {}
    rows = db.session.scalars(select(Lead).where(Lead.customer_id.in_(customer_ids))).all()
    now = now or utcnow()
    found = {row.customer_id: state(row, now) for row in rows}
    return {cid: s for cid, s in found.items() if s is not None}


def sweep(now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Alert every lead past its response target, once; returns how many (caller commits)."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(Lead)
        .where(Lead.response_due_at <= now)
        .order_by(Lead.response_due_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    for lead in rows:
        _alert(lead, now)
    return len(rows)


def _alert(lead: Lead, now: datetime) -> None:
    lead.response_due_at, lead.overdue_alerted_at = None, now
    if lead.responded_at is not None:
        return
    customer = db.session.get(Customer, lead.customer_id)
    minutes = clock.working_minutes_between(leads.calendar(), lead.first_inbound_at, now)
    context = {"customer_id": customer.id, "customer_name": customer.display_name}
    for person in _recipients(lead):
        outbox.notify_staff(
            "response-overdue",
            person,
            f"lead:{lead.customer_id}:first-response",
            minutes=minutes,
            **context,
        )


def _recipients(lead: Lead) -> list[Staff]:
    people = []
    if lead.owner_id is not None:
        people.append(db.session.get(Staff, lead.owner_id))
    if lead.store_id is not None:
        people += db.session.scalars(
            select(Staff).where(
                Staff.store_id == lead.store_id, Staff.active, Staff.roles.contains("manager")
            )
        ).all()
    unique = {p.id: p for p in people if p is not None}
    return list(unique.values())
