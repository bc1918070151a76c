"""/t/<code>: the public scan page of a material trace code (server-rendered, Chinese,
mobile-first, no login). Nothing on it loads from outside the server (the CSP says so);
unknown or malformed codes get the same 404 page; too many openings from one client, 429."""

from __future__ import annotations

import dataclasses
import re

from flask import Blueprint, Flask, Response, current_app, redirect, request
from markupsafe import Markup, escape

from app.core.database import commit
from app.core.errors import RateLimited
from app.services.trace import clients, oauth, scans

bp = Blueprint("trace_page", __name__)
# Inline styles only; images (none yet) from this server; no scripts, frames or fonts.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'"
HEADERS = (
    ("Content-Security-Policy", CSP),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
)
_static: dict[str, bytes] = {}  # template name → its rendered page (pages without context)
# A scan page's frame: what it shows of the batch and site, rendered once a process.
PER_CODE = ("code", "serial", "scan_count", "first_scanned_at")
CATALOG = tuple(f.name for f in dataclasses.fields(scans.ScanView) if f.name not in PER_CODE)
# Markup, so the frame's render keeps them as they are; any text of a batch has its "<" escaped.
SLOTS = {name: Markup(f"<\x00{name}>") for name in ("code", "serial", "scans")}
SLOT = re.compile("<\x00(code|serial|scans)>")
FRAMES_KEPT = 4096  # (batch, site) frames a process keeps; past this it starts over
_frames: dict[tuple, list[str]] = {}


def _page(template: str, status: int, **context) -> Response:
    """The page rendered straight from Jinja's compiled template: the pages use nothing
    Flask's render_template adds (request, session, g, config). A page without context
    (not issued, too many openings) is the same every time: rendered once per process."""
    env = current_app.jinja_env
    if context or env.auto_reload:
        body = env.get_template(template).render(context)
    else:
        body = _static.get(template) or _static.setdefault(
            template, env.get_template(template).render().encode()
        )
    return Response(body, status=status, headers=HEADERS)


def _frame(view: scans.ScanView, tz) -> list[str]:
    """trace/scan.html for `view`'s batch and site with slots for the code, its serial and
    its scans: [text, slot name, text, …]. Rendered once a process per batch and site (the
    page's Jinja render is a fifth of an opening's CPU); a new value of any catalog field,
    or an edited template in development, renders a new one."""
    env = current_app.jinja_env
    key = (*(getattr(view, name) for name in CATALOG), str(tz))
    key = tuple(repr(part) if isinstance(part, list) else part for part in key)
    found = None if env.auto_reload else _frames.get(key)
    if found is None:
        template = env.get_template("trace/scan.html")
        slotted = dataclasses.replace(view, code=SLOTS["code"], serial=SLOTS["serial"])
        found = SLOT.split(template.render(v=slotted, tz=tz, scans=SLOTS["scans"]))
        if len(_frames) >= FRAMES_KEPT:
            _frames.clear()
        _frames[key] = found
    return found


def _scan_page(view: scans.ScanView) -> Response:
    """The scan page of `view`: its frame with this opening's code, serial and scans."""
    tz = scans.zone()
    filled = {
        "code": str(escape(view.code)),
        "serial": str(escape(view.serial)),
        "scans": current_app.jinja_env.get_template("trace/scans.html").render(v=view, tz=tz),
    }
    parts = _frame(view, tz)
    body = "".join(filled[part] if odd else part for odd, part in _alternating(parts))
    return Response(body.encode(), status=200, headers=HEADERS)


def _alternating(parts: list[str]):
    """(False, text), (True, slot name), (False, text), … of a split frame."""
    return ((index % 2 == 1, part) for index, part in enumerate(parts))


def _client() -> clients.Client:
    address = clients.address(request.remote_addr, request.headers.get("X-Forwarded-For"))
    return clients.describe(address, request.headers.get("User-Agent", ""))


@bp.get("/t/<code>")
def scan_page(code: str):
    args, cookie = request.args, request.cookies.get(oauth.COOKIE)
    try:
        visit = scans.visit(code, _client(), cookie, args.get("code"), args.get("state"))
    except RateLimited:
        return _page("trace/limited.html", 429)
    if visit.redirect:
        return redirect(visit.redirect)
    commit()  # a known customer's timeline event (nothing to commit for most scans)
    if visit.view is None:
        return _page("trace/not_found.html", 404)
    response = _scan_page(visit.view)
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
