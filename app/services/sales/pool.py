"""The lead pool (公海): leads nobody followed for POOL_IDLE_DAYS go back to their store's
pool with the reason; the store's reps claim them, at most POOL_CLAIMS_PER_DAY a day. A
claim is one conditional UPDATE (state still 'pool'), so of two reps claiming one lead one
wins and the other is told. The previous rep may claim it back only after POOL_RECLAIM_DAYS.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.core.errors import Conflict, Forbidden, NotFound, RateLimited
from app.core.extensions import db
from app.models import Customer, Lead, Staff
from app.models.types import utcnow
from app.services.sales import leads

SWEEP_BATCH = 500
POOL_ROLES = ("sales", "manager")
# Only customers still being sold to go back to the pool: not a signed or built one.
SALES_STAGES = ("lead", "measured", "design", "quoted")


def return_idle(now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Owned leads idle (no assignment or follow-up) for POOL_IDLE_DAYS, not yet signed
    (SALES_STAGES): to their store's pool."""
    now = now or utcnow()
    days = current_app.config["POOL_IDLE_DAYS"]
    rows = db.session.scalars(
        select(Lead)
        .join(Customer, Customer.id == Lead.customer_id)
        .where(
            Lead.state == "owned",
            Lead.idle_since < now - timedelta(days=days),
            Customer.stage.in_(SALES_STAGES),
        )
        .order_by(Lead.idle_since)
        .limit(batch)
        .with_for_update(skip_locked=True, of=Lead)
    ).all()
    for lead in rows:
        to_pool(lead, f"超过 {days} 天没有跟进", now)
    return len(rows)


def to_pool(lead: Lead, reason: str, now: datetime, actor: Staff | None = None) -> None:
    customer = db.session.get(Customer, lead.customer_id)
    previous = db.session.get(Staff, lead.owner_id) if lead.owner_id else None
    reclaim = timedelta(days=current_app.config["POOL_RECLAIM_DAYS"])
    lead.state, lead.owner_id, lead.previous_owner_id = "pool", None, lead.owner_id
    lead.pooled_at, lead.pool_reason, lead.reclaim_after = now, reason[:200], now + reclaim
    lead.followup_due_at = None
    customer.owner_id = None
    leads.record_move(customer, "pool", source=previous, actor=actor, reason=reason, now=now)


def pool_for(staff: Staff, limit: int = 100) -> list[Lead]:
    """The pool of `staff`'s store, longest waiting first."""
    if staff.store_id is None:
        return []
    return list(
        db.session.scalars(
            select(Lead)
            .where(Lead.store_id == staff.store_id, Lead.state == "pool")
            .order_by(Lead.pooled_at, Lead.customer_id)
            .limit(limit)
        )
    )


def claims_left(staff: Staff, now: datetime | None = None) -> int:
    now = now or utcnow()
    used = leads.counts_today([staff.id], ("claim",), now).get(staff.id, 0)
    return max(0, current_app.config["POOL_CLAIMS_PER_DAY"] - used)


def claim(staff: Staff, customer_id: int, now: datetime | None = None) -> Lead:
    """`staff` takes a lead from their store's pool; Conflict when someone was faster."""
    now = now or utcnow()
    if not staff.has_role(*POOL_ROLES):
        raise Forbidden("只有销售顾问可以领取公海客户")
    lead = db.session.get(Lead, customer_id)
    if lead is None or lead.store_id is None or lead.store_id != staff.store_id:
        raise NotFound("公海中没有这个客户")
    if lead.previous_owner_id == staff.id and lead.reclaim_after and now < lead.reclaim_after:
        raise Conflict("这是你退回公海的客户，暂时不能再领取")
    if claims_left(staff, now) <= 0:
        raise RateLimited("今天领取的公海客户已达上限")
    taken = db.session.execute(
        update(Lead)
        .where(Lead.customer_id == customer_id, Lead.state == "pool")
        .values(state="claiming", owner_id=staff.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise Conflict("该客户已被其他同事领取")
    lead = leads.find(customer_id, lock=True)
    customer = db.session.get(Customer, customer_id)
    previous = db.session.get(Staff, lead.previous_owner_id) if lead.previous_owner_id else None
    leads.give(lead, customer, staff, now)
    leads.record_move(customer, "claim", to=staff, source=previous, actor=staff, now=now)
    return lead


def listing(staff: Staff, now: datetime | None = None) -> dict:
    """The pool page's content: each lead, whether this rep may claim it, claims left."""
    now = now or utcnow()
    items = [
        {
            "customer": {"id": lead.customer_id, "name": lead.customer.display_name},
            "pooled_at": lead.pooled_at.isoformat() if lead.pooled_at else None,
            "reason": lead.pool_reason,
            "claimable": not (
                lead.previous_owner_id == staff.id
                and lead.reclaim_after
                and now < lead.reclaim_after
            ),
        }
        for lead in pool_for(staff)
    ]
    return {"items": items, "claims_left": claims_left(staff, now)}
