"""Projects, nodes, feed entries and change orders → JSON (times ISO 8601 UTC, money in fen)."""

from __future__ import annotations

from datetime import date

from app.core.media_tokens import photo_urls, url_context
from app.models import ChangeOrder, NodeRejection, Project, ProjectNode
from app.models.progress import ENTRY_KINDS, HAZARD_LEVELS
from app.models.project import NODE_STATUS_LABELS, PROJECT_STATUS_LABELS
from app.schemas.serializers import iso
from app.schemas.trace import project_material_json
from app.services.projects import change_orders, projects
from app.services.projects import nodes as node_rules
from app.services.projects.project_reads import ProjectPage
from app.services.trace import deliveries

ENTRY_LABELS, HAZARD_LABELS = dict(ENTRY_KINDS), dict(HAZARD_LEVELS)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def node_json(node: ProjectNode, today: date) -> dict:
    return {
        "id": node.id,
        "name": node.name,
        "position": node.position,
        "status": node.status,
        "status_label": NODE_STATUS_LABELS.get(node.status, node.status),
        "planned_start": _day(node.planned_start),
        "planned_end": _day(node.planned_end),
        "actual_start": _day(node.actual_start),
        "actual_end": _day(node.actual_end),
        "accepted_at": iso(node.accepted_at),
        "accepted_by_customer_id": node.accepted_by_customer_id,
        "rejection_count": node.rejection_count,
        "delayed": node_rules.is_delayed(node, today),
    }


def progress_json(nodes) -> dict:
    total = len(nodes)
    accepted = sum(1 for n in nodes if n.status == "accepted")
    current = next((n.name for n in nodes if n.status != "accepted"), None)
    return {
        "accepted": accepted,
        "total": total,
        "text": f"{accepted}/{total}",
        "current_node": current,
    }


def project_json(project: Project, today: date, nodes=None) -> dict:
    """The summary shown in lists. `project` may be a row, with its `nodes` given."""
    nodes = project.nodes if nodes is None else nodes
    return {
        "id": project.id,
        "customer_id": project.customer_id,
        "address": project.address,
        "community": project.community,
        "package_name": project.package_name,
        "status": project.status,
        "status_label": PROJECT_STATUS_LABELS.get(project.status),
        "progress": progress_json(nodes),
        "delayed": any(node_rules.is_delayed(n, today) for n in nodes),
    }


def project_detail_json(
    project: Project, today: date, page: ProjectPage | None = None, materials=None
) -> dict:
    """The project page; from an ORM project, or from rows read by project_reads.
    `materials`: rows of deliveries.MATERIALS when already read (else read here)."""
    nodes = project.nodes if page is None else page.nodes
    orders = change_orders.for_project(project.id) if page is None else page.orders
    if materials is None:
        materials = deliveries.project_materials(project.id)
    data = project_json(project, today, nodes)
    data.update(
        area_m2=str(project.area_m2) if project.area_m2 is not None else None,
        contract_amount_fen=project.contract_amount_fen,
        contract_date=_day(project.contract_date),
        planned_start=_day(project.planned_start),
        planned_end=_day(project.planned_end),
        actual_completion=_day(project.actual_completion),
        team=projects.team(project) if page is None else page.team,
        nodes=[node_json(n, today) for n in nodes],
        budget=projects.budget(project, orders),
        change_orders=[change_order_json(c) for c in orders],
        materials=[project_material_json(r) for r in materials],
    )
    return data


def change_order_json(order: ChangeOrder) -> dict:
    return {
        "id": order.id,
        "project_id": order.project_id,
        "item": order.item,
        "amount_fen": order.amount_fen,
        "status": order.status,
        "status_label": change_orders.LABELS.get(order.status),
        "reason": order.reason,
        "created_at": iso(order.created_at),
        "decided_at": iso(order.decided_at),
    }


def _finding_json(finding: dict, urls: tuple) -> dict:
    hazard = finding.get("hazard")
    return {
        "text": finding.get("text", ""),
        "hazard": hazard,
        "hazard_label": HAZARD_LABELS.get(hazard),
        "photo": photo_urls(finding.get("photo"), urls),
    }


def entry_json(entry, urls: tuple | None = None) -> dict:
    """A feed row (progress.FEED_COLUMNS) or a fresh ProgressEntry with node/author loaded.

    `urls`: media.url_context(), when serializing many entries."""
    urls = urls or url_context()
    node = getattr(entry, "node_name", None) or (
        entry.node.name if getattr(entry, "node", None) else None
    )
    author = getattr(entry, "author_name", None) or (
        entry.author.name if getattr(entry, "author", None) else None
    )
    return {
        "id": entry.id,
        "kind": entry.kind,
        "kind_label": ENTRY_LABELS.get(entry.kind),
        "node_id": entry.node_id,
        "node": node,
        "text": entry.text,
        "photos": [photo_urls(p, urls) for p in entry.photos or []],
        "findings": [_finding_json(f, urls) for f in entry.findings or []],
        "author": {"name": author} if author else None,
        "created_at": iso(entry.created_at),
    }


def feed_json(rows) -> list[dict]:
    urls = url_context()
    return [entry_json(row, urls) for row in rows]


def rejection_json(row: NodeRejection) -> dict:
    return {
        "id": row.id,
        "node_id": row.node_id,
        "customer_id": row.customer_id,
        "reason": row.reason,
        "photos": [photo_urls(p) for p in row.photos or []],
        "created_at": iso(row.created_at),
        "closed_at": iso(row.closed_at),
        "close_note": row.close_note,
    }
