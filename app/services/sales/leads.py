"""The lead row of a customer and the record of its moves (timeline, audit, lead_moves)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from app.core.database import insert_once
from app.core.extensions import db
from app.models import Customer, Lead, LeadMove, Staff
from app.models.types import utcnow
from app.services.customers import audit, timeline
from app.services.sales.clock import Calendar


def calendar() -> Calendar:
    return Calendar.from_config(current_app.config)


def find(customer_id: int, *, lock: bool = False) -> Lead | None:
    """The lead of a customer; `lock`: FOR UPDATE (PostgreSQL), read fresh from the row."""
    if not lock:  # by its key: a lead the session holds is found without a query
        return db.session.get(Lead, customer_id)
    query = select(Lead).where(Lead.customer_id == customer_id).with_for_update()
    return db.session.scalars(query.execution_options(populate_existing=True)).first()


def ensure(customer: Customer, *, lock: bool = False) -> Lead:
    """The customer's lead, created on first need (race-safe: the primary key decides)."""
    lead = find(customer.id, lock=lock)
    if lead is not None:
        return lead
    lead = Lead(
        customer_id=customer.id,
        state="owned" if customer.owner_id else "unassigned",
        owner_id=customer.owner_id,
        store_id=customer.store_id,
        source=(customer.source_channel or "")[:100],
        created_at=utcnow(),
    )
    if not insert_once(lead):
        return find(customer.id, lock=lock)
    return find(customer.id, lock=lock) if lock else lead


def local_midnight(now: datetime) -> datetime:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def counts_today(staff_ids: list[int], kinds: tuple[str, ...], now: datetime) -> dict[int, int]:
    """{staff id: moves of these kinds to them since local midnight} (one indexed query)."""
    if not staff_ids:
        return {}
    rows = db.session.execute(
        select(LeadMove.to_staff_id, func.count())
        .where(
            LeadMove.to_staff_id.in_(staff_ids),
            LeadMove.kind.in_(kinds),
            LeadMove.created_at >= local_midnight(now),
        )
        .group_by(LeadMove.to_staff_id)
    ).all()
    return dict(rows)


def give(lead: Lead, customer: Customer, rep: Staff, now: datetime) -> None:
    """Make `rep` the owner: the first follow-up is due FOLLOWUP_FIRST_HOURS from now."""
    hours = current_app.config["FOLLOWUP_FIRST_HOURS"]
    customer.owner_id = rep.id
    customer.store_id = customer.store_id or rep.store_id
    lead.state, lead.owner_id, lead.store_id = "owned", rep.id, customer.store_id
    lead.assigned_at = lead.idle_since = now
    lead.followup_due_at = now + timedelta(hours=hours)
    lead.pooled_at, lead.pool_reason = None, ""


def record_move(
    customer: Customer,
    kind: str,
    *,
    to: Staff | None = None,
    source: Staff | None = None,
    actor: Staff | str | None = None,
    rule=None,
    reason: str = "",
    now: datetime | None = None,
) -> LeadMove:
    """The move in lead_moves, on the customer's timeline and in the audit log."""
    move = LeadMove(
        customer_id=customer.id,
        kind=kind,
        from_staff_id=source.id if source else None,
        to_staff_id=to.id if to else None,
        rule_id=rule.id if rule else None,
        reason=reason[:200],
        created_at=now or utcnow(),
    )
    db.session.add(move)
    details = {
        "move": kind,
        "staff_id": to.id if to else None,
        "staff_name": to.name if to else None,
        "previous_staff_id": source.id if source else None,
        "rule_id": rule.id if rule else None,
        "rule_name": rule.name if rule else None,
        "reason": reason,
    }
    timeline.record(
        customer,
        f"lead_{kind}",
        payload=details,
        actor_staff=actor if isinstance(actor, Staff) else None,
        occurred_at=move.created_at,
    )
    audit.record(f"lead.{kind}", "customer", customer.id, actor=actor or "system", after=details)
    return move
