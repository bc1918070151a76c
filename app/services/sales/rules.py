"""Assignment rules and reps' availability, edited by admins and managers (audited)."""

from __future__ import annotations

from sqlalchemy import select

from app.core.database import load_row
from app.core.errors import Forbidden, Invalid
from app.core.extensions import db
from app.models import AssignRule, SalesRep, Staff, Store
from app.services.customers import audit

RULE_FIELDS = ("name", "position", "active", "store_id", "city", "region", "source", "tags")


def all_rules() -> list[AssignRule]:
    return list(db.session.scalars(select(AssignRule).order_by(AssignRule.position, AssignRule.id)))


def load(rule_id: int) -> AssignRule:
    return load_row(AssignRule, rule_id, missing="分配规则不存在")


def snapshot(rule: AssignRule) -> dict:
    return {f: getattr(rule, f) for f in RULE_FIELDS} | {"rep_ids": list(rule.rep_ids or ())}


NULLABLE = ("store_id",)


def _check(data: dict) -> dict:
    errors = {k: "不能为空" for k, v in data.items() if v is None and k not in NULLABLE}
    if "name" in data and not (data["name"] or "").strip():
        errors["name"] = "请填写规则名称"
    store_id = data.get("store_id")
    if store_id is not None and db.session.get(Store, store_id) is None:
        errors["store_id"] = "门店不存在"
    for tag in data.get("tags") or ():
        if ":" not in tag:
            errors["tags"] = "标签写成 维度:值，例如 预算:高端"
    reps = data.get("rep_ids")
    if reps is not None and not reps:  # a rule nobody takes turns in would pass every lead on
        errors["rep_ids"] = "请至少选择一位销售顾问"
    elif reps is not None:
        found = db.session.scalars(select(Staff).where(Staff.id.in_(reps))).all()
        if len(reps) != len(set(reps)) or len(found) != len(set(reps)):
            errors["rep_ids"] = "销售顾问不存在或重复"
        elif not all(s.has_role("sales", "manager") for s in found):
            errors["rep_ids"] = "只能选择销售顾问或店长"
    if errors:
        raise Invalid("分配规则有误", errors)
    return data


def save(rule: AssignRule | None, data: dict, actor: Staff) -> AssignRule:
    """Create (rule None) or change a rule with the given fields; Invalid names a field,
    Forbidden when a manager touches another store's rule (`_scope`)."""
    data = _check(_scope(rule, dict(data), actor))
    before = snapshot(rule) if rule is not None else None
    if rule is None:
        if not data.get("name") or not data.get("rep_ids"):
            raise Invalid("分配规则有误", {"rep_ids": "请至少选择一位销售顾问"})
        rule = AssignRule()
        db.session.add(rule)
    for key, value in data.items():
        setattr(rule, key, value.strip() if isinstance(value, str) else value)
    if "rep_ids" in data and rule.cursor_staff_id not in data["rep_ids"]:
        rule.cursor_staff_id = None
    rule.updated_by_id = actor.id
    db.session.flush()
    action = "assign_rule.update" if before else "assign_rule.create"
    audit.record(action, "assign_rule", rule.id, actor=actor, before=before, after=snapshot(rule))
    return rule


def _scope(rule: AssignRule | None, data: dict, actor: Staff) -> dict:
    """A manager's rules are their own store's: one left without a store is scoped to it,
    and another store, another store's reps or another store's (or every store's) rule are
    refused; else one store's manager could route every store's leads to their own reps."""
    if actor.has_role("admin"):
        return data
    _has_store(actor)
    if rule is not None and rule.store_id != actor.store_id:
        raise Forbidden("只能修改本门店的分配规则")
    if rule is None and data.get("store_id") is None:
        data["store_id"] = actor.store_id
    if "store_id" in data and data["store_id"] != actor.store_id:
        raise Invalid("分配规则有误", {"store_id": "只能为本门店设置分配规则"})
    reps = data.get("rep_ids") or ()
    found = db.session.scalars(select(Staff.store_id).where(Staff.id.in_(reps))).all()
    if any(store_id != actor.store_id for store_id in found):
        raise Invalid("分配规则有误", {"rep_ids": "只能选择本门店的销售顾问或店长"})
    return data


def set_rep(member: Staff, actor: Staff, *, off: bool | None, daily_cap: int | None) -> SalesRep:
    """A rep's availability: off (休息) and the daily cap of new leads (None: no cap)."""
    if daily_cap is not None and daily_cap < 0:
        raise Invalid("每日上限有误", {"daily_cap": "每日上限不能是负数"})
    _may_set(member, actor)
    row = db.session.get(SalesRep, member.id) or SalesRep(staff_id=member.id)
    before = {"off": row.off, "daily_cap": row.daily_cap}
    if off is not None:
        row.off = off
    row.daily_cap = daily_cap
    db.session.add(row)
    db.session.flush()
    after = {"off": row.off, "daily_cap": row.daily_cap}
    audit.record("sales_rep.update", "staff", member.id, actor=actor, before=before, after=after)
    return row


def _may_set(member: Staff, actor: Staff) -> None:
    """Only a rep (sales or manager) has availability; a manager sets their own store's
    only (else one store's manager could switch off another store's reps)."""
    if not member.has_role("sales", "manager"):
        raise Invalid("只能设置销售顾问或店长", {"staff_id": "不是销售顾问或店长"})
    if actor.has_role("admin"):
        return
    _has_store(actor)
    if member.store_id != actor.store_id:
        raise Forbidden("只能设置本门店的销售顾问")


def _has_store(actor: Staff) -> None:
    """A manager without a store has no store to be scoped to: comparing store ids would
    let them write every store's rules (store None) and set storeless reps."""
    if actor.store_id is None:
        raise Forbidden("未分配门店的店长不能设置分配规则或接单状态")


def reps() -> list[tuple[Staff, SalesRep | None]]:
    """Active sales reps and managers with their availability."""
    rows = db.session.execute(
        select(Staff, SalesRep)
        .outerjoin(SalesRep, SalesRep.staff_id == Staff.id)
        .where(Staff.active)
        .order_by(Staff.store_id, Staff.id)
    ).all()
    return [(s, r) for s, r in rows if s.has_role("sales", "manager")]
