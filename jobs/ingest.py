"""Jobs that follow a callback: enrichment, and the sweep that catches what was missed."""

from __future__ import annotations

import logging
from datetime import timedelta

from app.core import batch
from app.core.extensions import db
from app.core.queue import enqueue
from app.models import TimelineEvent
from app.services.inbound import enrichment
from jobs.base import job

log = logging.getLogger(__name__)
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
def enrich_events(event_ids: list[int]) -> None:
    """enrich_event for a batch (queue.enqueue_batched): one failure does not stop the rest,
    and leaves its event marked for the sweep."""
    for event_id in event_ids:
        try:
            enrich_event(event_id)
        except Exception:  # noqa: BLE001 - logged; the sweep retries it
            log.exception("enrichment failed", extra={"event_id": event_id})
            db.session.rollback()


@job
def sweep_unenriched() -> int:
    """Re-enqueue stored callbacks whose enrichment was never queued (e.g. Redis was down)."""
    batch.kick("jobs.ingest:enrich_events", "webhooks")
    ids = enrichment.pending_events(SWEEP_AGE)
    for event_id in ids:
        enqueue("jobs.ingest:enrich_event", event_id, queue="webhooks", job_id=f"enrich-{event_id}")
    db.session.commit()  # enqueued jobs are handed over on commit
    return len(ids)
