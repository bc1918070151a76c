"""Projects (staff API): sign a contract, list and read projects, the progress feed."""

from __future__ import annotations

from app.api import bp, current_staff, roles
from app.core.extensions import db
from app.schemas.pagination import page_body
from app.schemas.project_serializers import feed_json, project_detail_json, project_json
from app.schemas.projects import (
    FeedPage,
    FeedQuery,
    ProjectDetail,
    ProjectIn,
    ProjectPage,
    ProjectQuery,
)
from app.schemas.spec import API, endpoint
from app.services.customers import customers
from app.services.projects import progress, projects

TAG = "项目"
CREATE_ROLES = ("admin", "manager", "sales")


@bp.post("/projects")
@endpoint(
    API,
    json=ProjectIn,
    ok=ProjectDetail,
    status=201,
    errors=(404,),
    allow=roles(*CREATE_ROLES),
    tag=TAG,
)
def create_project(json: ProjectIn):
    """签约：为客户建项目（复制施工节点模板），客户进入「签约」阶段"""
    staff = current_staff()
    customer = customers.load_for_staff(staff, json.customer_id)
    project = projects.create(customer, staff, json.model_dump(exclude={"customer_id"}))
    db.session.commit()
    return project_detail_json(project, projects.local_today()), 201


@bp.get("/projects")
@endpoint(API, query=ProjectQuery, ok=ProjectPage, tag=TAG)
def list_projects(query: ProjectQuery):
    """我能看到的项目（新的在前）：管理员全部，店长本店，其他人参与的"""
    rows, next_cursor = projects.page_for_staff(current_staff(), query.before, query.limit)
    today = projects.local_today()
    return page_body([project_json(p, today) for p in rows], next_cursor)


@bp.get("/projects/<int:project_id>")
@endpoint(API, ok=ProjectDetail, errors=(404,), tag=TAG)
def get_project(project_id: int):
    """项目详情：节点、团队、预算、预算调整"""
    project = projects.load_for_staff(current_staff(), project_id)
    return project_detail_json(project, projects.local_today())


@bp.get("/projects/<int:project_id>/feed")
@endpoint(API, query=FeedQuery, ok=FeedPage, errors=(404,), tag=TAG)
def project_feed(project_id: int, query: FeedQuery):
    """项目动态（日志与巡检，新的在前），与业主在小程序看到的相同"""
    project = projects.load_for_staff(current_staff(), project_id)
    rows, next_cursor = progress.feed(project.id, query.before, query.limit)
    return page_body(feed_json(rows), next_cursor)
