"""验收: the homeowner accepts a node, or rejects it with a reason and photos."""

from __future__ import annotations

from app.core.errors import Invalid
from app.core.extensions import db
from app.schemas import uploads
from app.schemas.project_serializers import node_json
from app.schemas.projects import Node, RejectionIn, Upload, UploadForm
from app.schemas.spec import MINI, endpoint
from app.services.projects import nodes, photo_uploads, photos, projects
from miniprogram_api import bp, current_homeowner


def _node(project_id: int, node_id: int):
    project = projects.load_for_customer(current_homeowner().id, project_id)
    return nodes.load(project, node_id)


@bp.post("/uploads")
@endpoint(
    MINI,
    form=UploadForm,
    ok=Upload,
    status=201,
    errors=(413,),
    body_limit=uploads.body_limit,
    tag="验收",
)
def upload_photo(form: UploadForm):
    """上传一张照片（wx.uploadFile，字段 file），得到 photo_token，在验收不通过时引用"""
    photo_uploads.check_may_upload(current_homeowner().id)
    stored = uploads.stored_photos([form.file], "file")
    token = photo_uploads.register(current_homeowner().id, stored[0])
    db.session.commit()
    return {"photo_token": token}, 201


@bp.post("/projects/<int:project_id>/nodes/<int:node_id>/accept")
@endpoint(MINI, ok=Node, errors=(403, 404, 409), tag="验收")
def accept_node(project_id: int, node_id: int):
    """确认节点验收"""
    node = _node(project_id, node_id)
    nodes.accept(node, current_homeowner())
    db.session.commit()
    return node_json(node, projects.local_today())


@bp.post("/projects/<int:project_id>/nodes/<int:node_id>/reject")
@endpoint(MINI, json=RejectionIn, ok=Node, errors=(403, 404, 409), tag="验收")
def reject_node(project_id: int, node_id: int, json: RejectionIn):
    """节点验收不通过（原因与照片）"""
    node = _node(project_id, node_id)
    reason = json.reason
    try:
        cited = photo_uploads.cite(current_homeowner().id, json.photos)
    except photos.PhotoError as exc:
        raise Invalid(str(exc), fields={"photos": str(exc)}) from exc
    nodes.reject(node, current_homeowner(), reason, cited)
    db.session.commit()
    return node_json(node, projects.local_today())
