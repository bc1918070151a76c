"""Delayed nodes: past their planned end and not accepted. One alert row per node per day.

The alert is a timeline event (kind "node_delayed") of the project's customer, recorded
with a dedupe key carrying the local date, so an hourly job records it once a day. The
outbox sends it to the PM and the manager through WeCom; this module only records it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.extensions import db
from app.models import Project, ProjectNode
from app.services.customers import timeline as timeline_service
from app.services.projects import project_notices


def delayed_nodes(today: date) -> list[ProjectNode]:
    query = (
        select(ProjectNode)
        .options(joinedload(ProjectNode.project).joinedload(Project.customer))
        .join(Project, Project.id == ProjectNode.project_id)
        .where(
            ProjectNode.planned_end < today,
            ProjectNode.status != "accepted",
            Project.status == "active",
        )
        .order_by(ProjectNode.id)
    )
    return list(db.session.scalars(query))


def flag(today: date) -> int:
    """Record today's alert for every delayed node; returns how many were new."""
    created = 0
    for node in delayed_nodes(today):
        project = node.project
        payload = {
            "project_id": project.id,
            "node_id": node.id,
            "node": node.name,
            "planned_end": node.planned_end.isoformat(),
            "days_late": (today - node.planned_end).days,
            "status": node.status,
            "pm_id": project.pm_id,
            "store_id": project.store_id,
            "notify": ["pm", "manager"],
        }
        _, new = timeline_service.record_once(
            project.customer,
            "node_delayed",
            payload=payload,
            dedupe_key=f"node-delayed:{node.id}:{today.isoformat()}",
        )
        if new:
            project_notices.node_delayed(node, today)
        created += int(new)
    return created
