"""Logs to stdout, one JSON object a line, with the request id or the RQ job id; and
secrets kept out of logs and stored errors.

When WeChat cannot be reached, an exception's text is the request URL, and the URL holds
the AppSecret (token fetch, code2Session), the corpsecret (gettoken), the access_token and
the user's login code. `redact` removes them: values of the parameters in SECRET_PARAMS
(query strings, JSON and Python reprs alike) and every configured secret wherever it
appears. RedactFilter applies it to every record the app's handler writes (message,
arguments, extra fields, traceback); code that stores an error text (notices.last_error)
calls `redact` itself.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import uuid
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
REDACTED = "***"
#: Parameters whose values are secrets, tokens or one-time codes (WeChat, WeCom, ours).
SECRET_PARAMS = (
    "secret",
    "corpsecret",
    "appsecret",
    "suite_secret",
    "provider_secret",
    "access_token",
    "component_access_token",
    "authorizer_access_token",
    "suite_access_token",
    "provider_access_token",
    "refresh_token",
    "js_code",
    "code",
    "phone_code",
    "session_key",
    "password",
    "token",
)
#: Settings whose values are secrets: any of them found in a text is redacted.
SECRET_SETTINGS = re.compile(r"(SECRET|SECRET_KEY|_AES_KEY|_TOKEN|DATA_KEY)$")
_NAMES = "|".join(sorted(SECRET_PARAMS, key=len, reverse=True))
# name=value (query strings, forms, "secret=… (Caused by …)")
_ASSIGNED = re.compile(rf"(?<![\w.-])({_NAMES})=[^&\s'\"<>(),;\\]+", re.IGNORECASE)
# "name": "value" / 'name': 'value' (JSON bodies, dict reprs)
_QUOTED = re.compile(rf"""(?<![\w.-])(["'])({_NAMES})\1(\s*:\s*)(["'])[^"']*\4""", re.IGNORECASE)
_known: set[str] = set()
_known_pattern: re.Pattern | None = None
_lock = threading.Lock()
# LogRecord's own attributes; the others are a call's `extra` fields.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
}


def register_secrets(values: Iterable[str]) -> None:
    """Redact these literal values too (settings: an AppSecret, a key, a password)."""
    global _known_pattern
    fresh = {v for v in values if len(v) >= 8} - _known
    if not fresh:
        return
    with _lock:
        _known.update(fresh)
        ordered = sorted(_known, key=len, reverse=True)  # a longer secret before its prefix
        _known_pattern = re.compile("|".join(map(re.escape, ordered)))


def secrets_of(config: Mapping) -> list[str]:
    """The secret values among settings: SECRET_SETTINGS names ("new,old" lists split) and
    the passwords of DATABASE_URL / REDIS_URL."""
    found = [
        part.strip()
        for name, value in config.items()
        if isinstance(value, str) and SECRET_SETTINGS.search(name)
        for part in value.split(",")
    ]
    for name in ("SQLALCHEMY_DATABASE_URI", "REDIS_URL"):
        try:
            found.append(urlsplit(str(config.get(name) or "")).password or "")
        except ValueError:
            continue
    return found


def redact(text: str) -> str:
    """`text` without secrets: SECRET_PARAMS values and registered secrets become ***."""
    text = _ASSIGNED.sub(lambda m: f"{m[1]}={REDACTED}", text)
    text = _QUOTED.sub(lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{REDACTED}{m[4]}", text)
    pattern = _known_pattern
    return pattern.sub(REDACTED, text) if pattern is not None else text


def _scrub(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


class RedactFilter(logging.Filter):
    """Redact a record before any handler formats it: the message with its arguments,
    extra fields, the traceback and stack (see `redact`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, Mapping):
            record.msg = _scrub(record.msg)
        else:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a malformed call must still not leak
                message = f"{record.msg} {record.args!r}"
            record.msg, record.args = redact(message), ()
        if record.exc_info:
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _RECORD_FIELDS and isinstance(value, str | Mapping | list | tuple):
                setattr(record, name, _scrub(value))
        return True


_FORMATTER = logging.Formatter()


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
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # fontTools logs every subset it makes for a label sheet at INFO (33 lines a sheet).
    for noisy in ("jieba", "urllib3", "apscheduler.executors", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # gunicorn writes its own error log (a worker's crash, a request it could not hand
    # to the app): the same filter on its handlers.
    for handler in logging.getLogger("gunicorn.error").handlers:
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())


def init_app(app: Flask) -> None:
    register_secrets(secrets_of(app.config))
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
