"""/api/v1/customers/<id>/tags and /notes: staff who may see a customer tag it and write notes."""

from __future__ import annotations

from app.api import bp, current_staff
from app.api.customers import load_customer
from app.core.errors import ApiError
from app.core.extensions import db
from app.schemas.validation import json_body
from app.services.customers import audit, timeline
from app.services.tagging import tag_profile, tagging

MAX_NOTE_CHARS = 5000


@bp.post("/customers/<int:customer_id>/tags")
def add_customer_tag(customer_id: int):
    customer = load_customer(customer_id)
    try:
        row = tagging.add_manual_tag(customer, json_body().get("tag", ""), current_staff())
    except tagging.TagError as exc:
        raise ApiError(400, "bad_tag", str(exc), {"tag": str(exc)}) from exc
    db.session.commit()
    return tag_profile.tag_json(row), 201


@bp.delete("/customers/<int:customer_id>/tags/<path:tag>")
def remove_customer_tag(customer_id: int, tag: str):
    customer = load_customer(customer_id)
    try:
        tagging.remove_tag(customer, tag, current_staff())
    except tagging.TagNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    except tagging.TagError as exc:
        raise ApiError(400, "bad_tag", str(exc), {"tag": str(exc)}) from exc
    db.session.commit()
    return tag_profile.profile_json(customer)


@bp.post("/customers/<int:customer_id>/notes")
def add_customer_note(customer_id: int):
    customer, staff = load_customer(customer_id), current_staff()
    text = json_body().get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTE_CHARS:
        message = f"备注内容不能为空，且不超过 {MAX_NOTE_CHARS} 字"
        raise ApiError(400, "invalid_note", message, {"text": message})
    note = timeline.record(
        customer, "note", channel="api", actor_staff=staff, payload={"content": text.strip()}
    )
    audit.record("customer.note", "customer", customer.id, actor=staff, after={"event_id": note.id})
    added = tagging.tag_staff_note(customer, text, staff, event=note)
    db.session.commit()
    return {"event_id": note.id, "tags_added": added}, 201
