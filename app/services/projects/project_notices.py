"""What the homeowner and the staff hear about a project: notices through the outbox.

Called by the project services inside their transaction, so a notice row exists exactly
when the change it reports was committed. Subjects make each notice unique: a node goes to
待验收 again after each rectification, so that subject carries the rejection count.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.core.extensions import db
from app.models import ChangeOrder, ProgressEntry, Project, ProjectNode, Staff
from app.models.types import utcnow
from app.services.notices import maintenance, outbox


def project_name(project: Project) -> str:
    return project.community or project.address or f"项目{project.id}"


def _context(node: ProjectNode) -> dict:
    project = node.project
    return {
        "project_id": project.id,
        "project_name": project_name(project),
        "node": node.name,
        "at": utcnow().isoformat(),
    }


def node_started(node: ProjectNode) -> None:
    outbox.notify_customer(
        "progress-update",
        node.project.customer,
        f"node-start:{node.id}",
        started=True,
        summary=f"{node.name}已开工",
        **_context(node),
    )


def node_awaiting_acceptance(node: ProjectNode) -> None:
    subject = f"node:{node.id}:round:{node.rejection_count}"
    outbox.notify_customer("node-acceptance", node.project.customer, subject, **_context(node))


def node_accepted(node: ProjectNode) -> None:
    outbox.notify_customer(
        "node-accepted", node.project.customer, f"node:{node.id}", **_context(node)
    )


def node_rejected(node: ProjectNode, reason: str, due_on: date) -> None:
    """The homeowner sees that the rectification is on its way, with the date promised."""
    subject = f"node:{node.id}:rectify:{node.rejection_count}"
    outbox.notify_customer(
        "rectification",
        node.project.customer,
        subject,
        issue=reason,
        due_on=due_on.isoformat(),
        **_context(node),
    )


def log_posted(entry: ProgressEntry, node: ProjectNode | None) -> None:
    project = db.session.get(Project, entry.project_id)
    summary = (entry.text or "").strip() or "项目经理更新了施工日志"
    outbox.notify_customer(
        "progress-update",
        project.customer,
        f"log:{entry.id}",
        summary=summary,
        project_id=project.id,
        project_name=project_name(project),
        node=node.name if node else "施工日志",
        at=entry.created_at.isoformat(),
    )


def change_order_proposed(order: ChangeOrder, project: Project) -> None:
    outbox.notify_customer(
        "change-order",
        project.customer,
        f"change-order:{order.id}",
        project_id=project.id,
        project_name=project_name(project),
        order_no=f"BG{order.id:06d}",
        title=order.item,
        amount=f"{order.amount_fen / 100:.2f}",
    )


def project_completed(project: Project) -> None:
    """竣工: the 1/3/5-year maintenance notices count from today."""
    maintenance.plan_for_completion(project.customer_id, project.id, project.actual_completion)


def delay_recipients(project: Project) -> list[Staff]:
    """The PM, and the managers of the project's store."""
    people = [db.session.get(Staff, project.pm_id)] if project.pm_id else []
    if project.store_id is not None:
        managers = db.session.scalars(
            select(Staff).where(Staff.store_id == project.store_id, Staff.active.is_(True))
        )
        people += [m for m in managers if m.has_role("manager")]
    return [p for p in people if p is not None and p.active]


def node_delayed(node: ProjectNode, today: date) -> None:
    project = node.project
    for person in delay_recipients(project):
        outbox.notify_staff(
            "node-delayed",
            person,
            f"node:{node.id}:{today.isoformat()}",
            project_id=project.id,
            project_name=project_name(project),
            node=node.name,
            planned_on=node.planned_end.isoformat(),
            days_late=(today - node.planned_end).days,
        )
