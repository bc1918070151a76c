"""/t/<code>: the public scan page of a material trace code (server-rendered, Chinese,
mobile-first, no login). Nothing on it loads from outside the server (the CSP says so);
unknown or malformed codes get the same 404 page; too many openings from one client, 429."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, redirect, request

from app.core.database import commit
from app.core.errors import RateLimited
from app.services.trace import clients, oauth, scans
from app.web import scan_html

bp = Blueprint("trace_page", __name__)
# Inline styles only; images (none yet) from this server; no scripts, frames or fonts.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'"
HEADERS = (
    ("Content-Security-Policy", CSP),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
)
_static: dict[str, bytes] = {}  # template name → its rendered page (pages without context)


def _page(template: str, status: int) -> Response:
    """A page without context (not issued, too many openings), rendered straight from
    Jinja's compiled template (the pages use nothing Flask's render_template adds: request,
    session, g, config). It is the same every time: rendered once per process."""
    env = current_app.jinja_env
    if env.auto_reload:
        body = env.get_template(template).render()
    else:
        body = _static.get(template) or _static.setdefault(
            template, env.get_template(template).render().encode()
        )
    return Response(body, status=status, headers=HEADERS)


def _client() -> clients.Client:
    address = clients.address(request.remote_addr, request.headers.get("X-Forwarded-For"))
    return clients.describe(address, request.headers.get("User-Agent", ""))


@bp.get("/t/<code>")
def scan_page(code: str):
    # Parsed only when sent: most openings (a phone's camera) carry neither, and werkzeug
    # builds the query and cookie mappings even from nothing (a tenth of the page's CPU).
    environ = request.environ
    args = request.args if environ.get("QUERY_STRING") else {}
    cookie = request.cookies.get(oauth.COOKIE) if environ.get("HTTP_COOKIE") else None
    try:
        visit = scans.visit(code, _client(), cookie, args.get("code"), args.get("state"))
    except RateLimited:
        return _page("trace/limited.html", 429)
    if visit.redirect:
        return redirect(visit.redirect)
    commit()  # a known customer's timeline event (nothing to commit for most scans)
    if visit.view is None:
        return _page("trace/not_found.html", 404)
    body = scan_html.render("trace/scan.html", visit.view, scans.zone())
    response = Response(body, headers=HEADERS)
    if visit.cookie:
        response.set_cookie(
            oauth.COOKIE,
            visit.cookie,
            max_age=oauth.OPENID_TTL,
            path="/t/",
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


@bp.get("/t/<code>/report")
def report(code: str):
    """The batch's inspection report, sandboxed (a PDF's scripts get no origin of ours)."""
    try:
        data, mimetype = scans.report(code, _client())
    except RateLimited:
        return _page("trace/limited.html", 429)
    if data is None:
        return _page("trace/not_found.html", 404)
    response = Response(data, mimetype=mimetype)
    response.headers.update(
        {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}
    )
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
