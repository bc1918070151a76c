"""Projects: signing creates one (nodes copied from the template), who sees which, budget."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, false, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from app.core.database import load_row
from app.core.errors import Invalid, NotFound
from app.core.extensions import db
from app.models import ChangeOrder, Customer, Invite, Project, ProjectMember, ProjectNode, Staff
from app.models.types import utcnow
from app.services.customers import access, audit, stages
from app.services.customers import timeline as timeline_service
from app.services.projects import node_templates

STAFF_ROLES = {
    "sales_id": "sales",
    "designer_id": "designer",
    "pm_id": "pm",
    "supervisor_id": "supervisor",
}
ON_PROJECT = {
    "pm": "pm_id",
    "supervisor": "supervisor_id",
    "designer": "designer_id",
    "sales": "sales_id",
}


def local_today() -> date:
    """Today where the company is (TIMEZONE), which is what "late" means to people."""
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _check_staff(fields: dict) -> dict[str, str]:
    errors = {}
    for key, role in STAFF_ROLES.items():
        staff_id = fields.get(key)
        if staff_id is None:
            continue
        member = db.session.get(Staff, staff_id)
        if member is None or not member.active or not member.has_role(role, "admin", "manager"):
            errors[key] = "该员工不存在或不是对应岗位"
    return errors


def create(customer: Customer, actor: Staff, fields: dict) -> Project:
    """Sign: a project with the template's nodes, and the customer moves to 签约.

    NotFound when `actor` may not see the customer; Invalid when a team member is not
    active staff of that role, or planned_end is before planned_start."""
    if not access.can_see(actor, customer):
        raise NotFound("客户不存在")
    errors = _check_staff(fields)
    start, end = fields.get("planned_start"), fields.get("planned_end")
    if start and end and end < start:
        errors["planned_end"] = "计划竣工日期不能早于计划开工日期"
    if errors:
        raise Invalid("请求参数有误，请检查后重试", fields=errors)
    project = Project(customer_id=customer.id, **fields)
    project.store_id = project.store_id or customer.store_id or actor.store_id
    project.sales_id = project.sales_id or customer.owner_id or actor.id
    db.session.add(project)
    db.session.flush()
    _copy_template(project)
    payload = {
        "project_id": project.id,
        "package_name": project.package_name,
        "contract_amount_fen": project.contract_amount_fen,
    }
    timeline_service.record(
        customer, "project_signed", channel="api", payload=payload, actor_staff=actor
    )
    audit.record("project.create", "project", project.id, actor=actor, after=payload)
    stages.change_stage(customer, "contract", actor, f"签约项目 #{project.id}")
    return project


def _copy_template(project: Project) -> None:
    start = project.planned_start
    for tpl in node_templates.all_nodes(active_only=True):
        node = ProjectNode(project_id=project.id, name=tpl.name, position=tpl.position)
        if start is not None:
            node.planned_start = start
            node.planned_end = start + timedelta(days=max(tpl.duration_days, 1) - 1)
            start = node.planned_end + timedelta(days=1)
        db.session.add(node)
    db.session.flush()


def scope(staff: Staff) -> ColumnElement[bool]:
    """Projects `staff` may see: admin all, manager their store's, others those they are on."""
    if staff.has_role("admin"):
        return Project.id.is_not(None)
    clauses = [
        getattr(Project, col) == staff.id
        for role, col in ON_PROJECT.items()
        if staff.has_role(role)
    ]
    if staff.has_role("manager") and staff.store_id is not None:
        clauses.append(Project.store_id == staff.store_id)
    if staff.has_role("sales"):
        owned = select(Customer.id).where(Customer.owner_id == staff.id)
        clauses.append(Project.customer_id.in_(owned))
    return or_(*clauses) if clauses else false()


def load_for_staff(staff: Staff, project_id: int) -> Project:
    """The project if `staff` may see it (scope); NotFound otherwise."""
    return load_row(Project, project_id, scope(staff), missing="项目不存在")


def page_for_staff(
    staff: Staff, before: int | None, limit: int
) -> tuple[list[Project], str | None]:
    """Newest projects `staff` may see, keyset-paginated on id (the cursor is the last id)."""
    query = select(Project).where(scope(staff))
    if before is not None:
        query = query.where(Project.id < before)
    rows = list(db.session.scalars(query.order_by(Project.id.desc()).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def team(project: Project) -> dict:
    """{role: {id, name} | None} for sales, designer, pm, supervisor, in one query."""
    ids = {key: getattr(project, f"{key}_id") for key in ("sales", "designer", "pm", "supervisor")}
    wanted = {v for v in ids.values() if v}
    found = (
        db.session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(wanted))).all()
        if wanted
        else []
    )
    names = dict(found)
    return {key: {"id": v, "name": names[v]} if v in names else None for key, v in ids.items()}


def customer_scope(customer_id: int) -> ColumnElement[bool]:
    """Projects a homeowner follows: their own, and those they were invited to as family."""
    member = exists().where(
        ProjectMember.project_id == Project.id, ProjectMember.customer_id == customer_id
    )
    return (Project.customer_id == customer_id) | member


def for_customer(customer_id: int) -> list[Project]:
    query = select(Project).where(customer_scope(customer_id)).order_by(Project.id.desc())
    return list(db.session.scalars(query))


def load_for_customer(customer_id: int, project_id: int) -> Project:
    """The project if this homeowner follows it; NotFound otherwise (existence is not leaked)."""
    return load_row(Project, project_id, customer_scope(customer_id), missing="项目不存在")


def visible_id(customer_id: int, project_id: int) -> int:
    """The project id if this homeowner follows it (one indexed lookup); NotFound otherwise."""
    found = db.session.scalar(
        select(Project.id).where(Project.id == project_id, customer_scope(customer_id))
    )
    if found is None:
        raise NotFound("项目不存在")
    return found


def budget(project: Project, orders: list[ChangeOrder] | None = None) -> dict:
    """Contract amount + approved change orders; nothing else ever changes the total (fen).

    `orders`: the project's change orders when the caller has them already (no query)."""
    if orders is None:
        approved = db.session.scalar(
            select(func.coalesce(func.sum(ChangeOrder.amount_fen), 0)).where(
                ChangeOrder.project_id == project.id, ChangeOrder.status == "approved"
            )
        )
    else:
        approved = sum(o.amount_fen for o in orders if o.status == "approved")
    contract = project.contract_amount_fen
    return {
        "contract_fen": contract,
        "approved_changes_fen": int(approved),
        "total_fen": contract + int(approved),
    }


def move_rows(source_id: int, target_id: int) -> None:
    """Merge hook: projects, invites and memberships follow the surviving customer."""
    dupes = select(ProjectMember.project_id).where(ProjectMember.customer_id == target_id)
    db.session.execute(
        ProjectMember.__table__.delete().where(
            ProjectMember.customer_id == source_id, ProjectMember.project_id.in_(dupes)
        )
    )
    for model in (Project, ProjectMember, Invite):
        db.session.execute(
            update(model).where(model.customer_id == source_id).values(customer_id=target_id)
        )
