"""The 施工节点 template (staff API): list, add, rename, reorder, deactivate."""

from __future__ import annotations

from app.api import bp, current_staff, require_role
from app.core.extensions import db
from app.models import NodeTemplate
from app.schemas.validation import Form, json_body
from app.services.projects import node_templates


def template_json(node: NodeTemplate) -> dict:
    return {"id": node.id, **node_templates.snapshot(node)}


def _fields(required: bool) -> dict:
    form = Form(json_body())
    fields = {
        "name": form.text("name", "节点名称", required=required, max_len=50, default=None),
        "position": form.integer("position", "顺序", required=False, minimum=1, maximum=1000),
        "duration_days": form.integer(
            "duration_days", "工期(天)", required=False, minimum=1, maximum=365
        ),
    }
    if "active" in form.data:
        if not isinstance(form.data["active"], bool):
            form.fail("active", "active 必须是 true 或 false")
        fields["active"] = form.data["active"]
    form.done()
    return fields


@bp.get("/node-templates")
def list_node_templates():
    items = [template_json(n) for n in node_templates.all_nodes()]
    db.session.commit()  # the defaults, when they were just seeded
    return {"items": items}


@bp.post("/node-templates")
def create_node_template():
    require_role("admin", "manager")
    node = node_templates.create(current_staff(), **_fields(required=True))
    db.session.commit()
    return template_json(node), 201


@bp.patch("/node-templates/<int:node_id>")
def update_node_template(node_id: int):
    require_role("admin", "manager")
    node = node_templates.update(current_staff(), node_id, **_fields(required=False))
    db.session.commit()
    return template_json(node)
