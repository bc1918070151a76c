"""在线调整预算: staff propose an item (+/−), the homeowner approves or rejects it once.

The budget total is the contract amount plus approved changes (projects.budget); a change
order is decided once, by a conditional UPDATE, so it cannot be counted twice.
"""

from __future__ import annotations

from sqlalchemy import select, update

from app.core.database import load_row
from app.core.errors import Conflict, Forbidden, Invalid
from app.core.extensions import db
from app.models import ChangeOrder, Customer, Project, Staff
from app.models.types import utcnow
from app.services.customers import audit
from app.services.customers import timeline as timeline_service
from app.services.projects import project_notices, projects

LABELS = {"proposed": "待确认", "approved": "已同意", "rejected": "已拒绝"}


def propose(project: Project, actor: Staff, item: str, amount_fen: int) -> ChangeOrder:
    if amount_fen == 0:
        raise Invalid("请求参数有误，请检查后重试", fields={"amount_fen": "调整金额不能为 0"})
    order = ChangeOrder(
        project_id=project.id, item=item, amount_fen=amount_fen, proposed_by_staff_id=actor.id
    )
    db.session.add(order)
    db.session.flush()
    payload = {
        "project_id": project.id,
        "change_order_id": order.id,
        "item": item,
        "amount_fen": amount_fen,
    }
    timeline_service.record(
        project.customer, "change_order_proposed", channel="api", payload=payload, actor_staff=actor
    )
    audit.record("change_order.propose", "change_order", order.id, actor=actor, after=payload)
    project_notices.change_order_proposed(order, project)
    return order


def load_for_customer(customer_id: int, order_id: int) -> ChangeOrder:
    """The change order if this homeowner follows its project; NotFound otherwise."""
    followed = select(Project.id).where(projects.customer_scope(customer_id))
    scope = ChangeOrder.project_id.in_(followed)
    return load_row(ChangeOrder, order_id, scope, missing="预算调整单不存在")


OWNER_ONLY = "预算调整涉及费用，只有业主本人可以同意或拒绝"


def decide(order: ChangeOrder, homeowner: Customer, approve: bool, reason: str = ""):
    """The owner approves or rejects a proposed order, once (Conflict the second time).
    Money is the owner's decision: a family member (家属) following the project sees the
    order but gets Forbidden (product.md, "Who uses it")."""
    if order.project.customer_id != homeowner.id:
        raise Forbidden(OWNER_ONLY)
    status = "approved" if approve else "rejected"
    result = db.session.execute(
        update(ChangeOrder)
        .where(ChangeOrder.id == order.id, ChangeOrder.status == "proposed")
        .values(
            status=status, decided_at=utcnow(), decided_by_customer_id=homeowner.id, reason=reason
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(order)
    if result.rowcount != 1:
        raise Conflict(f"该调整单已{LABELS[order.status][1:]}，不能重复操作")
    payload = {
        "project_id": order.project_id,
        "change_order_id": order.id,
        "item": order.item,
        "amount_fen": order.amount_fen,
        "status": status,
        "reason": reason,
        "by_customer_id": homeowner.id,
    }
    timeline_service.record(
        order.project.customer,
        f"change_order_{status}",
        channel="mini",
        direction="inbound",
        actor_type="customer",
        payload=payload,
    )
    audit.record(
        f"change_order.{status}",
        "change_order",
        order.id,
        actor=f"customer:{homeowner.id}",
        after=payload,
    )
    return order


def for_project(project_id: int) -> list[ChangeOrder]:
    query = select(ChangeOrder).where(ChangeOrder.project_id == project_id)
    return list(db.session.scalars(query.order_by(ChangeOrder.id)))
