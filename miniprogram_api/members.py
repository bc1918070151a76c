"""家属: the owner sees who follows their project and lets them accept nodes, or not."""

from __future__ import annotations

from app.core.extensions import db
from app.schemas.members import Member, MemberIn, MemberList
from app.schemas.serializers import iso
from app.schemas.spec import MINI, endpoint
from app.services.projects import members
from miniprogram_api import bp, current_homeowner


def member_json(member) -> dict:
    return {
        "id": member.id,
        "customer_id": member.customer_id,
        "name": members.member_name(member),
        "role": member.role,
        "can_accept": member.can_accept,
        "joined_at": iso(member.created_at),
    }


@bp.get("/projects/<int:project_id>/members")
@endpoint(MINI, ok=MemberList, errors=(403, 404), tag="家属")
def list_members(project_id: int):
    """我的项目的家属（仅业主本人）"""
    rows = members.for_owner(current_homeowner(), project_id)
    return {"items": [member_json(m) for m in rows]}


@bp.patch("/projects/<int:project_id>/members/<int:member_id>")
@endpoint(MINI, json=MemberIn, ok=Member, errors=(403, 404), tag="家属")
def update_member(project_id: int, member_id: int, json: MemberIn):
    """允许或禁止家属验收节点（仅业主本人；预算调整始终只能由业主确认）"""
    member = members.set_can_accept(current_homeowner(), project_id, member_id, json.can_accept)
    db.session.commit()
    return member_json(member)
