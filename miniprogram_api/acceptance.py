"""验收: the homeowner accepts a node, or rejects it with a reason and photos."""

from __future__ import annotations

from app.core.errors import ApiError
from app.core.extensions import db
from app.schemas.project_serializers import node_json
from app.schemas.uploads import stored_photos
from app.schemas.validation import Form, json_body
from app.services.projects import nodes, photo_uploads, photos, projects
from miniprogram_api import bp, current_homeowner


def _node(project_id: int, node_id: int):
    project = projects.load_for_customer(current_homeowner().id, project_id)
    return nodes.load(project, node_id)


@bp.post("/uploads")
def upload_photo():
    """One photo (wx.uploadFile sends one file a call, field `file`) → a token to cite."""
    stored = stored_photos("file")
    if len(stored) != 1:
        raise ApiError(400, "invalid", "请上传一张照片", fields={"file": "请上传一张照片"})
    token = photo_uploads.register(current_homeowner().id, stored[0])
    db.session.commit()
    return {"photo_token": token}, 201


@bp.post("/projects/<int:project_id>/nodes/<int:node_id>/accept")
def accept_node(project_id: int, node_id: int):
    node = _node(project_id, node_id)
    nodes.accept(node, current_homeowner())
    db.session.commit()
    return node_json(node, projects.local_today())


@bp.post("/projects/<int:project_id>/nodes/<int:node_id>/reject")
def reject_node(project_id: int, node_id: int):
    node = _node(project_id, node_id)
    form = Form(json_body())
    reason = form.text("reason", "不通过原因", max_len=1000)
    tokens = form.strings("photos", "照片", max_items=photos.MAX_PHOTOS)
    form.done()
    try:
        cited = photo_uploads.cite(current_homeowner().id, tokens)
    except photos.PhotoError as exc:
        raise ApiError(400, "invalid", str(exc), fields={"photos": str(exc)}) from exc
    nodes.reject(node, current_homeowner(), reason, cited)
    db.session.commit()
    return node_json(node, projects.local_today())
