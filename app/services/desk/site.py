"""Site work as the console shows it: my projects, and one project's nodes, feed,
rectifications (the homeowner's rejections with their photos) and change orders.

Reads only; what PMs, supervisors and designers do goes through the projects services the
staff API uses (nodes, progress, change_orders), with the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.core.extensions import db
from app.core.media_tokens import photo_urls, url_context
from app.models import ChangeOrder, NodeRejection, Project, ProjectNode, Staff
from app.services.customers import access
from app.services.projects import change_orders, progress, projects

MY_PROJECTS = 100


@dataclass
class ProjectRow:
    project: Project
    accepted: int
    total: int
    current: str | None


@dataclass
class SitePage:
    project: Project
    nodes: list[ProjectNode]
    feed: list  # progress.FEED_COLUMNS rows
    feed_cursor: str | None
    photos: dict[int, list[dict]]  # entry id → photo URLs
    rejections: list[tuple[NodeRejection, list[dict]]]  # with the homeowner's photo URLs
    orders: list[ChangeOrder]
    budget: dict | None
    team: dict
    today: object


def my_projects(staff: Staff) -> list[ProjectRow]:
    """The projects `staff` may see (projects.scope), newest first, with their progress."""
    query = (
        select(Project)
        .options(selectinload(Project.nodes), joinedload(Project.customer))
        .where(projects.scope(staff))
        .order_by(Project.status, Project.id.desc())
        .limit(MY_PROJECTS)
    )
    rows = []
    for project in db.session.scalars(query).unique():
        nodes = project.nodes
        current = next((n.name for n in nodes if n.status != "accepted"), None)
        rows.append(
            ProjectRow(project, sum(n.status == "accepted" for n in nodes), len(nodes), current)
        )
    return rows


def page(staff: Staff, project: Project, before: str | None = None) -> SitePage:
    feed, cursor = progress.feed(project.id, before, 20)
    urls = url_context()
    photos = {row.id: [photo_urls(p, urls) for p in row.photos or []] for row in feed}
    node_ids = [n.id for n in project.nodes]
    rejections = db.session.scalars(
        select(NodeRejection)
        .where(NodeRejection.node_id.in_(node_ids))
        .order_by(NodeRejection.id.desc())
    ).all()
    orders = change_orders.for_project(project.id)
    return SitePage(
        project=project,
        nodes=list(project.nodes),
        feed=list(feed),
        feed_cursor=cursor,
        photos=photos,
        rejections=[(r, [photo_urls(p, urls) for p in r.photos or []]) for r in rejections],
        orders=orders,
        budget=projects.budget(project, orders) if access.can_see_money(staff) else None,
        team=projects.team(project),
        today=projects.local_today(),
    )


# Who may do what on a project: the staff API's rules (app/api/project_work.py).
SITE_ROLES = ("admin", "manager", "pm")
REPORT_ROLES = ("admin", "manager", "supervisor")
CHANGE_ROLES = ("admin", "manager", "sales", "designer", "pm")
