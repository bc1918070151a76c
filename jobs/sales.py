"""Sales jobs: the every-minute sweep (SLA misses, follow-up reminders) and the nightly
return of idle leads to the pool. Each pass commits per batch; running twice alerts once."""

from __future__ import annotations

from app.core.extensions import db
from app.models.types import utcnow
from app.services.sales import followups, pool, sla
from jobs.base import job


def _drain(step, now) -> int:
    total = 0
    while done := step(now):
        db.session.commit()
        total += done
    return total


@job
def sweep() -> dict:
    """Overdue first responses, due follow-ups, missing first follow-ups; counts of each."""
    now = utcnow()
    return {
        "overdue": _drain(sla.sweep, now),
        "reminders": _drain(followups.remind_due, now),
        "first_followups": _drain(followups.remind_first, now),
    }


@job
def return_idle() -> int:
    """Leads idle for POOL_IDLE_DAYS to their store's pool; how many."""
    return _drain(pool.return_idle, utcnow())
