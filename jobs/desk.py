"""Console housekeeping: the nightly clean-up of create forms' one-time nonces."""

from __future__ import annotations

from app.services.desk import submissions
from jobs.base import drain, job


@job
def prune_form_nonces() -> int:
    """Delete form claims older than submissions.RETENTION, a batch per commit; returns how
    many."""
    return drain(submissions.prune)
