"""After a callback is stored: fill in who the customer is, and what they want.

Runs in a job (jobs.ingest:enrich_events, a batch of event ids), never in the callback: the
WeChat APIs it calls may take seconds. A batch loads its events and their customers in a
few queries, fetches the profiles they are due for in bulk (app.services.inbound.profiles),
then enriches each event in a savepoint of its own; what the hooks do once per customer
(app.core.deferred: the value) runs once for the batch; and it commits once.

What a failure is. An exception raised while one event is enriched (a bug the event
triggers, data the code cannot read) is that event's fault: its savepoint rolls back, and
the failure is counted on it (enrichment_states) and tried again after a backoff
(ENRICH_RETRY_SECONDS × 4^(attempts−1)); at ENRICH_MAX_ATTEMPTS it is parked with its
reason, listed at GET /api/v1/enrichment/failures and handed over again only by
`flask enrichment retry`. What is nobody's event's fault never counts: a WeChat outage is
absorbed by the profile fetch (the event is enriched without the profile), and a database
or job-timeout failure fails the whole batch, whose events stay marked for the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from rq.timeouts import JobTimeoutException
from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from app.core import deferred, hooks
from app.core.database import insert_once
from app.core.extensions import db
from app.core.logs import redact
from app.core.queue import PENDING_KEY
from app.models import Customer, EnrichmentState, Lead, TimelineEvent
from app.models.types import utcnow
from app.services.customers import customers
from app.services.inbound import profiles as profile_service
from app.services.tagging import tagging

log = logging.getLogger(__name__)
REASON_CHARS = 500
# A broken database connection, a statement the server refused for its own reasons, the job
# running out of time: no event's fault, so the batch fails whole and is handed over again.
NOT_THE_EVENTS_FAULT = (OperationalError, JobTimeoutException)


@dataclass
class Outcome:
    """What one batch did: events enriched, failed (to be retried), parked, and ids skipped
    (already enriched, parked, or being enriched by another worker)."""

    enriched: int = 0
    failed: int = 0
    parked: int = 0
    skipped: int = 0


def _not_parked():
    return ~exists().where(
        EnrichmentState.event_id == TimelineEvent.id, EnrichmentState.parked_at.is_not(None)
    )


def _claim(event_ids: list[int]) -> list[TimelineEvent]:
    """The events of `event_ids` still to enrich and not parked, locked for this batch; on
    PostgreSQL a row another worker holds is skipped (it is being enriched there)."""
    return list(
        db.session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.id.in_(event_ids), TimelineEvent.needs_enrichment, _not_parked())
            .order_by(TimelineEvent.id)
            .with_for_update(skip_locked=True, of=TimelineEvent)
        )
    )


@contextmanager
def _isolated() -> Iterator[None]:
    """A savepoint for one event: on failure its writes roll back, and so do the jobs it
    asked for (they would otherwise still be handed over at the batch's commit)."""
    pending = db.session().info.setdefault(PENDING_KEY, [])
    mark = len(pending)
    try:
        with db.session.begin_nested():
            yield
    except Exception:
        del pending[mark:]
        raise


def _customers(events: list[TimelineEvent]) -> dict[int, Customer]:
    """The live customer of each event's customer id (merges followed), in two queries."""
    loaded = db.session.scalars(
        select(Customer)
        .where(Customer.id.in_({e.customer_id for e in events}))
        .order_by(Customer.id)  # profiles asked in a stable order, oldest customers first
    ).all()
    return {c.id: customers.resolve(c) for c in loaded}


def _ids(alive: dict[int, Customer]) -> list[int]:
    """The live customers' ids, after the profiles' merges (a unionid may have merged one)."""
    return sorted({customers.resolve(c).id for c in alive.values()})


def _leads(alive: dict[int, Customer]) -> list[Lead]:
    """The sales leads of the batch's customers, loaded in one query and held by the caller:
    the SLA hook reads each event's lead by its key (the customer), which the session then
    finds in its identity map instead of asking the database once per event."""
    ids = {c.id for c in alive.values()}
    return list(db.session.scalars(select(Lead).where(Lead.customer_id.in_(ids))))


def _refresh_profiles(alive: list[Customer]) -> dict[int, BaseException]:
    """Every due profile of the batch, fetched in bulk and written by one flush; then the
    unionids linked (a merge, maybe), each customer in a savepoint. {customer id: the
    exception} of customers whose linking failed: their events count it as their failure."""
    profiles = profile_service.prefetch(alive)
    unionids = {c.id: profile_service.apply_due(c, profiles) for c in alive}
    db.session.flush()
    broken = {}
    for customer in alive:
        for unionid in unionids[customer.id]:
            try:
                with _isolated():
                    profile_service.link_unionid(customers.resolve(customer), unionid)
            except NOT_THE_EVENTS_FAULT:
                raise
            except Exception as exc:  # noqa: BLE001 - counted on this customer's events
                _reraise_if_infrastructure(exc)
                broken[customer.id] = exc
    return broken


def _reraise_if_infrastructure(exc: Exception) -> None:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        raise exc


def enrich_batch(event_ids: list[int]) -> Outcome:
    """Enrich these events (see the module docstring); the caller commits."""
    events = _claim(event_ids)
    outcome = Outcome(skipped=len(set(event_ids)) - len(events))
    if not events:
        return outcome
    alive = _customers(events)
    leads = _leads(alive)  # noqa: F841 - held, not read
    # The taxonomy's tags (a few dozen rows) stay loaded for the batch: every tagged event
    # reads its customer's tags, and tagging finds a hit's tag without a query.
    with tagging.taxonomy_held():
        broken = _refresh_profiles(list({c.id: c for c in alive.values()}.values()))
        while (done := _hooks_once(events, alive, broken, outcome)) is None:
            pass  # a customer's deferred work failed: the batch's hooks ran again without it
    _mark_done(done)
    outcome.enriched = len(done)
    return outcome


def _hooks_once(events: list, alive: dict, broken: dict, outcome: Outcome) -> list[int] | None:
    """Every event's hooks, then the work they left for once per customer (app.core.
    deferred: its value); the ids of the events done. When a customer's deferred work
    fails, all of this rolls back and None is returned, that customer now in `broken`: its
    events fail as if their own hooks had raised, and the rest are enriched again."""
    counts = Outcome(**outcome.__dict__)
    try:
        with _isolated(), deferred.scope(), tagging.rows_held(_ids(alive)):
            done = [e.id for e in events if _enrich_one(e, alive, broken, counts)]
            failed = deferred.run(fatal=NOT_THE_EVENTS_FAULT)
            if failed:
                raise _DeferredFailed(failed)
    except _DeferredFailed as exc:
        for customer_id, failure in exc.failed.items():
            _reraise_if_infrastructure(failure)
            broken[customers.resolve(db.session.get(Customer, customer_id)).id] = failure
        return None
    outcome.__dict__.update(counts.__dict__)
    return done


class _DeferredFailed(Exception):
    def __init__(self, failed: dict[int, Exception]) -> None:
        super().__init__(f"deferred work failed for customers {sorted(failed)}")
        self.failed = failed


def _enrich_one(event: TimelineEvent, alive: dict, broken: dict, outcome: Outcome) -> bool:
    """Run the event's hooks in a savepoint; False (its failure counted) when they raise."""
    try:
        failure = broken.get(alive[event.customer_id].id)
        if failure is not None:
            raise failure
        with _isolated():
            hooks.run("event_enriched", event)  # tagging, rep alerts: see app/hooks.py
            if (event.payload or {}).get("first_contact"):  # a new customer: a lead
                customer = alive[event.customer_id]
                hooks.run("lead_created", customer.id, customer.source_channel or "")
    except NOT_THE_EVENTS_FAULT:
        raise
    except Exception as exc:  # noqa: BLE001 - this event's fault: counted, retried, parked
        _reraise_if_infrastructure(exc)
        tagging.forget(event)  # its savepoint took back any tag it added
        _count_failure(outcome, record_failure(event.id, exc))
        return False
    return True


def _mark_done(event_ids: list[int]) -> None:
    """One statement each for the batch: the events are enriched, their states go."""
    if not event_ids:
        return
    db.session.execute(
        update(TimelineEvent)
        .where(TimelineEvent.id.in_(event_ids))
        .values(needs_enrichment=False)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(EnrichmentState).where(EnrichmentState.event_id.in_(event_ids)))


def _count_failure(outcome: Outcome, parked: bool) -> None:
    outcome.failed += 1
    outcome.parked += parked


def backoff(attempts: int) -> timedelta:
    """How long after its `attempts`-th failure an event is tried again."""
    return timedelta(seconds=current_app.config["ENRICH_RETRY_SECONDS"] * 4 ** (attempts - 1))


def record_failure(event_id: int, exc: BaseException) -> bool:
    """Count a failure on the event: retried after a backoff, parked at the last attempt
    (ENRICH_MAX_ATTEMPTS). True when it is parked now."""
    state = db.session.get(EnrichmentState, event_id)
    if state is None:
        state = EnrichmentState(event_id=event_id, attempts=0)
        if not insert_once(state):  # a sweep leased it meanwhile
            state = db.session.get(EnrichmentState, event_id)
    now = utcnow()
    state.attempts += 1
    state.reason = redact(f"{type(exc).__name__}: {exc}")[:REASON_CHARS]  # no secret kept
    state.first_failed_at = state.first_failed_at or now
    state.last_failed_at = now
    parked = state.attempts >= current_app.config["ENRICH_MAX_ATTEMPTS"]
    state.parked_at = now if parked else None
    state.next_attempt_at = None if parked else now + backoff(state.attempts)
    # The type only: the message may quote what the customer wrote (it is kept for admins).
    log.warning(
        "enrichment failed",
        extra={
            "event_id": event_id,
            "attempts": state.attempts,
            "error": type(exc).__name__,
            "parked": parked,
        },
    )
    return parked
