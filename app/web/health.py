"""/healthz (the process answers) and /readyz (its database and Redis answer)."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text

from app.core.extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


def _check_database() -> str | None:
    try:
        db.session.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        db.session.rollback()
        return type(exc).__name__


def _check_redis() -> str | None:
    redis = current_app.extensions.get("redis")
    if redis is None:
        return "not_configured"
    try:
        redis.ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__


@bp.get("/readyz")
def readyz():
    checks = {"database": _check_database(), "redis": _check_redis()}
    down = [name for name, error in checks.items() if error and error != "not_configured"]
    body = {
        "status": "ok" if not down else "unavailable",
        "checks": {name: error or "ok" for name, error in checks.items()},
    }
    if down:
        log.warning("not ready", extra={"down": down})
        body["message"] = "不可用: " + ", ".join(down)
    return jsonify(body), 503 if down else 200


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
