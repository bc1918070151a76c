"""gunicorn's production settings: `gunicorn wsgi:app` reads this file from the project folder,
and the benchmarks start gunicorn with it.

gthread workers, one process per core: the threads of a process cover the moments a
request waits on PostgreSQL, Redis or WeChat's API (a sync worker would hold the callback
behind one slow mini-program login), and more processes than cores only add context
switches (measured with bench/ingest.py on 2 cores: 2 × 4 beat 4 × 4 and 8 × 1).
WEB_BIND, WEB_WORKERS and WEB_THREADS override these, like every other setting, from
the environment.
"""

import gc
import os

bind = os.environ.get("WEB_BIND") or "0.0.0.0:8000"
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS") or os.cpu_count() or 2)
threads = int(os.environ.get("WEB_THREADS") or 4)
# WeChat gives a callback 5 seconds; a request still running after 30 is stuck.
timeout = 30
graceful_timeout = 30
keepalive = 5
accesslog = None  # the app logs what matters as JSON lines on stdout
errorlog = "-"


def post_worker_init(worker) -> None:
    """The worker has loaded the app: its modules, models, schemas and compiled statements
    (about 250,000 objects the collector tracks) live as long as the process. Frozen, they
    are left out of every later collection. Without this, a full collection walked them all
    every few thousand requests (objects still in use by the other threads when a young
    collection runs are moved to the oldest generation, and pile up there): 0.3-1.1 s with
    the GIL held on the loaded 2-core machine, about once per worker in each
    bench/mini_feed.py run, during which every request of that worker waited (its p99).
    Garbage from the start is collected first, so none of it is kept for good."""
    gc.collect()
    gc.freeze()
