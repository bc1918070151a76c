"""Events stored but never enriched (Redis lost them, a worker died, enrichment failed): the
sweep that hands them over, the failures admins look at, and the retry of parked ones.

The sweep (every minute, jobs.ingest:sweep_unenriched) hands over the whole backlog at once,
up to ENRICH_SWEEP_LIMIT ids: they go to the batched hand-off (app.core.batch) with one
RPUSH, and one drain job enriches them 100 at a time. Order: events that never failed
first, oldest first, then failed ones whose backoff is over; parked events and events
waiting out their backoff are never selected, so failing rows cannot crowd out others.
Each event handed over is leased for ENRICH_LEASE_SECONDS (its enrichment_states row), so
the next sweeps do not hand it over again while the drain works through a long backlog;
a lease that runs out (a drain that died) hands it over again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, insert, or_, select, update

from app.core import batch
from app.core.errors import Invalid
from app.core.extensions import db
from app.core.queue import enqueue_batched
from app.models import EnrichmentState, TimelineEvent
from app.models.types import utcnow

ENRICH_JOB = "jobs.ingest:enrich_events"
QUEUE = "webhooks"
INSERT_CHUNK = 1000


def due(older_than: timedelta, limit: int, now: datetime | None = None) -> list[tuple[int, bool]]:
    """(event id, has a state row) of the events a sweep hands over now, in hand-over order."""
    now = now or utcnow()
    state = EnrichmentState
    query = (
        select(TimelineEvent.id, state.event_id.is_not(None))
        .outerjoin(state, state.event_id == TimelineEvent.id)
        .where(
            TimelineEvent.needs_enrichment,
            TimelineEvent.created_at < now - older_than,
            or_(
                state.event_id.is_(None),
                and_(
                    state.parked_at.is_(None),
                    or_(state.next_attempt_at.is_(None), state.next_attempt_at <= now),
                ),
            ),
        )
        .order_by(func.coalesce(state.attempts, 0), TimelineEvent.created_at, TimelineEvent.id)
        .limit(limit)
    )
    return [(row[0], bool(row[1])) for row in db.session.execute(query)]


def _lease(rows: list[tuple[int, bool]], until: datetime) -> None:
    known = [event_id for event_id, has_state in rows if has_state]
    fresh = [event_id for event_id, has_state in rows if not has_state]
    for start in range(0, len(known), INSERT_CHUNK):
        chunk = known[start : start + INSERT_CHUNK]
        db.session.execute(
            update(EnrichmentState)
            .where(EnrichmentState.event_id.in_(chunk))
            .values(next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
    for start in range(0, len(fresh), INSERT_CHUNK):
        values = [
            {"event_id": event_id, "attempts": 0, "next_attempt_at": until}
            for event_id in fresh[start : start + INSERT_CHUNK]
        ]
        db.session.execute(insert(EnrichmentState), values)


def sweep() -> int:
    """Hand over every due event (see the module docstring); the count. The caller commits;
    the ids go to Redis after the commit."""
    config = current_app.config
    batch.kick(ENRICH_JOB, QUEUE)  # a wake-up lost between a push and its drain
    rows = due(timedelta(seconds=config["ENRICH_SWEEP_AGE"]), config["ENRICH_SWEEP_LIMIT"])
    _lease(rows, utcnow() + timedelta(seconds=config["ENRICH_LEASE_SECONDS"]))
    for event_id, _ in rows:
        enqueue_batched(ENRICH_JOB, event_id, queue=QUEUE)
    return len(rows)


def failures(parked: bool | None, before: int | None, limit: int) -> list[EnrichmentState]:
    """Events whose enrichment failed, newest event first (keyset on the event id);
    `parked`: only parked (True) or only those still retried (False)."""
    query = select(EnrichmentState).where(EnrichmentState.attempts > 0)
    if parked is not None:
        column = EnrichmentState.parked_at
        query = query.where(column.is_not(None) if parked else column.is_(None))
    if before is not None:
        query = query.where(EnrichmentState.event_id < before)
    return list(db.session.scalars(query.order_by(EnrichmentState.event_id.desc()).limit(limit)))


def retry(event_ids: list[int] | None) -> list[int]:
    """Hand parked or failing events over again now, their count of attempts reset: these
    ids (Invalid naming those that are not waiting for enrichment), or every parked event
    when `event_ids` is None. The ids handed over; the caller commits."""
    query = select(EnrichmentState).join(TimelineEvent).where(TimelineEvent.needs_enrichment)
    if event_ids is None:
        query = query.where(EnrichmentState.parked_at.is_not(None))
    else:
        query = query.where(EnrichmentState.event_id.in_(event_ids))
    states = list(db.session.scalars(query.order_by(EnrichmentState.event_id)))
    if event_ids is not None:
        missing = sorted(set(event_ids) - {s.event_id for s in states})
        if missing:
            names = ", ".join(map(str, missing))
            raise Invalid(f"这些事件没有失败或待重试的补全: {names}", fields={"event_ids": names})
    lease = utcnow() + timedelta(seconds=current_app.config["ENRICH_LEASE_SECONDS"])
    for state in states:
        state.attempts, state.parked_at, state.next_attempt_at = 0, None, lease
        enqueue_batched(ENRICH_JOB, state.event_id, queue=QUEUE)
    return [s.event_id for s in states]
