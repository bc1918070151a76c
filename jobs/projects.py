"""Project jobs: the hourly delayed-node check, the nightly clean-up of uncited uploads."""

from __future__ import annotations

from app.core.extensions import db
from app.services.projects import delays, photo_uploads, projects
from jobs.base import drain, job


@job
def flag_delayed_nodes() -> int:
    """Record one node_delayed alert per late node per local day (idempotent)."""
    created = delays.flag(projects.local_today())
    db.session.commit()
    return created


@job
def prune_uploads() -> int:
    """Delete homeowners' uploads nobody cited (files and rows), a batch per commit."""
    return drain(photo_uploads.prune)
