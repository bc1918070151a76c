"""Customer value job: the nightly pass over customers whose 90-day window moved."""

from __future__ import annotations

from app.core.extensions import db
from app.models.types import utcnow
from app.services.value import value
from jobs.base import drain, job


@job
def recompute_due() -> int:
    """Assess customers never assessed or whose engagement window dropped a message, a batch
    per commit; returns how many."""
    return drain(value.recompute_due, utcnow())


@job
def recompute(customer_ids: list[int]) -> None:
    """Assess customers again (a referral they made was signed or reversed), each once
    however often it was asked (queue.enqueue_batched hands them over in batches)."""
    for customer_id in sorted(set(customer_ids)):
        value.recompute(customer_id)
    db.session.commit()
