"""/forms/lead: the public appointment page (预约量房 / 获取报价) the official account's menu
opens. Server-rendered, Chinese, nothing loaded from elsewhere; no login; a signed form
token and a honeypot instead of a session; rate-limited per client address."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, render_template, request

from app.core import rate_limit
from app.core.errors import Invalid
from app.core.extensions import db
from app.services.sales import capture

bp = Blueprint("lead_form", __name__)
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"


def _page(status: int = 200, **context) -> Response:
    context.setdefault("values", {})
    context.setdefault("errors", {})
    body = render_template("forms/lead.html", token=capture.form_token(), **context)
    response = Response(body, status=status)
    response.headers.update({"Content-Security-Policy": CSP, "Cache-Control": "no-store"})
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/forms/lead")
def lead_page():
    return _page(channel=request.args.get("c", "")[:32], kind=request.args.get("kind", "measure"))


@bp.post("/forms/lead")
def submit_lead():
    fields, channel = request.form.to_dict(), request.args.get("c", "")
    if not rate_limit.allow(
        "lead-form", request.remote_addr or "", current_app.config["LEAD_FORM_LIMIT"]
    ):
        return _page(429, values=fields, message="提交太频繁，请稍后再试", channel=channel)
    try:
        form, channel = capture.read_web_form(fields, channel)
        capture.from_web(form, channel)
    except Invalid as exc:
        db.session.rollback()
        return _page(
            400, values=fields, errors=exc.fields or {}, message=exc.message, channel=channel
        )
    db.session.commit()
    return _page(200, done=True)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
