"""Jobs that follow a callback: enrichment, and the sweep that catches what was missed."""

from __future__ import annotations

import logging

from app.core.extensions import db
from app.services.inbound import backlog, enrichment
from jobs.base import job

log = logging.getLogger(__name__)


@job
def enrich_events(event_ids: list[int]) -> dict:
    """Enrich a batch of stored callbacks (the batched hand-off gives 100 at a time): a
    failing event is counted on its own row and retried later; the rest commit together."""
    outcome = enrichment.enrich_batch([int(i) for i in event_ids])
    db.session.commit()
    if outcome.failed:
        log.info("enrichment batch", extra=outcome.__dict__)
    return outcome.__dict__


@job
def enrich_event(event_id: int) -> dict:
    """One event (jobs queued one by one before batching existed); a no-op if done."""
    return enrich_events([event_id])


@job
def sweep_unenriched() -> int:
    """Hand over every stored callback still waiting for enrichment (app.services.inbound.
    backlog): the whole backlog at once, failing rows after their backoff, parked rows never."""
    count = backlog.sweep()
    db.session.commit()  # the ids are handed over on commit
    return count
