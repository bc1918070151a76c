"""One JSON error envelope for every API: {"error": {"code", "message", "fields"?}, "request_id"}."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from app.core.extensions import db

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/mini/")
# What a person reads for werkzeug's own answers (no route, wrong method, body too large).
HTTP_MESSAGES = {
    404: "资源不存在",
    405: "不支持该请求方法",
    413: "上传内容过大",
}


class DomainError(Exception):
    """What a service raises when it refuses: never an HTTP status (the APIs map each kind
    to one, app.schemas.errors). `code` is the envelope's machine-readable code, `message`
    what a person reads (Chinese), `fields` per-field messages for a form."""

    code = "error"

    def __init__(self, message: str, fields: dict[str, str] | None = None, code: str = ""):
        super().__init__(message)
        self.message, self.fields = message, fields
        if code:
            self.code = code


class NotFound(DomainError):
    """The row does not exist, or this person may not know it does (a rep asking for
    another rep's customer gets the same answer as for no customer at all)."""

    code = "not_found"


class Forbidden(DomainError):
    """The person is known and may see the row, but not do this (a role, an owner's right)."""

    code = "forbidden"


class Conflict(DomainError):
    """The row's state does not allow it now (a node already accepted, a stale form)."""

    code = "conflict"


class Invalid(DomainError):
    """The input is wrong; `fields` says where."""

    code = "invalid"


class RateLimited(DomainError):
    """Too many attempts; try again later."""

    code = "rate_limited"


class Unauthenticated(DomainError):
    """No valid credentials (a missing, expired or revoked token)."""

    code = "unauthorized"


class UpstreamUnavailable(DomainError):
    """WeChat or WeCom did not answer, or answered an error that is not the caller's."""

    code = "wechat_unavailable"


class ApiError(Exception):
    """An HTTP error raised by a view (entry points only); rendered as the JSON envelope.
    Services raise a DomainError instead."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    body: dict = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    body["request_id"] = g.get("request_id", "")
    response = jsonify(body)
    response.status_code = status
    return response


def _wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) or request.accept_mimetypes.best == (
        "application/json"
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        log.info("api error", extra={"status": exc.status, "code": exc.code})
        return error_response(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not _wants_json():
            return exc
        code = (exc.name or "error").lower().replace(" ", "_")
        message = HTTP_MESSAGES.get(exc.code or 500, exc.description or exc.name)
        return error_response(exc.code or 500, code, message)

    # The database down, restarting or out of connections: a retry may succeed, so 503 (the
    # callbacks answer the same for WeChat to retry, handlers/); any other database error is
    # a bug and a 500. The session is rolled back so the connection goes back clean.
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_down(exc: DBAPIError):
        try:
            db.session.rollback()
        except DBAPIError:  # the connection is gone with the server; the pool drops it
            db.session.remove()
        log.error("database unavailable", extra={"error": type(exc.orig).__name__})
        if _wants_json():
            return error_response(503, "database_unavailable", "服务暂时不可用，请稍后再试")
        return Response("服务暂时不可用，请稍后再试", status=503, mimetype="text/plain")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        if _wants_json():
            return error_response(500, "internal_error", "服务器内部错误，请稍后再试")
        return Response("Internal Server Error", status=500)
