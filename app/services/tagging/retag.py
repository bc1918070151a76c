"""Re-run tagging over stored inbound messages, in id order, batch by batch, resumably.

The checkpoint is a `tagging_state` row ("retag"): the last event id whose batch was
committed, and the --since it was started with. A run that stops (crash, Ctrl-C, a
failing batch) continues after that id; a finished run deletes the row, so the next run
(say after a rule change) starts from the beginning. Tags already on a customer are not
added again, so a batch redone after a failure records no duplicate tag events.

One run at a time: a run holds a lease (the "retag-lock" row: its holder and when it lapses),
renewed with every batch. A second run is refused while the lease holds; a run that died
without releasing it is taken over once the lease has lapsed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update

from app.core.database import insert_once
from app.core.extensions import db
from app.models import TaggingState, TimelineEvent
from app.services.tagging import tag_rules, tagging

CHECKPOINT_KEY = "retag"
LOCK_KEY = "retag-lock"
LEASE_SECONDS = 600  # far longer than a batch takes; a dead run's lease lapses after this
DEFAULT_BATCH = 500


class RetagBusy(RuntimeError):
    """Another retag run holds the lease."""


@dataclass
class RetagResult:
    processed: int
    tags_added: int
    resumed_after: int


def _checkpoint() -> TaggingState | None:
    return db.session.get(TaggingState, CHECKPOINT_KEY)


def _since_note(since: datetime | None) -> str:
    return since.isoformat() if since else ""


def start_after(since: datetime | None, restart: bool) -> int:
    """The event id to continue after: the checkpoint of an unfinished run with the same since."""
    row = _checkpoint()
    if row is None or restart or row.note != _since_note(since):
        return 0
    return row.number


def _messages(since: datetime | None):
    query = select(TimelineEvent).where(
        TimelineEvent.kind == "message", TimelineEvent.direction == "inbound"
    )
    return query.where(TimelineEvent.occurred_at >= since) if since else query


def remaining(since: datetime | None, after_id: int) -> int:
    query = _messages(since).where(TimelineEvent.id > after_id)
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _save_checkpoint(last_id: int, since: datetime | None) -> None:
    row = _checkpoint() or TaggingState(key=CHECKPOINT_KEY)
    row.number, row.note = last_id, _since_note(since)
    db.session.add(row)


def _finish() -> None:
    row = _checkpoint()
    if row is not None:
        db.session.delete(row)
    db.session.commit()


def _acquire(holder: str) -> None:
    """Take the lease, or a lapsed one (its run died); RetagBusy while another run holds it."""
    now = int(time.time())
    lease = TaggingState(key=LOCK_KEY, number=now + LEASE_SECONDS, note=holder)
    if not insert_once(lease) and not _extend(holder, TaggingState.number < now):
        db.session.rollback()
        raise RetagBusy("另一个重打标签任务正在运行，请等它结束后再试") from None
    db.session.commit()


def _extend(holder: str, condition) -> bool:
    lease = {"number": int(time.time()) + LEASE_SECONDS, "note": holder}
    query = update(TaggingState).where(TaggingState.key == LOCK_KEY, condition).values(**lease)
    return db.session.execute(query).rowcount == 1


def _release(holder: str) -> None:
    db.session.rollback()  # whatever a failed batch left
    db.session.execute(
        delete(TaggingState).where(TaggingState.key == LOCK_KEY, TaggingState.note == holder)
    )
    db.session.commit()


def run_batch(
    since: datetime | None, after_id: int, size: int, holder: str
) -> tuple[int, int, int]:
    """Tag one batch and commit it with the checkpoint, while `holder` still holds the
    lease: (last id, events, tags added)."""
    events = db.session.scalars(
        _messages(since).where(TimelineEvent.id > after_id).order_by(TimelineEvent.id).limit(size)
    ).all()
    added = sum(len(tagging.tag_event(e)) for e in events)
    if events:
        _save_checkpoint(events[-1].id, since)
    if not _extend(holder, TaggingState.note == holder):
        raise RetagBusy("重打标签任务的租约已被另一任务接手，本批未提交")
    db.session.commit()
    return (events[-1].id if events else after_id), len(events), added


def run(
    since: datetime | None = None,
    *,
    batch: int = DEFAULT_BATCH,
    restart: bool = False,
    progress: Callable[[int], None] | None = None,
) -> RetagResult:
    """Retag every stored inbound message (since a time), committing after each batch."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    holder = uuid.uuid4().hex
    _acquire(holder)
    try:
        tag_rules.forget_rules()  # the rules as they are now, not as this process cached them
        after_id = resumed = start_after(since, restart)
        processed = added = 0
        while True:  # a failed batch is rolled back (in _release) and redone by the next run
            after_id, count, tags = run_batch(since, after_id, batch, holder)
            processed, added = processed + count, added + tags
            if progress and count:
                progress(count)
            if count < batch:
                break
        _finish()
    finally:
        _release(holder)
    return RetagResult(processed, added, resumed)
