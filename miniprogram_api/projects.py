"""The homeowner's projects: list, detail (nodes, progress, budget), and the progress feed."""

from __future__ import annotations

from flask import request

from app.pagination import limit_arg, page_body
from app.project_serializers import feed_json, project_detail_json, project_json
from app.services import progress, projects
from miniprogram_api import bp, current_homeowner_id


@bp.get("/projects")
def list_projects():
    today = projects.local_today()
    rows = projects.for_customer(current_homeowner_id())
    return {"items": [project_json(p, today) for p in rows]}


@bp.get("/projects/<int:project_id>")
def get_project(project_id: int):
    project = projects.load_for_customer(current_homeowner_id(), project_id)
    return project_detail_json(project, projects.local_today())


@bp.get("/projects/<int:project_id>/feed")
def project_feed(project_id: int):
    homeowner_id = current_homeowner_id()
    visible = projects.visible_clause(homeowner_id, project_id)
    before, limit = request.args.get("before"), limit_arg(20, 50)
    rows, next_cursor = progress.feed(project_id, before, limit, visible)
    if not rows:
        projects.visible_id(homeowner_id, project_id)  # 404, or a project with no entries yet
    return page_body(feed_json(rows), next_cursor)
