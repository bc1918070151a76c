"""The homeowner's projects: list, detail (nodes, progress, budget), and the progress feed."""

from __future__ import annotations

from app.schemas.pagination import page_body
from app.schemas.project_serializers import feed_json, project_detail_json, project_json
from app.schemas.projects import FeedPage, FeedQuery, ProjectDetail, ProjectList
from app.schemas.spec import MINI, endpoint
from app.services.projects import progress, project_reads, projects
from app.services.trace import deliveries
from miniprogram_api import bp, current_homeowner_id, current_session


@bp.get("/projects")
@endpoint(MINI, ok=ProjectList, tag="项目")
def list_projects():
    """我的项目"""
    today = projects.local_today()
    rows = projects.for_customer(current_homeowner_id())
    return {"items": [project_json(p, today) for p in rows]}


@bp.get("/projects/<int:project_id>")
@endpoint(MINI, ok=ProjectDetail, errors=(404,), tag="项目")
def get_project(project_id: int):
    """项目详情：节点、进度、预算"""
    # The materials are read in the page's one round trip.
    materials = deliveries.materials_read(project_id)
    page = project_reads.homeowner_page(current_session(), project_id, (materials,))
    if page is None:
        projects.visible_id(current_homeowner_id(), project_id)  # 401 or 404
    return project_detail_json(page.project, projects.local_today(), page, page.extra[0])


@bp.get("/projects/<int:project_id>/feed")
@endpoint(MINI, query=FeedQuery, ok=FeedPage, errors=(404,), tag="项目")
def project_feed(project_id: int, query: FeedQuery):
    """项目动态（日志与巡检，新的在前）"""
    rows, next_cursor = progress.feed(project_id, query.before, query.limit, current_session())
    if not rows:  # 401, 404, or a project with no entries yet
        projects.visible_id(current_homeowner_id(), project_id)
    return page_body(feed_json(rows), next_cursor)
