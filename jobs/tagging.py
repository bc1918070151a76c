"""Retagging as a background job (the same pass as `flask tags retag`)."""

from __future__ import annotations

from datetime import datetime

from app.services.tagging import retag as retag_service
from jobs.base import job


@job
def retag(since_iso: str | None = None) -> int:
    """Retag stored inbound messages since an ISO time (all when None); resumes a stopped run."""
    since = datetime.fromisoformat(since_iso) if since_iso else None
    if since is not None and since.tzinfo is None:
        raise ValueError(f"since_iso must carry a timezone, got {since_iso!r}")
    return retag_service.run(since).processed
