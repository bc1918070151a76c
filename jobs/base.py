"""The `job` decorator: every job runs inside an app context with a clean DB session."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextlib import nullcontext

from flask import has_app_context

from app.core.extensions import db

log = logging.getLogger(__name__)
_worker_app = None


def _app():
    """The app of a plain `rq worker` process, created once on first use."""
    global _worker_app
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    return _worker_app


def job(func: Callable) -> Callable:
    """Wrap a job so it has an app context and never leaks a session between jobs."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with nullcontext() if has_app_context() else _app().app_context():
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper
