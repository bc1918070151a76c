"""/api/v1: the staff and integration JSON API (bearer tokens). One module per resource.

Every route is declared with `@endpoint(API, ...)` (app.schemas.spec): its shapes, and with
`allow=roles(...)` who may call it. Views are thin: the parsed request, one service call
(services raise app.core.errors' domain errors, which the blueprint renders), commit, answer.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, g, request

from app.core.errors import ApiError, DomainError, Forbidden
from app.core.extensions import db
from app.schemas import errors
from app.schemas.validation import check_url_ids
from app.services.customers import staff as staff_service

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.url_value_preprocessor(check_url_ids)
bp.register_error_handler(DomainError, errors.render)


@bp.before_request
def _authenticate() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "缺少访问令牌 (Authorization: Bearer <token>)")
    member = staff_service.authenticate(token.strip())
    if member is None:
        raise ApiError(401, "unauthorized", "访问令牌无效或已吊销")
    db.session.commit()  # persists the throttled last_used_at stamp
    g.staff = member


def current_staff():
    return g.staff


def roles(*names: str, message: str = "没有权限执行此操作") -> Callable[[], None]:
    """`endpoint(..., allow=roles("admin", "manager"))`: Forbidden unless the signed-in
    staff member holds one of `names` (checked before the request is validated)."""

    def allow() -> None:
        if not current_staff().has_role(*names):
            raise Forbidden(message)

    return allow


def init_app(app: Flask) -> None:
    from app.api import (  # noqa: F401 - registers the routes
        auto_replies,
        customer_tags,
        customers,
        enrichment,
        invites,
        me,
        mini_sessions,
        node_templates,
        project_work,
        projects,
        referrals,
        sales,
        tag_rules,
        tasks,
        trace,
    )

    app.register_blueprint(bp)
