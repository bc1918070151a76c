"""GET /api/v1/me: who the bearer token belongs to."""

from __future__ import annotations

from app.api import bp, current_staff
from app.schemas.spec import API, endpoint
from app.schemas.staff import StaffMe
from app.services.customers import phones


@bp.get("/me")
@endpoint(API, ok=StaffMe, tag="员工")
def me():
    """令牌所属的员工：姓名、角色、门店"""
    member = current_staff()
    return {
        "id": member.id,
        "name": member.name,
        "roles": sorted(member.role_set),
        "store": member.store.name if member.store else None,
        "wecom_userid": member.wecom_userid,
        "phone": phones.masked(member.phone_enc),
    }
