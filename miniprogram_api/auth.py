"""Login and logout, binding to a customer record and unbinding, and who am I."""

from __future__ import annotations

from flask import current_app, request

from app.core.errors import Invalid
from app.core.extensions import db
from app.schemas.mini import BindIn, Login, LoginIn, Me
from app.schemas.spec import MINI, endpoint
from app.services.customers import mini_auth
from app.services.projects import invites, projects
from miniprogram_api import bp, current_homeowner, current_session


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
@endpoint(MINI, json=LoginIn, ok=Login, errors=(429, 502), tag="登录", public=True)
def login(json: LoginIn):
    """wx.login 的 code 换取会话令牌"""
    token, customer, created = mini_auth.login(json.code)
    db.session.commit()
    ttl = current_app.config["MINI_SESSION_TTL"]
    return {"token": token, "expires_in": ttl, "first_login": created, "me": me_json(customer)}


@bp.post("/logout")
@endpoint(MINI, status=204, tag="登录")
def logout():
    """退出登录：本会话令牌立即失效"""
    mini_auth.logout(current_session())
    db.session.commit()
    return "", 204


@bp.post("/unbind")
@endpoint(MINI, status=204, tag="登录")
def unbind():
    """解除本微信与业主档案（或家属身份）的绑定；本微信的所有会话令牌立即失效，需重新登录"""
    invites.unbind(current_session())
    db.session.commit()
    return "", 204


@bp.post("/bind")
@endpoint(MINI, json=BindIn, ok=Me, errors=(404, 409, 429, 502), tag="登录")
def bind(json: BindIn):
    """用邀请码或手机号绑定业主档案"""
    if not json.invite_code and not json.phone_code:
        message = "请填写邀请码，或授权手机号"
        raise Invalid(message, fields={"invite_code": message})
    homeowner = current_homeowner()
    if json.invite_code:
        customer = invites.bind_invite(homeowner, json.invite_code, request.remote_addr or "")
    else:
        customer = invites.bind_phone(homeowner, json.phone_code)
    db.session.commit()
    return me_json(customer)


@bp.get("/me")
@endpoint(MINI, ok=Me, tag="登录")
def me():
    """当前用户"""
    return me_json(current_homeowner())
