"""WeChat (official account) and WeCom callbacks: verify, store once, answer fast."""

from __future__ import annotations

import logging
from collections import Counter

from flask import Blueprint, Flask, Response, g
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, InternalError, OperationalError
from werkzeug.exceptions import RequestEntityTooLarge

from app.core.extensions import db
from app.core.wxprotocol import CallbackError

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__, url_prefix="/wechat")
REJECTIONS: Counter = Counter()  # per-process count of refused callbacks, by reason


def _reject(status: int, reason: str) -> Response:
    db.session.rollback()
    REJECTIONS[reason] += 1
    log.warning(
        "callback rejected",
        extra={
            "status": status,
            "reason": reason,
            "rejected_total": sum(REJECTIONS.values()),
            "request_id": g.get("request_id", ""),
        },
    )
    return Response(reason, status=status, mimetype="text/plain")


@bp.errorhandler(CallbackError)
def _callback_error(exc: CallbackError):
    return _reject(exc.status, exc.reason)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    return _reject(413, "body over the size limit")


@bp.errorhandler(DataError)
def _value_refused(exc: DataError):
    # A value the database refuses (callbacks are bounded before storing: wxprotocol) is
    # bad input, not an outage: a retry would be refused the same way.
    return _reject(400, f"a value does not fit: {type(exc.orig).__name__}")


# What the database raises when it is down, restarting, out of connections or locked: the
# only errors a retry can cure, so the only ones answered 503. Any other database error
# is a bug, left to the app's 500 handler.
@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
@bp.errorhandler(InternalError)
def _database_down(exc: DBAPIError):
    # 503 makes WeChat retry (up to three times): the message is not lost to a DB blip.
    db.session.rollback()
    log.error("database unavailable during callback", extra={"error": type(exc.orig).__name__})
    return Response("database unavailable", status=503, mimetype="text/plain")


def init_app(app: Flask) -> None:
    from handlers import mp, work  # noqa: F401 - registers the routes

    app.register_blueprint(bp)
