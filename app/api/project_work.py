"""Work on a project (staff API): nodes, rectifications, logs, QC reports, change orders."""

from __future__ import annotations

import json

from flask import request
from sqlalchemy import select

from app.api import bp, current_staff, require_role
from app.core.database import MAX_ID
from app.core.extensions import db
from app.models import NODE_STATUS_LABELS, NodeRejection
from app.models.progress import HAZARD_LEVELS
from app.schemas.project_serializers import change_order_json, entry_json, node_json, rejection_json
from app.schemas.uploads import allow_large_body, finding_photos, stored_photos
from app.schemas.validation import Form, json_body
from app.services.projects import change_orders, nodes, progress, projects

SITE_ROLES = ("admin", "manager", "pm")


def _project(project_id: int, *roles: str):
    require_role(*roles)
    return projects.load_for_staff(current_staff(), project_id)


@bp.patch("/projects/<int:project_id>/nodes/<int:node_id>")
def update_node(project_id: int, node_id: int):
    node = nodes.load(_project(project_id, *SITE_ROLES), node_id)
    form = Form(json_body())
    fields = {"status": form.choice("status", "状态", NODE_STATUS_LABELS, required=False)}
    for key, label in (("planned_start", "计划开始日期"), ("planned_end", "计划完成日期")):
        if key in form.data:
            fields[key] = form.day(key, label)
    form.done()
    nodes.update_node(node, current_staff(), fields)
    db.session.commit()
    return node_json(node, projects.local_today())


@bp.post("/projects/<int:project_id>/nodes/<int:node_id>/rectification/close")
def close_rectification(project_id: int, node_id: int):
    node = nodes.load(_project(project_id, *SITE_ROLES), node_id)
    form = Form(request.get_json(silent=True) or {})
    note = form.text("note", "整改说明", required=False, max_len=1000)
    form.done()
    nodes.close_rectification(node, current_staff(), note)
    db.session.commit()
    return node_json(node, projects.local_today())


@bp.get("/projects/<int:project_id>/rejections")
def list_rejections(project_id: int):
    project = _project(project_id, "admin", "manager", "pm")
    ids = [n.id for n in project.nodes]
    rows = db.session.scalars(
        select(NodeRejection).where(NodeRejection.node_id.in_(ids)).order_by(NodeRejection.id)
    )
    return {
        "nodes": [
            {"node_id": n.id, "node": n.name, "rejection_count": n.rejection_count}
            for n in project.nodes
        ],
        "items": [rejection_json(r) for r in rows],
    }


@bp.post("/projects/<int:project_id>/logs")
def post_log(project_id: int):
    project = _project(project_id, *SITE_ROLES)
    allow_large_body()
    form = Form(request.form)
    node_id = form.integer("node_id", "节点", required=False, minimum=1, maximum=MAX_ID)
    text = form.text("text", "日志内容", max_len=2000)
    form.done()
    entry = progress.post_log(project, current_staff(), node_id, text, stored_photos())
    db.session.commit()
    return entry_json(entry), 201


def _findings(form: Form) -> list[dict]:
    try:
        raw = json.loads(form.data.get("findings") or "[]")
    except ValueError:
        raw = None
    hazards = dict(HAZARD_LEVELS)
    ok = (
        isinstance(raw, list)
        and 0 < len(raw) <= 50
        and all(
            isinstance(f, dict)
            and isinstance(f.get("text"), str)
            and f["text"].strip()
            and len(f["text"]) <= 500
            and f.get("hazard") in hazards
            for f in raw
        )
    )
    if not ok:
        form.fail("findings", "巡检发现必须是 JSON 列表，每项含 text 和 hazard(low/medium/high)")
        return []
    return [{"text": f["text"].strip(), "hazard": f["hazard"]} for f in raw]


@bp.post("/projects/<int:project_id>/reports")
def post_report(project_id: int):
    project = _project(project_id, "admin", "manager", "supervisor")
    allow_large_body()
    form = Form(request.form)
    node_id = form.integer("node_id", "节点", required=False, minimum=1, maximum=MAX_ID)
    text = form.text("text", "报告摘要", required=False, max_len=2000)
    findings = _findings(form)
    form.done()
    for index, photo in finding_photos(len(findings)).items():
        findings[index]["photo"] = photo
    entry = progress.post_report(project, current_staff(), node_id, text, findings)
    db.session.commit()
    return entry_json(entry), 201


@bp.post("/projects/<int:project_id>/change-orders")
def propose_change_order(project_id: int):
    project = _project(project_id, "admin", "manager", "sales", "designer", "pm")
    form = Form(json_body())
    item = form.text("item", "调整项目", max_len=200)
    amount = form.integer("amount_fen", "调整金额(分)", minimum=-(10**11), maximum=10**11)
    form.done()
    order = change_orders.propose(project, current_staff(), item, amount)
    db.session.commit()
    return change_order_json(order), 201
