"""Project jobs: the hourly delayed-node check."""

from __future__ import annotations

from app.extensions import db
from app.services import delays, projects
from jobs.base import job


@job
def flag_delayed_nodes() -> int:
    """Record one node_delayed alert per late node per local day (idempotent)."""
    created = delays.flag(projects.local_today())
    db.session.commit()
    return created
