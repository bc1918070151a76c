"""GET /api/v1/me: who the bearer token belongs to."""

from __future__ import annotations

from app.api import bp, current_staff
from app.services.customers import phones


@bp.get("/me")
def me():
    member = current_staff()
    return {
        "id": member.id,
        "name": member.name,
        "roles": sorted(member.role_set),
        "store": member.store.name if member.store else None,
        "wecom_userid": member.wecom_userid,
        "phone": phones.masked(member.phone_enc),
    }
