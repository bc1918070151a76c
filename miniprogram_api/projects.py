"""The homeowner's projects: list, detail (nodes, progress, budget), and the progress feed."""

from __future__ import annotations

from flask import request

from app.schemas.pagination import limit_arg, page_body
from app.schemas.project_serializers import feed_json, project_detail_json, project_json
from app.services.projects import progress, project_reads, projects
from miniprogram_api import bp, current_homeowner_id, current_openid


@bp.get("/projects")
def list_projects():
    today = projects.local_today()
    rows = projects.for_customer(current_homeowner_id())
    return {"items": [project_json(p, today) for p in rows]}


@bp.get("/projects/<int:project_id>")
def get_project(project_id: int):
    page = project_reads.homeowner_page(current_openid(), project_id)
    if page is None:
        projects.visible_id(current_homeowner_id(), project_id)  # 401 or 404
    return project_detail_json(page.project, projects.local_today(), page)


@bp.get("/projects/<int:project_id>/feed")
def project_feed(project_id: int):
    before, limit = request.args.get("before"), limit_arg(20, 50)
    rows, next_cursor = progress.feed(project_id, before, limit, current_openid())
    if not rows:  # 401, 404, or a project with no entries yet
        projects.visible_id(current_homeowner_id(), project_id)
    return page_body(feed_json(rows), next_cursor)
