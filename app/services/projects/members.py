"""家属: the family members of a project and what the owner lets them do.

A family member joins by the owner's family invite (invites.bind_invite) and sees the
project. Change orders (money) are the owner's alone; accepting or refusing nodes (验收) is
the owner's, and a family member's once the owner allowed it (`can_accept`, off at first).
Only the owner lists the members and changes that (product.md, "Who uses it").
"""

from __future__ import annotations

from sqlalchemy import select

from app.core.errors import Forbidden, NotFound
from app.core.extensions import db
from app.models import Customer, Project, ProjectMember
from app.services.customers import audit
from app.services.customers import timeline as timeline_service
from app.services.projects import projects

OWNER_ONLY = "只有业主本人可以管理家属"


def may_accept(project: Project, customer_id: int) -> bool:
    """May this homeowner accept or refuse the project's nodes?"""
    if project.customer_id == customer_id:
        return True
    return bool(
        db.session.scalar(
            select(ProjectMember.can_accept).filter_by(
                project_id=project.id, customer_id=customer_id
            )
        )
    )


def _owned(owner: Customer, project_id: int) -> Project:
    """The project if `owner` is its owner; NotFound if they do not follow it, Forbidden if
    they follow it as family."""
    project = projects.load_for_customer(owner.id, project_id)
    if project.customer_id != owner.id:
        raise Forbidden(OWNER_ONLY)
    return project


def for_owner(owner: Customer, project_id: int) -> list[ProjectMember]:
    """The family members of the owner's project, in the order they joined."""
    project = _owned(owner, project_id)
    return list(
        db.session.scalars(
            select(ProjectMember).filter_by(project_id=project.id).order_by(ProjectMember.id)
        )
    )


def set_can_accept(owner: Customer, project_id: int, member_id: int, allowed: bool):
    """The owner lets a family member accept nodes, or stops them; on the timeline, audited."""
    project = _owned(owner, project_id)
    member = db.session.get(ProjectMember, member_id)
    if member is None or member.project_id != project.id:
        raise NotFound("家属不存在")
    before = member.can_accept
    member.can_accept = allowed
    db.session.flush()
    payload = {"project_id": project.id, "member_id": member.customer_id, "can_accept": allowed}
    if before != allowed:
        timeline_service.record(
            owner,
            "family_permission_changed",
            channel="mini",
            direction="inbound",
            actor_type="customer",
            payload=payload,
        )
        audit.record(
            "project_member.can_accept",
            "project_member",
            member.id,
            actor=f"customer:{owner.id}",
            before={"can_accept": before},
            after=payload,
        )
    return member


def member_name(member: ProjectMember) -> str:
    return db.session.get(Customer, member.customer_id).display_name
