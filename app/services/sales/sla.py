"""The first-response SLA: due SLA_RESPONSE_MINUTES of working time after a new customer
first writes; met by a console reply, a logged follow-up, or a WeCom message or
relationship event of the owning rep. A miss alerts the rep and the store's managers once
(the outbox's idempotency key), found by the indexed `response_due_at` (cleared when met
or alerted, so the sweep reads only what is due)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.core.extensions import db
from app.core.prebuilt import Prebuilt
from app.models import Customer, Lead, Notice, Staff, TimelineEvent
from app.models.types import utcnow
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


# The columns `state` reads of a page of leads, not Lead entities (a page of 50 builds no
# ORM objects), built once: the customer list sends it with its other reads.
PAGE_STATES = Prebuilt(
    select(
        Lead.customer_id,
        Lead.first_inbound_at,
        Lead.responded_at,
        Lead.response_work_minutes,
        Lead.response_target_at,
    ).where(Lead.customer_id.in_(bindparam("ids", expanding=True)))
)


def states_of(rows, now: datetime | None = None) -> dict[int, SlaState]:
    """{customer id: SLA state} of rows of PAGE_STATES."""
    now = now or utcnow()
    found = {row.customer_id: state(row, now) for row in rows}
    return {cid: s for cid, s in found.items() if s is not None}


def sweep(now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Alert every lead past its response target, once; returns how many (caller commits).

    Set-based, a handful of statements a batch whatever its size: the due rows (the
    partial index on response_due_at; rows another sweep holds are skipped), their names
    and store managers, one UPDATE clearing the due column, one INSERT of the notices with
    their idempotency keys (ON CONFLICT DO NOTHING), rendered when the outbox sends them."""
    now = now or utcnow()
    due = db.session.execute(
        select(Lead.customer_id, Lead.owner_id, Lead.store_id, Lead.first_inbound_at)
        .where(Lead.response_due_at <= now)
        .order_by(Lead.response_due_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return 0
    ids = [row.customer_id for row in due]
    db.session.execute(
        update(Lead)
        .where(Lead.customer_id.in_(ids))
        .values(response_due_at=None, overdue_alerted_at=now)
        .execution_options(synchronize_session=False)
    )
    rows = _overdue_notices(due, now)
    if rows:
        insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
        db.session.execute(insert(Notice).on_conflict_do_nothing(), rows)  # executemany
    return len(due)


def _overdue_notices(due: list, now: datetime) -> list[dict]:
    names = {
        c.id: c.display_name
        for c in db.session.scalars(
            select(Customer).where(Customer.id.in_([r.customer_id for r in due]))
        )
    }
    managers = _managers({r.store_id for r in due} - {None})
    cal, rows = leads.calendar(), []
    for lead in due:
        minutes = clock.working_minutes_between(cal, lead.first_inbound_at, now)
        context = {"customer_id": lead.customer_id, "customer_name": names.get(lead.customer_id)}
        people = {lead.owner_id, *managers.get(lead.store_id, ())} - {None}
        for staff_id in sorted(people):
            key = f"response-overdue:lead:{lead.customer_id}:first-response:staff:{staff_id}"
            rows.append(_notice_row(key, staff_id, {**context, "minutes": minutes}, now))
    return rows


def _managers(store_ids: set[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    if store_ids:
        for staff in db.session.scalars(
            select(Staff).where(Staff.store_id.in_(store_ids), Staff.active)
        ):
            if staff.has_role("manager"):
                found.setdefault(staff.store_id, []).append(staff.id)
    return found


def _notice_row(key: str, staff_id: int, context: dict, now: datetime) -> dict:
    """A staff notice as outbox.create would store it, unrendered (the sender renders it)."""
    return {
        "kind": "response-overdue",
        "audience": "staff",
        "idem_key": key,
        "urgent": True,
        "marketing": False,
        "context": context,
        "tried": [],
        "staff_id": staff_id,
        "status": "pending",
        "scheduled_at": now,
        "channel": "",
        "channel_reason": "",
        "attempts": 0,
        "last_error": "",
        "delivery": "",
        "created_at": now,
    }
