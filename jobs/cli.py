"""flask worker (RQ) and flask scheduler (APScheduler, one leader): the processes that run
jobs, registered by create_app beside the app's own commands."""

from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from rq import Queue, SimpleWorker

from app.core.queue import QUEUES
from jobs import scheduler as sched


@click.command("worker")
@click.option("--queues", default=",".join(QUEUES), show_default=True)
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@with_appcontext
def worker(queues, burst):
    """Run an RQ worker inside the app context."""
    redis = current_app.extensions.get("redis")
    if redis is None:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run in-process")
    names = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(names) - set(QUEUES))
    if unknown:
        raise click.ClickException(f"unknown queue(s) {unknown}; known: {QUEUES}")
    # SimpleWorker runs jobs in this process: no fork, so no database connection is
    # shared between parent and child; a crash is covered by RQ's abandoned-job handling.
    SimpleWorker([Queue(n, connection=redis) for n in names], connection=redis).work(
        burst=burst, with_scheduler=True
    )


@click.command("scheduler")
@with_appcontext
def scheduler():
    """Run the schedule (jobs/schedule.py); a second process idles behind a Redis lock."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    sched.run(current_app._get_current_object(), stop)
