"""/console: the staff console, server-rendered pages over the same services as the APIs.

Views are thin: parse a form, call a service, commit, redirect or render. Sign-in is a
signed cookie session (app.core.sessions), every POST carries a CSRF token (Flask-WTF;
a wrong one is 400), and every answer carries the security headers below. A customer or
project the staff member may not see is 404, exactly as if it did not exist.
"""

from __future__ import annotations

from datetime import datetime
from functools import wraps
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect

from app.console import forms
from app.core import database
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.extensions import db
from app.models import ROLE_LABELS, STAGE_LABELS
from app.schemas.errors import status_of
from app.services.customers import access, sign_in

bp = Blueprint("console", __name__, url_prefix="/console", static_folder="static")
csrf = CSRFProtect()
PUBLIC_ENDPOINTS = {"console.login", "console.static"}
# Pages a rep opens from WeCom (its sidebar and in-app browser): framing is not refused.
WECOM_PAGES = {
    "console.customer",
    "console.customers",
    "console.tasks",
    "console.lead_pool",
    "console.projects",
    "console.project",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {frames}"
)


def current_staff():
    return g.staff


def roles_required(*roles: str):
    """A view for these roles only (403 page for anyone else)."""

    def wrap(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not g.staff.has_role(*roles):
                raise Forbidden("没有权限访问此页面")
            return view(*args, **kwargs)

        return guarded

    return wrap


@bp.before_request
def _signed_in():
    g.staff = None
    if request.method == "POST":
        csrf.protect()
    else:  # pages only read: no BEGIN and ROLLBACK round trips around their queries
        database.begin_autocommit()
    _refuse_unstorable_query()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    g.staff = sign_in.from_session(session.get("staff_id"), session.get("stamp"))
    if g.staff is None:
        session.clear()
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    return None


def _refuse_unstorable_query() -> None:
    """A query string (filters, cursors) with text a database cannot store is a 400, not a
    database error; forms check their own fields (forms.ConsoleForm)."""
    for name in request.args:
        message = forms.unstorable(request.args.getlist(name))
        if message is not None:
            raise Invalid(f"参数 {name} {message}", {name: message})


@bp.after_request
def _headers(response):
    framed = request.endpoint in WECOM_PAGES
    frames = "'self' https://*.qq.com" if framed else "'none'"
    response.headers["Content-Security-Policy"] = CSP.format(frames=frames)
    if not framed:
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _page_error(status: int, message: str):
    db.session.rollback()
    return render_template("console/error.html", status=status, message=message), status


@bp.errorhandler(CSRFError)
def _csrf(exc: CSRFError):
    return _page_error(400, "页面已过期或请求来源无效，请刷新页面后重试")


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound):
    return _page_error(404, exc.message)


@bp.errorhandler(Forbidden)
def _forbidden(exc: Forbidden):
    return _page_error(403, exc.message)


@bp.errorhandler(DomainError)
def _domain(exc: DomainError):
    """Any other refusal of a service, with the status the APIs give it (409, 429…)."""
    return _page_error(status_of(exc), exc.message)


@bp.errorhandler(404)
def _missing(_exc):
    return _page_error(404, "页面不存在")


@bp.app_template_filter("localtime")
def _localtime(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if isinstance(value, str):  # an API-shaped row (ISO 8601, UTC)
        value = datetime.fromisoformat(value)
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)


@bp.app_template_filter("yuan")
def _yuan(fen) -> str:
    return "" if fen is None else f"¥{fen / 100:,.2f}"


@bp.app_template_filter("for_me")
def _for_me(data):
    """`data` as the signed-in staff member may see it: no money figures for customer
    service (access.redact_money, the staff API's rule)."""
    return access.redact_money(g.get("staff"), data)


@bp.context_processor
def _context() -> dict:
    return {
        "me": g.get("staff"),
        "STAGE_LABELS": STAGE_LABELS,
        "ROLE_LABELS": ROLE_LABELS,
    }


def _home():
    return redirect(url_for("console.customers"))


def init_app(app: Flask) -> None:
    from app.console import admin, auth, customers, sales, site, tasks  # noqa: F401 - routes

    csrf.init_app(app)
    app.register_blueprint(bp)
    app.add_url_rule("/", "home", _home)
