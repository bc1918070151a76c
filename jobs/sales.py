"""Sales jobs: the every-minute sweep (SLA misses, follow-up reminders) and the nightly
return of idle leads to the pool. Each pass commits per batch; running twice alerts once."""

from __future__ import annotations

from app.models.types import utcnow
from app.services.sales import followups, pool, sla
from jobs.base import drain, job


@job
def sweep() -> dict:
    """Overdue first responses, due follow-ups, missing first follow-ups; counts of each."""
    now = utcnow()
    return {
        "overdue": drain(sla.sweep, now),
        "reminders": drain(followups.remind_due, now),
        "first_followups": drain(followups.remind_first, now),
    }


@job
def return_idle() -> int:
    """Leads idle for POOL_IDLE_DAYS to their store's pool; how many."""
    return drain(pool.return_idle, utcnow())
