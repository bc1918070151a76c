"""/mini/v1: the mini program's JSON API (one module per resource).

Every endpoint but login and the OpenAPI document needs `Authorization: Bearer <token>`,
the session token that POST /mini/v1/login returns.
"""

from __future__ import annotations

from flask import Blueprint, Flask, g, request

from app.core.database import begin_autocommit, load_row
from app.core.errors import DomainError, Unauthenticated
from app.models import Customer
from app.schemas import errors
from app.schemas.validation import check_url_ids
from app.services.customers import mini_auth

bp = Blueprint("mini", __name__, url_prefix="/mini/v1")
PUBLIC = ("mini.login",)
# The pages homeowners open most fold the homeowner lookup into their own query (one round
# trip less); they resolve the homeowner themselves when that query finds nothing.
FOLDED = ("mini.get_project", "mini.project_feed")
# GETs that may write (a referral code is created the first time it is asked for).
WRITING_GETS = ("mini.my_referral",)
bp.url_value_preprocessor(check_url_ids)
bp.register_error_handler(DomainError, errors.render)


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("请先登录")
    g.session_key = mini_auth.session_key(token)
    if request.endpoint in FOLDED:  # they read outside a transaction themselves
        return
    if request.method == "GET" and request.endpoint not in WRITING_GETS:  # the rest only read
        begin_autocommit()
    current_homeowner_id()


def current_session() -> str:
    """The session key of this request's token (mini_auth.session_key)."""
    return g.session_key


def current_homeowner_id() -> int:
    """The homeowner's customer id (401 when the session expired or was revoked)."""
    if "homeowner_id" not in g:
        g.homeowner_id = mini_auth.homeowner_id(g.session_key)
    return g.homeowner_id


def current_homeowner() -> Customer:
    """The homeowner's customer record, loaded on first use."""
    if "homeowner" not in g:
        g.homeowner = load_row(Customer, current_homeowner_id())
    return g.homeowner


def init_app(app: Flask) -> None:
    from miniprogram_api import (  # noqa: F401 - registers the routes
        acceptance,
        auth,
        change_orders,
        leads,
        members,
        projects,
        referrals,
        subscriptions,
        trace,
    )

    app.register_blueprint(bp)
