"""Jobs that follow a callback: enrichment, and the sweep that catches what was missed."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.models import TimelineEvent
from app.services import enrichment
from jobs import enqueue
from jobs.base import job

SWEEP_AGE = timedelta(minutes=1)


@job
def enrich_event(event_id: int) -> None:
    """Profile, unionid merge and tagging for one stored callback; a no-op if already done."""
    event = db.session.get(TimelineEvent, event_id)
    if event is None or not event.needs_enrichment:
        return
    enrichment.enrich(event)
    db.session.commit()


@job
def sweep_unenriched() -> int:
    """Re-enqueue stored callbacks whose enrichment was never queued (e.g. Redis was down)."""
    ids = enrichment.pending_events(SWEEP_AGE)
    for event_id in ids:
        enqueue(enrich_event, event_id, queue="webhooks", job_id=f"enrich-{event_id}")
    db.session.commit()  # enqueued jobs are handed over on commit
    return len(ids)
