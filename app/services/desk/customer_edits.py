"""What staff change on a customer from the console: the profile, the stage, tags, notes
and merges. Each is audited and lands on the timeline.

Profile and stage forms carry the record's version (customer_page.version): if someone
changed the customer since the page loaded, the change is refused (Conflict) instead of
overwriting theirs.
"""

from __future__ import annotations

from datetime import date

from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.extensions import db
from app.models import GENDERS, STAGE_CODES, STAGE_LABELS, Customer, Staff, TimelineEvent
from app.services.customers import audit, customers, phones, stages, timeline
from app.services.desk import customer_page
from app.services.sales import assignment
from app.services.tagging import tagging

MAX_NOTE = 5000
TEXT_FIELDS = {
    "name": ("姓名", 100),
    "nickname": ("昵称", 100),
    "city": ("城市", 50),
    "community": ("小区", 100),
    "address": ("地址", 255),
    "source_channel": ("来源渠道", 64),
}
STALE = "该客户已被其他人修改，请刷新页面查看最新信息后再保存"
ASSIGNERS = ("admin", "manager")


def _fresh(customer: Customer, version: str) -> None:
    if version != customer_page.version(customer):
        raise Conflict(STALE)


def _clean(fields: dict, staff: Staff) -> dict:
    """Validated profile values; Invalid names every bad field."""
    errors, clean = {}, {}
    for key, (label, limit) in TEXT_FIELDS.items():
        value = (fields.get(key) or "").strip()
        if len(value) > limit or "\x00" in value:
            errors[key] = f"{label}不能超过 {limit} 个字"
        clean[key] = value
    if fields.get("gender", "unknown") not in GENDERS:
        errors["gender"] = "性别只能是 男、女 或 未知"
    clean["gender"] = fields.get("gender") or "unknown"
    raw_day = (fields.get("birthday") or "").strip()
    try:
        clean["birthday"] = date.fromisoformat(raw_day) if raw_day else None
    except ValueError:
        errors["birthday"] = "生日必须是 YYYY-MM-DD 格式的日期"
    if fields.get("phone"):
        clean["phone"] = fields["phone"].strip()
    if fields.get("owner_id") is not None and staff.has_role(*ASSIGNERS):
        clean["owner_id"] = fields["owner_id"]
    if errors:
        raise Invalid("请检查标红的字段", errors)
    return clean


def _owner(staff: Staff, owner_id: int | None) -> Staff | None:
    if owner_id is None:
        return None
    owner = db.session.get(Staff, owner_id)
    allowed = owner is not None and owner.active and owner.has_role("sales", "manager")
    if allowed and not staff.has_role("admin"):
        allowed = owner.store_id == staff.store_id
    if not allowed:
        raise Invalid("负责人无效", {"owner_id": "只能分配给本店在职的销售顾问或店长"})
    return owner


def update_profile(staff: Staff, customer: Customer, version: str, fields: dict) -> list[str]:
    """Change the profile; the names of the fields that changed (none: nothing recorded)."""
    _fresh(customer, version)
    clean = _clean(fields, staff)
    before = customers.snapshot(customer)
    changed = []
    if "phone" in clean:
        try:
            new_hash = phones.seal(clean.pop("phone"))
        except ValueError as exc:
            raise Invalid("手机号格式不正确", {"phone": "手机号格式不正确"}) from exc
        if new_hash[2] != customer.phone_hash:
            _, customer.phone_enc, customer.phone_hash = new_hash
            changed.append("phone")
    owner = _owner(staff, clean.pop("owner_id", None))
    if owner is not None and owner.id != customer.owner_id:
        # As a manager's hand assignment: the lead follows (SLA, pool clock, a first
        # follow-up due), the move is on the timeline and the new rep is told once.
        customer.store_id = owner.store_id or customer.store_id
        assignment.assign_by(staff, customer, owner)
        changed.append("owner_id")
    for key, value in clean.items():
        if getattr(customer, key) != value:
            setattr(customer, key, value)
            changed.append(key)
    if not changed:
        return []
    db.session.flush()
    audit.record(
        "customer.update",
        "customer",
        customer.id,
        actor=staff,
        before=before,
        after=customers.snapshot(customer),
    )
    timeline.record(
        customer,
        "profile_updated",
        channel="console",
        actor_staff=staff,
        payload={"fields": changed},
    )
    return changed


def move_stage(staff: Staff, customer: Customer, version: str, stage: str, reason: str) -> None:
    """Any stage, forwards or back, with a reason (required)."""
    _fresh(customer, version)
    errors = {}
    if stage not in STAGE_CODES:
        errors["stage"] = "没有这个阶段"
    elif stage == customer.stage:
        errors["stage"] = f"客户已经在「{STAGE_LABELS[stage]}」阶段"
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        errors["reason"] = "请填写变更原因（不超过 500 字）"
    if errors:
        raise Invalid("请检查标红的字段", errors)
    stages.change_stage(customer, stage, staff, reason, allow_backwards=True)


def add_note(staff: Staff, customer: Customer, text: str) -> TimelineEvent:
    """A note on the timeline; its words are tagged as the staff's (evidence says so)."""
    text = (text or "").strip()
    if not text or len(text) > MAX_NOTE or "\x00" in text:
        raise Invalid("备注有误", {"text": f"备注内容不能为空，且不超过 {MAX_NOTE} 字"})
    note = timeline.record(
        customer, "note", channel="console", actor_staff=staff, payload={"content": text}
    )
    audit.record("customer.note", "customer", customer.id, actor=staff, after={"event_id": note.id})
    tagging.tag_staff_note(customer, text, staff, event=note)
    return note


def add_tag(staff: Staff, customer: Customer, tag: str) -> None:
    try:
        tagging.add_manual_tag(customer, tag, staff)
    except tagging.TagError as exc:
        raise Invalid(str(exc), {"tag": str(exc)}) from exc


def remove_tag(staff: Staff, customer: Customer, tag: str) -> None:
    try:
        tagging.remove_tag(customer, tag, staff)
    except tagging.TagNotFound as exc:
        raise NotFound(str(exc)) from exc
    except tagging.TagError as exc:
        raise Invalid(str(exc), {"tag": str(exc)}) from exc


def merge(staff: Staff, customer: Customer, other_id: int | None, reason: str) -> Customer:
    """Fold a duplicate the staff member also sees into this customer."""
    if not staff.has_role("admin", "manager", "sales"):
        raise Forbidden("只有销售顾问、店长和管理员可以合并客户")
    if other_id is None or other_id == customer.id:
        raise Invalid("请选择要合并的客户", {"other_id": "请选择另一位客户"})
    other = customer_page.load(staff, other_id)
    reason = (reason or "").strip()[:500] or "重复客户"
    return customers.merge(customer, other, actor=staff, reason=reason)
