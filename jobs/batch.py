"""The drain job of the batched hand-off (app.core.batch): runs a job over waiting items."""

from __future__ import annotations

from flask import current_app
from rq import get_current_job

from app.core import batch
from app.core.queue import resolve
from jobs.base import job


@job
def drain(path: str) -> int:
    """Take items off `path`'s list, batch.BATCH at a time, until it is empty; items taken."""
    func = resolve(path)
    current = get_current_job()  # the list lives in the Redis this job came from
    redis = current.connection if current else current_app.extensions["redis"]
    taken = 0
    for items in batch.take(redis, path):
        taken += len(items)
        func(items)
    return taken
