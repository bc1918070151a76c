"""Domain errors (app.core.errors) to the JSON envelope: one status per kind, for every API."""

from __future__ import annotations

import logging

from flask import Response

from app.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthenticated,
    UpstreamUnavailable,
    error_response,
)

log = logging.getLogger(__name__)
STATUS = {
    Invalid: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
    UpstreamUnavailable: 502,
}


def status_of(exc: DomainError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def render(exc: DomainError) -> Response:
    """The envelope for a refused request: {"error": {code, message, fields?}, request_id}."""
    status = status_of(exc)
    log.info("request refused", extra={"status": status, "code": exc.code})
    return error_response(status, exc.code, exc.message, exc.fields)
