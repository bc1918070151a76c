"""Work on a project (staff API): nodes, rectifications, logs, QC reports, change orders."""

from __future__ import annotations

from app.api import bp, current_staff, roles
from app.core.extensions import db
from app.schemas import uploads
from app.schemas.project_serializers import change_order_json, entry_json, node_json, rejection_json
from app.schemas.projects import (
    ChangeOrder,
    ChangeOrderIn,
    FeedEntry,
    LogForm,
    Node,
    NodePatch,
    RectificationIn,
    RejectionList,
    ReportForm,
)
from app.schemas.spec import API, endpoint
from app.services.projects import change_orders, nodes, progress, projects

TAG = "施工"
SITE = roles("admin", "manager", "pm")
SUPERVISION = roles("admin", "manager", "supervisor")
BUDGET = roles("admin", "manager", "sales", "designer", "pm")
# Multipart with photos: up to 9 of PHOTO_MAX_BYTES each (413 beyond), 201 with the entry.
PHOTO_UPLOAD = {"status": 201, "errors": (404, 413), "body_limit": uploads.body_limit, "tag": TAG}


def _node(project_id: int, node_id: int):
    return nodes.load(projects.load_for_staff(current_staff(), project_id), node_id)


@bp.patch("/projects/<int:project_id>/nodes/<int:node_id>")
@endpoint(API, json=NodePatch, ok=Node, errors=(404, 409), allow=SITE, tag=TAG)
def update_node(project_id: int, node_id: int, json: NodePatch):
    """修改节点：计划日期、状态（未开始 → 进行中 → 待验收；验收由业主确认）"""
    node = _node(project_id, node_id)
    nodes.update_node(node, current_staff(), json.model_dump(exclude_unset=True))
    db.session.commit()
    return node_json(node, projects.local_today())


@bp.post("/projects/<int:project_id>/nodes/<int:node_id>/rectification/close")
@endpoint(API, json=RectificationIn, ok=Node, errors=(404, 409), allow=SITE, tag=TAG)
def close_rectification(project_id: int, node_id: int, json: RectificationIn):
    """整改完成：节点回到「待验收」，通知业主"""
    node = _node(project_id, node_id)
    nodes.close_rectification(node, current_staff(), json.note)
    db.session.commit()
    return node_json(node, projects.local_today())


@bp.get("/projects/<int:project_id>/rejections")
@endpoint(API, ok=RejectionList, errors=(404,), allow=SITE, tag=TAG)
def list_rejections(project_id: int):
    """业主的验收不通过记录（原因、照片、整改情况）"""
    project = projects.load_for_staff(current_staff(), project_id)
    return {
        "nodes": [
            {"node_id": n.id, "node": n.name, "rejection_count": n.rejection_count}
            for n in project.nodes
        ],
        "items": [rejection_json(r) for r in nodes.rejections(project)],
    }


@bp.post("/projects/<int:project_id>/logs")
@endpoint(API, form=LogForm, ok=FeedEntry, allow=SITE, **PHOTO_UPLOAD)
def post_log(project_id: int, form: LogForm):
    """施工日志（multipart/form-data）：文字和最多 9 张照片，通知业主"""
    project = projects.load_for_staff(current_staff(), project_id)
    progress.check_node(project, form.node_id)  # before any photo is stored
    photos = uploads.stored_photos(form.photos)
    entry = progress.post_log(project, current_staff(), form.node_id, form.text, photos)
    db.session.commit()
    return entry_json(entry), 201


@bp.post("/projects/<int:project_id>/reports")
@endpoint(API, form=ReportForm, ok=FeedEntry, allow=SUPERVISION, **PHOTO_UPLOAD)
def post_report(project_id: int, form: ReportForm):
    """监理巡检报告（multipart/form-data）：巡检发现 findings，第 i 条的照片放在 photo_<i>"""
    project = projects.load_for_staff(current_staff(), project_id)
    progress.check_node(project, form.node_id)  # before any photo is stored
    findings = [f.model_dump() for f in form.findings]
    for index, photo in uploads.finding_photos(len(findings)).items():
        findings[index]["photo"] = photo
    entry = progress.post_report(project, current_staff(), form.node_id, form.text, findings)
    db.session.commit()
    return entry_json(entry), 201


@bp.post("/projects/<int:project_id>/change-orders")
@endpoint(API, json=ChangeOrderIn, ok=ChangeOrder, status=201, errors=(404,), allow=BUDGET, tag=TAG)
def propose_change_order(project_id: int, json: ChangeOrderIn):
    """提出预算调整（增项为正、减项为负），等业主在小程序确认"""
    project = projects.load_for_staff(current_staff(), project_id)
    order = change_orders.propose(project, current_staff(), json.item, json.amount_fen)
    db.session.commit()
    return change_order_json(order), 201
