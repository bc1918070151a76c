"""/api/v1/customers/<id>/tags and /notes: staff who may see a customer tag it and write notes."""

from __future__ import annotations

from app.api import bp, current_staff
from app.core.extensions import db
from app.schemas.customers import CustomerTag, NoteAdded, NoteIn, TagIn, TagProfile
from app.schemas.spec import API, endpoint
from app.services.customers import customers
from app.services.tagging import notes, tag_profile, tagging

TAG = "客户"


@bp.post("/customers/<int:customer_id>/tags")
@endpoint(API, json=TagIn, ok=CustomerTag, status=201, errors=(404,), tag=TAG)
def add_customer_tag(customer_id: int, json: TagIn):
    """给客户加标签（维度:值），自动标签被确认为人工标签"""
    staff = current_staff()
    customer = customers.load_for_staff(staff, customer_id)
    row = tagging.add_manual_tag(customer, json.tag, staff)
    db.session.commit()
    return tag_profile.tag_json(row), 201


@bp.delete("/customers/<int:customer_id>/tags/<path:tag>")
@endpoint(API, ok=TagProfile, errors=(404,), tag=TAG)
def remove_customer_tag(customer_id: int, tag: str):
    """去掉客户的标签；自动打标签不会再加回来"""
    staff = current_staff()
    customer = customers.load_for_staff(staff, customer_id)
    tagging.remove_tag(customer, tag, staff)
    db.session.commit()
    return tag_profile.profile_json(customer)


@bp.post("/customers/<int:customer_id>/notes")
@endpoint(API, json=NoteIn, ok=NoteAdded, status=201, errors=(404,), tag=TAG)
def add_customer_note(customer_id: int, json: NoteIn):
    """写一条跟进备注（记入时间线，并据此打标签）"""
    staff = current_staff()
    customer = customers.load_for_staff(staff, customer_id)
    note, added = notes.add(customer, json.text, staff)
    db.session.commit()
    return {"event_id": note.id, "tags_added": added}, 201
