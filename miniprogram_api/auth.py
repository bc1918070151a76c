"""Login, binding to a customer record, and who am I."""

from __future__ import annotations

from app.core.extensions import db
from app.schemas.validation import Form, json_body
from app.services.customers import mini_auth
from app.services.projects import invites, projects
from miniprogram_api import bp, current_homeowner


def me_json(customer) -> dict:
    owned = projects.for_customer(customer.id)
    return {
        "customer_id": customer.id,
        "name": customer.display_name,
        "stage": customer.stage,
        "stage_label": customer.stage_label,
        "bound": bool(owned),
        "project_ids": [p.id for p in owned],
    }


@bp.post("/login")
def login():
    form = Form(json_body())
    code = form.text("code", "登录凭证 code", max_len=128)
    form.done()
    token, customer, created = mini_auth.login(code)
    db.session.commit()
    return {"token": token, "expires_in": _ttl(), "first_login": created, "me": me_json(customer)}


def _ttl() -> int:
    from flask import current_app

    return current_app.config["MINI_SESSION_TTL"]


@bp.post("/bind")
def bind():
    form = Form(json_body())
    invite_code = form.text("invite_code", "邀请码", required=False, max_len=16)
    phone_code = form.text("phone_code", "手机号授权 code", required=False, max_len=128)
    if not invite_code and not phone_code:
        form.fail("invite_code", "请填写邀请码，或授权手机号")
    form.done()
    homeowner = current_homeowner()
    if invite_code:
        customer = invites.bind_invite(homeowner, invite_code)
    else:
        customer = invites.bind_phone(homeowner, phone_code)
    db.session.commit()
    return me_json(customer)


@bp.get("/me")
def me():
    return me_json(current_homeowner())
