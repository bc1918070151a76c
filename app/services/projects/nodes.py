"""施工节点: staff move them along, the homeowner accepts or rejects, the PM rectifies.

未开始 → 进行中 → 待验收 → 已验收, or 待验收 → 整改中 (rejected) → 待验收 (PM closed it).
Acceptance belongs to the homeowner: the owner, and a family member (家属) only when the
owner allowed it (members.set_can_accept; product.md); a status change that skips the
rules is a 409.
Status changes are conditional UPDATEs, so two taps on 「确认验收」 accept once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.core.database import load_row
from app.core.errors import Conflict, Forbidden, Invalid
from app.core.extensions import db
from app.models import NODE_STATUS_LABELS, Customer, NodeRejection, Project, ProjectNode, Staff
from app.models.types import utcnow
from app.services.customers import audit, stages
from app.services.customers import timeline as timeline_service
from app.services.projects import members, project_notices, projects

RECTIFY_WITHIN = timedelta(days=3)  # the date promised to the homeowner in the notice
STAFF_MOVES = {
    "not_started": {"in_progress"},
    "in_progress": {"not_started", "pending_acceptance"},
    "pending_acceptance": {"in_progress"},
    "rectifying": {"pending_acceptance"},
    "accepted": set(),
}


def is_delayed(node: ProjectNode, today) -> bool:
    """Past its planned end and not accepted."""
    return bool(node.planned_end and node.planned_end < today and node.status != "accepted")


def _record(node: ProjectNode, kind: str, payload: dict, *, staff=None, homeowner=None):
    project = node.project
    payload = {"project_id": project.id, "node_id": node.id, "node": node.name, **payload}
    if homeowner is not None:
        payload["by_customer_id"] = homeowner.id
        payload["by_name"] = homeowner.display_name
    timeline_service.record(
        project.customer,
        kind,
        payload=payload,
        actor_staff=staff,
        channel="mini" if homeowner is not None else "api",
        direction="inbound" if homeowner is not None else "internal",
        actor_type="customer" if homeowner is not None else None,
    )


def _transition(node: ProjectNode, allowed: set[str], target: str, **values) -> None:
    """Move node to target only if it is still in an allowed status (Conflict otherwise)."""
    result = db.session.execute(
        update(ProjectNode)
        .where(ProjectNode.id == node.id, ProjectNode.status.in_(allowed))
        .values(status=target, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(node)
        label = NODE_STATUS_LABELS.get(node.status, node.status)
        raise Conflict(f"节点「{node.name}」当前为「{label}」，不能进行此操作")
    db.session.refresh(node)


def update_node(node: ProjectNode, actor: Staff, fields: dict) -> ProjectNode:
    """Staff edit dates and move the status along the allowed paths."""
    before = {
        "status": node.status,
        "planned_start": str(node.planned_start),
        "planned_end": str(node.planned_end),
    }
    start = fields.get("planned_start", node.planned_start)
    end = fields.get("planned_end", node.planned_end)
    if start and end and start > end:
        message = "计划完成日期不能早于计划开始日期"
        raise Invalid("请求参数有误，请检查后重试", fields={"planned_end": message})
    node.planned_start, node.planned_end = start, end
    status = fields.get("status")
    if status and status != node.status:
        _staff_move(node, actor, status)
    db.session.flush()
    audit.record(
        "project_node.update",
        "project_node",
        node.id,
        actor=actor,
        before=before,
        after={**fields, "status": node.status} | _dates(fields),
    )
    return node


def _dates(fields: dict) -> dict:
    return {k: str(v) for k, v in fields.items() if k.startswith("planned_")}


def _staff_move(node: ProjectNode, actor: Staff, status: str) -> None:
    previous = node.status
    if status not in STAFF_MOVES.get(previous, set()):
        label = NODE_STATUS_LABELS.get(previous, previous)
        target = NODE_STATUS_LABELS.get(status, status)
        raise Conflict(f"节点当前为「{label}」，不能改为「{target}」")
    values = {}
    if status == "in_progress" and node.actual_start is None:
        values["actual_start"] = projects.local_today()
    if status == "pending_acceptance" and previous == "rectifying":
        _close_rejections(node, actor, "")
    _transition(node, {previous}, status, **values)
    _record(
        node,
        "node_status_changed",
        {"from": previous, "to": status, "to_label": NODE_STATUS_LABELS[status]},
        staff=actor,
    )
    if status == "in_progress" and previous == "not_started":
        project_notices.node_started(node)
    elif status == "pending_acceptance":
        project_notices.node_awaiting_acceptance(node)
    if status == "in_progress":
        stages.change_stage(
            node.project.customer, "construction", actor, f"节点「{node.name}」开工"
        )


def _check_may_decide(node: ProjectNode, homeowner: Customer) -> None:
    if not members.may_accept(node.project, homeowner.id):
        raise Forbidden("业主尚未允许您验收节点，请联系业主在小程序中开启")


def accept(node: ProjectNode, homeowner: Customer) -> ProjectNode:
    """The homeowner confirms 验收 (already-accepted or not-ready nodes are a 409; a family
    member the owner did not allow is Forbidden)."""
    _check_may_decide(node, homeowner)
    today = projects.local_today()
    _transition(
        node,
        {"pending_acceptance"},
        "accepted",
        accepted_at=utcnow(),
        accepted_by_customer_id=homeowner.id,
        actual_end=node.actual_end or today,
    )
    _record(
        node, "node_accepted", {"accepted_at": node.accepted_at.isoformat()}, homeowner=homeowner
    )
    project_notices.node_accepted(node)
    project = node.project
    if node.position == max(n.position for n in project.nodes):
        _complete(project, today)
    return node


def _complete(project: Project, today) -> None:
    """The last node (竣工验收) accepted: the project and the customer are 竣工."""
    project.actual_completion = today
    project.status = "completed"
    db.session.flush()
    stages.change_stage(project.customer, "completed", "mini", f"项目 #{project.id} 竣工验收通过")
    project_notices.project_completed(project)


def reject(node: ProjectNode, homeowner: Customer, reason: str, photos: list[dict]):
    """The homeowner refuses: a rectification (整改中) opens; the node's count goes up.
    Refusing is part of 验收: the same people as `accept` may do it."""
    _check_may_decide(node, homeowner)
    _transition(
        node, {"pending_acceptance"}, "rectifying", rejection_count=ProjectNode.rejection_count + 1
    )
    rejection = NodeRejection(
        node_id=node.id, customer_id=homeowner.id, reason=reason, photos=photos
    )
    db.session.add(rejection)
    db.session.flush()
    _record(
        node,
        "node_rejected",
        {"reason": reason, "photos": photos, "rejection_id": rejection.id},
        homeowner=homeowner,
    )
    project_notices.node_rejected(node, reason, projects.local_today() + RECTIFY_WITHIN)
    return rejection


def close_rectification(node: ProjectNode, actor: Staff, note: str) -> ProjectNode:
    """The PM says the rectification is done: back to 待验收 for the homeowner."""
    _close_rejections(node, actor, note)
    _transition(node, {"rectifying"}, "pending_acceptance")
    _record(node, "rectification_closed", {"note": note}, staff=actor)
    project_notices.node_awaiting_acceptance(node)
    audit.record(
        "project_node.rectified", "project_node", node.id, actor=actor, after={"note": note}
    )
    return node


def _close_rejections(node: ProjectNode, actor: Staff, note: str) -> None:
    open_rows = select(NodeRejection).where(
        NodeRejection.node_id == node.id, NodeRejection.closed_at.is_(None)
    )
    for row in db.session.scalars(open_rows):
        row.closed_at, row.closed_by_staff_id, row.close_note = utcnow(), actor.id, note


def load(project: Project, node_id: int) -> ProjectNode:
    """A node of this project; NotFound for any other id."""
    return load_row(
        ProjectNode, node_id, ProjectNode.project_id == project.id, missing="节点不存在"
    )


def rejections(project: Project) -> list[NodeRejection]:
    """Every rejection of the project's nodes, oldest first (open and closed)."""
    ids = [n.id for n in project.nodes]
    query = select(NodeRejection).where(NodeRejection.node_id.in_(ids)).order_by(NodeRejection.id)
    return list(db.session.scalars(query))
