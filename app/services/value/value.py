"""客户价值: each customer's level (high, normal, low), kept up to date with its reasons.

The level is the sum of the inputs' points (app.services.value.inputs): 4 or more is high,
-1 or less is low, anything between normal. So a lead known only to write now and then is
normal, a 经济 budget that went silent is low, a 高端 budget talking with us every week is
high, and so is a signed 20万 contract with a 中端 budget even when the customer is quiet.
Source: issue #17.

Recomputed when an input changes (declared in app/hooks.py): after an inbound message is
tagged ("event_enriched"), when tags change ("customer_tags_changed"), when the stage moves
("stage_changed"), when customers merge; and nightly for customers whose 90-day window
dropped a message (`recompute_due`, jobs/value.py). A change of level is a timeline event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, or_, select

from app.core import deferred
from app.core.database import insert_once
from app.core.errors import Invalid
from app.core.extensions import db
from app.models import VALUE_LABELS, Customer, CustomerValue, TimelineEvent
from app.models.types import utcnow
from app.services.customers import customers, timeline
from app.services.value import inputs
from app.services.value.inputs import Reason

HIGH_FROM, LOW_UP_TO = 4, -1
LEVELS = tuple(VALUE_LABELS)
BATCH = 500


@dataclass(frozen=True)
class Assessment:
    """A customer's level, score and reasons, and when to look again (or None)."""

    level: str
    score: int
    reasons: tuple[Reason, ...] = field(default=())
    recompute_after: datetime | None = None


def level_of(score: int) -> str:
    if score >= HIGH_FROM:
        return "high"
    return "low" if score <= LOW_UP_TO else "normal"


def assess(customer: Customer, now: datetime | None = None) -> Assessment:
    """The value of `customer` from what is known now (no writes)."""
    now = now or utcnow()
    return _judge(customer, inputs.gather([customer.id], now)[customer.id])


def _judge(customer: Customer, facts: inputs.Facts) -> Assessment:
    engaged, expires = inputs.engagement(facts.inbound)
    found = [
        inputs.budget(customer, facts.tags),
        inputs.contract(facts.projects),
        inputs.stage(customer),
        inputs.referrals(facts.signed_referrals),
        engaged,
    ]
    reasons = tuple(r for r in found if r is not None)
    score = sum(r.points for r in reasons)
    return Assessment(level_of(score), score, reasons, expires)


def _row(
    customer_id: int, level: str, stored: CustomerValue | None
) -> tuple[CustomerValue, str | None]:
    """The customer's stored row (created when missing) and its level before this pass."""
    if stored is not None:
        return stored, stored.level
    row = CustomerValue(customer_id=customer_id, level=level)
    if db.session.get_bind().dialect.name == "sqlite":  # one writer: no race to lose
        db.session.add(row)
        db.session.flush()
        return row, None
    if insert_once(row):
        return row, None
    row = db.session.get(CustomerValue, customer_id, populate_existing=True)
    return row, row.level


def recompute(customer_id: int, now: datetime | None = None) -> CustomerValue | None:
    """Assess the customer (followed to the one a merge kept) and store it; a changed level
    is recorded on the timeline ("value_changed"). None for an unknown customer."""
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        return None
    return recompute_many([customer_id], now)[customers.resolve(customer).id]


def recompute_many(
    customer_ids: list[int], now: datetime | None = None
) -> dict[int, CustomerValue]:
    """recompute for many customers at once, in a few queries whatever their number (a
    batch of enrichment); {live customer id: its row}. Unknown ids are left out."""
    now = now or utcnow()
    loaded = (db.session.get(Customer, customer_id) for customer_id in customer_ids)
    alive = {c.id: c for c in (customers.resolve(c) for c in loaded if c is not None)}
    facts = inputs.gather(list(alive), now)
    stored = db.session.scalars(select(CustomerValue).where(CustomerValue.customer_id.in_(alive)))
    stored = {row.customer_id: row for row in stored}
    rows = {cid: _store(c, _judge(c, facts[cid]), stored.get(cid), now) for cid, c in alive.items()}
    db.session.flush()
    return rows


def _store(customer: Customer, found: Assessment, stored, now: datetime) -> CustomerValue:
    row, before = _row(customer.id, found.level, stored)
    row.level, row.score = found.level, found.score
    row.reasons = [r.as_dict() for r in found.reasons]
    row.computed_at, row.recompute_after = now, found.recompute_after
    if before is not None and before != found.level:
        _record_change(customer, before, row)
    return row


def _record_change(customer: Customer, before: str, row: CustomerValue) -> None:
    payload = {
        "from": before,
        "to": row.level,
        "from_label": VALUE_LABELS[before],
        "to_label": VALUE_LABELS[row.level],
        "score": row.score,
        "reasons": row.reasons,
    }
    timeline.record(customer, "value_changed", payload=payload)


def on_event(event: TimelineEvent) -> None:
    """Hook "event_enriched": a message or event from the customer changes its engagement.
    In a batch of enrichment, assessed once per customer at the batch's end (deferred)."""
    if event.direction == "inbound":
        deferred.call(recompute_many, event.customer_id)


def on_stage_changed(customer_id: int, _old_stage: str, _new_stage: str) -> None:
    """Hook "stage_changed"."""
    recompute(customer_id)


def on_tags_changed(customer_id: int) -> None:
    """Hook "customer_tags_changed": the budget tier may have changed (deferred as on_event)."""
    deferred.call(recompute_many, customer_id)


def on_merge(source_id: int, target_id: int) -> None:
    """Hook "customers_merged": the source's value goes, the target's is assessed again."""
    db.session.execute(delete(CustomerValue).where(CustomerValue.customer_id == source_id))
    recompute(target_id)


def due_ids(now: datetime, limit: int = BATCH) -> list[int]:
    """Live customers never assessed, or whose 90-day window has dropped a message."""
    query = (
        select(Customer.id)
        .outerjoin(CustomerValue, CustomerValue.customer_id == Customer.id)
        .where(
            Customer.merged_into_id.is_(None),
            or_(CustomerValue.customer_id.is_(None), CustomerValue.recompute_after < now),
        )
        .order_by(Customer.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def recompute_due(now: datetime | None = None, limit: int = BATCH) -> int:
    """Assess one batch of due customers (see due_ids); the caller commits. Returns how many."""
    now = now or utcnow()
    ids = due_ids(now, limit)
    recompute_many(ids, now)
    return len(ids)


def parse_level(raw: str | None) -> str | None:
    """'high' | 'normal' | 'low' (or None when absent); Invalid naming the field otherwise."""
    if raw is None or raw == "":
        return None
    if raw not in LEVELS:
        raise Invalid("客户价值只能是 high、normal 或 low", {"value": "应为 high、normal 或 low"})
    return raw


def level_clause(raw_level: str | None):
    """The SQL condition "the customer's stored value is `raw_level`" (None when no level is
    asked; never-assessed customers are in no level). Invalid for an unknown level."""
    level = parse_level(raw_level)
    if level is None:
        return None
    return Customer.id.in_(select(CustomerValue.customer_id).where(CustomerValue.level == level))
