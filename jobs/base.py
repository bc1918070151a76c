"""The `job` decorator: every job runs inside the worker's app context with a clean session."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import has_app_context

from app.core.extensions import db


def job(func: Callable) -> Callable:
    """Wrap a job so it never leaks a session between jobs.

    The app context comes from whoever runs the job: `flask worker` (RQ, the context of
    the command), the in-process runner of development (app.core.queue), or a test. A job
    run outside one is a deployment mistake (a bare `rq worker`), said plainly.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not has_app_context():
            raise RuntimeError(
                f"job {func.__module__}:{func.__name__} needs the app: run jobs with "
                "`flask --app wsgi worker`, not a bare `rq worker`"
            )
        try:
            return func(*args, **kwargs)
        finally:
            db.session.remove()

    return wrapper


def drain(step: Callable[..., int], *args) -> int:
    """Run `step(*args)` (one batch: how many rows it did) and commit, until it does none;
    the total. A batch per commit, so a long pass holds no lock for long and a crash loses
    at most the batch in flight."""
    total = 0
    while done := step(*args):
        db.session.commit()
        total += done
    return total
