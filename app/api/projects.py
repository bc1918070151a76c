"""Projects (staff API): sign a contract, list and read projects, the progress feed."""

from __future__ import annotations

from flask import request
from sqlalchemy import select

from app.api import bp, current_staff, require_role
from app.core.errors import ApiError
from app.core.extensions import db
from app.models import Customer, Project
from app.schemas.pagination import limit_arg, page_body
from app.schemas.project_serializers import feed_json, project_detail_json, project_json
from app.schemas.validation import Form, json_body
from app.services.projects import progress, projects

CREATE_ROLES = ("admin", "manager", "sales")


def project_fields(form: Form) -> dict:
    fields = {
        "address": form.text("address", "地址", max_len=255),
        "community": form.text("community", "小区", required=False, max_len=100),
        "area_m2": form.decimal("area_m2", "面积(㎡)"),
        "package_name": form.text("package_name", "套餐", required=False, max_len=100),
        "contract_amount_fen": form.integer(
            "contract_amount_fen", "合同金额(分)", minimum=0, maximum=10**12
        ),
        "contract_date": form.day("contract_date", "签约日期"),
        "planned_start": form.day("planned_start", "计划开工日期"),
        "planned_end": form.day("planned_end", "计划竣工日期"),
    }
    for key in ("sales_id", "designer_id", "pm_id", "supervisor_id"):
        fields[key] = form.integer(key, "员工", required=False, minimum=1, maximum=2**31 - 1)
    return fields


@bp.post("/projects")
def create_project():
    require_role(*CREATE_ROLES)
    form = Form(json_body())
    customer_id = form.integer("customer_id", "客户", minimum=1, maximum=2**31 - 1)
    fields = project_fields(form)
    form.done()
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise ApiError(404, "not_found", "客户不存在")
    project = projects.create(customer, current_staff(), fields)
    db.session.commit()
    return project_detail_json(project, projects.local_today()), 201


@bp.get("/projects")
def list_projects():
    query = select(Project).where(projects.scope(current_staff()))
    before = request.args.get("before", "")
    if before:
        if not before.isdigit():
            raise ApiError(400, "bad_cursor", "无效的分页游标")
        query = query.where(Project.id < int(before))
    limit = limit_arg()
    rows = list(db.session.scalars(query.order_by(Project.id.desc()).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    today = projects.local_today()
    return page_body([project_json(p, today) for p in rows[:limit]], next_cursor)


@bp.get("/projects/<int:project_id>")
def get_project(project_id: int):
    project = projects.load_for_staff(current_staff(), project_id)
    return project_detail_json(project, projects.local_today())


@bp.get("/projects/<int:project_id>/feed")
def project_feed(project_id: int):
    project = projects.load_for_staff(current_staff(), project_id)
    rows, next_cursor = progress.feed(project.id, request.args.get("before"), limit_arg(20, 50))
    return page_body(feed_json(rows), next_cursor)
