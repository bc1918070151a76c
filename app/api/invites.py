"""Invite codes (staff API): a rep gives a homeowner or a family member a short code."""

from __future__ import annotations

from app.api import bp, current_staff
from app.core.extensions import db
from app.schemas.invites import Invite, InviteIn
from app.schemas.serializers import iso
from app.schemas.spec import API, endpoint
from app.services.customers import customers
from app.services.projects import invites


@bp.post("/customers/<int:customer_id>/invites")
@endpoint(API, json=InviteIn, ok=Invite, status=201, errors=(404,), tag="客户")
def create_invite(customer_id: int, json: InviteIn):
    """生成邀请码：业主 owner 用它在小程序绑定档案，家属 family 用它关注一个项目"""
    staff = current_staff()
    customer = customers.load_for_staff(staff, customer_id)
    invite = invites.create(customer, staff, json.kind, json.project_id)
    db.session.commit()
    return {
        "code": invite.code,
        "kind": invite.kind,
        "customer_id": invite.customer_id,
        "project_id": invite.project_id,
        "expires_at": iso(invite.expires_at),
    }, 201
