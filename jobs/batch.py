"""The drain job of the batched hand-off (app.core.batch): runs a job over waiting items."""

from __future__ import annotations

import time

from flask import current_app
from rq import get_current_job

from app.core import batch
from app.core.queue import resolve
from jobs.base import job

# Seconds of work one drain job does before it hands the rest of the list to a fresh drain at
# the back of its queue: well inside a drain's job timeout (RQ's default, 180 s) however long
# the list (a sweep hands over a whole backlog at once), and other jobs run in between.
BUDGET = 30


@job
def drain(path: str) -> int:
    """Take items off `path`'s list, batch.BATCH at a time, until it is empty or BUDGET
    seconds passed (then a fresh drain takes over); items taken."""
    func = resolve(path)
    current = get_current_job()  # the list lives in the Redis this job came from
    redis = current.connection if current else current_app.extensions["redis"]
    taken = 0
    for items in batch.take(redis, path, until=time.monotonic() + BUDGET):
        taken += len(items)
        func(items)
    if current is not None and batch.pending(redis, path):
        batch.wake(redis, path, current.origin)
    return taken
