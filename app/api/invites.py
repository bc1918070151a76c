"""Invite codes (staff API): a rep gives a homeowner or a family member a short code."""

from __future__ import annotations

from app.api import bp, current_staff
from app.api.customers import load_customer
from app.core.extensions import db
from app.schemas.serializers import iso
from app.schemas.validation import Form, json_body
from app.services.projects import invites


@bp.post("/customers/<int:customer_id>/invites")
def create_invite(customer_id: int):
    customer = load_customer(customer_id)
    form = Form(json_body())
    kind = form.choice("kind", "邀请类型", ("owner", "family"), required=False) or "owner"
    project_id = form.integer("project_id", "项目", required=False, minimum=1, maximum=2**31 - 1)
    form.done()
    invite = invites.create(customer, current_staff(), kind, project_id)
    db.session.commit()
    return {
        "code": invite.code,
        "kind": invite.kind,
        "customer_id": invite.customer_id,
        "project_id": invite.project_id,
        "expires_at": iso(invite.expires_at),
    }, 201
