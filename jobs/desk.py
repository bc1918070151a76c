"""Console housekeeping: the nightly clean-up of create forms' one-time nonces."""

from __future__ import annotations

from app.core.extensions import db
from app.services.desk import submissions
from jobs.base import job


@job
def prune_form_nonces() -> int:
    """Delete form claims older than submissions.RETENTION, a batch per commit; returns how
    many."""
    total = 0
    while deleted := submissions.prune():
        db.session.commit()
        total += deleted
    return total
