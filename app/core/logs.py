"""Logs to stdout, one JSON object a line, with the request id or the RQ job id."""

from __future__ import annotations

import logging
import sys
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"


class ContextFilter(logging.Filter):
    """Stamp each record with the request id (in a request) or the job id (in a job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id", "")
        else:
            record.job_id = _current_job_id()
        return True


def _current_job_id() -> str:
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:  # noqa: BLE001 - no job, no Redis: just no id
        return ""
    return job.id if job else ""


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for noisy in ("jieba", "urllib3", "apscheduler.executors"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def init_app(app: Flask) -> None:
    configure_logging(app.config.get("LOG_LEVEL", "INFO"))

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        # Accept a caller's id only when it is short and printable, so logs stay clean.
        ok = 0 < len(incoming) <= 64 and incoming.isprintable()
        g.request_id = incoming if ok else uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        return response
