"""The editable 施工节点 template; a new project copies the active nodes in order."""

from __future__ import annotations

from sqlalchemy import func, select

from app.core.database import load_row
from app.core.extensions import db
from app.models import NodeTemplate, Staff
from app.models.project import DEFAULT_NODES
from app.services.customers import audit


def ensure_defaults() -> None:
    """Seed the product's 8 default nodes when the template is empty."""
    if db.session.scalar(select(func.count(NodeTemplate.id))):
        return
    for position, name in enumerate(DEFAULT_NODES, start=1):
        db.session.add(NodeTemplate(name=name, position=position, duration_days=7))
    db.session.flush()


def all_nodes(active_only: bool = False) -> list[NodeTemplate]:
    ensure_defaults()
    query = select(NodeTemplate).order_by(NodeTemplate.position, NodeTemplate.id)
    if active_only:
        query = query.where(NodeTemplate.active.is_(True))
    return list(db.session.scalars(query))


def snapshot(node: NodeTemplate) -> dict:
    return {
        "name": node.name,
        "position": node.position,
        "duration_days": node.duration_days,
        "active": node.active,
    }


def create(actor: Staff, **fields) -> NodeTemplate:
    ensure_defaults()
    node = NodeTemplate(**{k: v for k, v in fields.items() if v is not None})
    if node.position is None:
        last = db.session.scalar(select(func.max(NodeTemplate.position))) or 0
        node.position = last + 1
    db.session.add(node)
    db.session.flush()
    audit.record(
        "node_template.create", "node_template", node.id, actor=actor, after=snapshot(node)
    )
    return node


def update(actor: Staff, node_id: int, **fields) -> NodeTemplate:
    node = load_row(NodeTemplate, node_id, missing="节点模板不存在")
    before = snapshot(node)
    for key, value in fields.items():
        if value is not None:
            setattr(node, key, value)
    db.session.flush()
    audit.record(
        "node_template.update",
        "node_template",
        node.id,
        actor=actor,
        before=before,
        after=snapshot(node),
    )
    return node


def get(node_id: int) -> NodeTemplate:
    """A node of the template; NotFound for any other id."""
    return load_row(NodeTemplate, node_id, missing="节点模板不存在")
