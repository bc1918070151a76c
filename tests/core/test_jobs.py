import os
import subprocess
import sys
import time

import pytest
from flask import Flask
from sqlalchemy import select

from app.core.extensions import db
from app.core.queue import enqueue
from app.models import TimelineEvent
from app.services.customers import customers
from tests.conftest import REDIS_URL, env_for_tests

NOTE_JOB = "tests.sample_jobs:note_job"


def _notes():
    db.session.expire_all()
    return db.session.scalars(select(TimelineEvent.payload).filter_by(kind="job_note")).all()


def test_without_redis_job_runs_after_the_commit_not_before(ctx):
    customer, _ = customers.find_or_create_by_identity("mp_openid", "oJ", "wx")
    enqueue(NOTE_JOB, customer.id, "hello", queue="webhooks")
    # The customer row is not committed yet: the job must not have run.
    assert _notes() == []
    db.session.commit()
    assert _notes() == [{"text": "hello"}]


def test_rolled_back_transaction_enqueues_nothing(ctx):
    customer, _ = customers.find_or_create_by_identity("mp_openid", "oJ", "wx")
    db.session.commit()
    db.session.get(type(customer), customer.id).name = "x"
    enqueue(NOTE_JOB, customer.id, "never", queue="default")
    db.session.rollback()
    db.session.commit()
    assert _notes() == []


def test_unknown_queue_is_refused(ctx):
    with pytest.raises(ValueError, match="unknown queue"):
        enqueue(NOTE_JOB, 1, "x", queue="fast")


def test_a_job_name_must_name_module_and_function(ctx):
    with pytest.raises(ValueError, match="module:function"):
        enqueue("tests.sample_jobs.note_job", 1, "x")


def test_a_job_outside_the_app_says_how_to_run_it():
    from tests.sample_jobs import note_job

    with pytest.raises(RuntimeError, match="flask --app wsgi worker"):
        note_job(1, "x")


@pytest.mark.redis
@pytest.mark.slow
def test_with_redis_a_real_flask_worker_process_runs_the_job(redis_app: Flask, redis_conn):
    customer, _ = customers.find_or_create_by_identity("mp_openid", "oW", "wx")
    enqueue(NOTE_JOB, customer.id, "from worker", queue="default")
    db.session.commit()
    assert _notes() == []  # queued, not run in-process
    assert redis_conn.llen("rq:queue:default") == 1

    env = {**os.environ, **env_for_tests(REDIS_URL=REDIS_URL)}
    proc = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    deadline = time.time() + 5
    while not _notes() and time.time() < deadline:
        time.sleep(0.1)
    assert _notes() == [{"text": "from worker"}]


def test_a_savepoint_inside_the_request_does_not_release_the_job_early(ctx):
    customer, _ = customers.find_or_create_by_identity("mp_openid", "oS", "wx")
    enqueue(NOTE_JOB, customer.id, "after the real commit", queue="default")
    with db.session.begin_nested():  # e.g. a race-safe insert further down the request
        customers.find_or_create_by_identity("mp_openid", "oS2", "wx")
    assert _notes() == []
    db.session.commit()
    assert _notes() == [{"text": "after the real commit"}]


@pytest.mark.redis
def test_a_forked_worker_hands_over_its_own_batched_items_once(redis_conn):
    """gunicorn forks its workers: each flushes what it holds with a thread of its own, and
    never what its parent held (that would enrich an event twice)."""
    from app.core import batch

    path = "jobs.ingest:enrich_events"
    key = batch.list_key(path)
    batch.push(redis_conn, path, 1, "webhooks")  # held by this process
    child = os.fork()
    if child == 0:  # the worker: pushes 2, and its own flusher sends it
        batch.push(redis_conn, path, 2, "webhooks")
        deadline = time.monotonic() + 5
        while b"2" not in redis_conn.lrange(key, 0, -1) and time.monotonic() < deadline:
            time.sleep(0.01)
        os._exit(0 if b"2" in redis_conn.lrange(key, 0, -1) else 1)
    _, status = os.waitpid(child, 0)
    batch.flush()
    assert os.waitstatus_to_exitcode(status) == 0
    assert sorted(redis_conn.lrange(key, 0, -1)) == [b"1", b"2"]
