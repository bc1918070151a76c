"""The 施工节点 template (staff API): list, add, rename, reorder, deactivate."""

from __future__ import annotations

from app.api import bp, current_staff, roles
from app.core.extensions import db
from app.models import NodeTemplate as NodeTemplateRow
from app.schemas.node_templates import (
    NodeTemplate,
    NodeTemplateIn,
    NodeTemplateList,
    NodeTemplatePatch,
)
from app.schemas.spec import API, endpoint
from app.services.projects import node_templates

TAG = "施工节点模板"
EDITORS = roles("admin", "manager")


def template_json(node: NodeTemplateRow) -> dict:
    return {"id": node.id, **node_templates.snapshot(node)}


@bp.get("/node-templates")
@endpoint(API, ok=NodeTemplateList, tag=TAG)
def list_node_templates():
    """施工节点模板（签约时复制启用的节点）"""
    items = [template_json(n) for n in node_templates.all_nodes()]
    db.session.commit()  # the defaults, when they were just seeded
    return {"items": items}


@bp.post("/node-templates")
@endpoint(API, json=NodeTemplateIn, ok=NodeTemplate, status=201, allow=EDITORS, tag=TAG)
def create_node_template(json: NodeTemplateIn):
    """新增模板节点"""
    node = node_templates.create(current_staff(), **json.model_dump())
    db.session.commit()
    return template_json(node), 201


@bp.patch("/node-templates/<int:node_id>")
@endpoint(API, json=NodeTemplatePatch, ok=NodeTemplate, errors=(404,), allow=EDITORS, tag=TAG)
def update_node_template(node_id: int, json: NodeTemplatePatch):
    """修改模板节点：名称、顺序、工期、启用（只改传入的字段）"""
    fields = json.model_dump(exclude_unset=True)
    node = node_templates.update(current_staff(), node_id, **fields)
    db.session.commit()
    return template_json(node)
