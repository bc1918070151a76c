"""Create forms submitted once. Each console create form (a note, a daily log, a QC report,
a change order) carries a one-time nonce issued with the page; claiming it is stored in the
same transaction as what the form creates, so the same form posted again (a double click,
back and resubmit) finds it taken and creates nothing. A refused form (Invalid) rolls the
claim back with everything else, so it can be corrected and sent again.

A nonce carries the time it was issued (hex seconds, then a dot, then 24 random bytes). A
claim is kept for RETENTION; a form open longer than that is refused as stale, so pruning the
old claims can never let an old form be posted twice.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.core.extensions import db
from app.models import FormSubmission, Staff
from app.models.types import utcnow

NONCE_LENGTH = 64
RETENTION = timedelta(days=30)
PRUNE_BATCH = 1000


def new_nonce(now: datetime | None = None) -> str:
    issued = int((now or utcnow()).timestamp())
    return f"{issued:x}.{secrets.token_urlsafe(24)}"


def is_fresh(nonce: str, now: datetime | None = None) -> bool:
    """Whether the form holding `nonce` was issued within RETENTION (False for a nonce with
    no readable time: a page from before nonces carried one)."""
    head, dot, _ = nonce.partition(".")
    try:
        issued = datetime.fromtimestamp(int(head, 16), UTC) if dot else None
    except (ValueError, OverflowError, OSError):
        issued = None
    return issued is not None and issued > (now or utcnow()) - RETENTION


def claim(staff: Staff, nonce: str, form: str) -> bool:
    """Take `nonce` for this submission: False when it was taken before (a replay)."""
    row = FormSubmission(nonce=nonce[:NONCE_LENGTH], staff_id=staff.id, form=form[:30])
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return False
    return True


def prune(now: datetime | None = None) -> int:
    """Delete up to PRUNE_BATCH claims older than RETENTION (their forms are refused as
    stale anyway); the caller commits and calls again until it returns 0."""
    cutoff = (now or utcnow()) - RETENTION
    old = select(FormSubmission.nonce).where(FormSubmission.created_at < cutoff)
    nonces = db.session.scalars(old.limit(PRUNE_BATCH)).all()
    if nonces:
        db.session.execute(delete(FormSubmission).where(FormSubmission.nonce.in_(nonces)))
    return len(nonces)
