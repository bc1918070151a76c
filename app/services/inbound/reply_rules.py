"""Staff-managed keyword replies for the official account (validated, audited)."""

from __future__ import annotations

from sqlalchemy import select

from app.core.database import load_row
from app.core.errors import Invalid, NotFound
from app.core.extensions import db
from app.models import AutoReplyRule, Staff
from app.services.customers import audit
from app.services.inbound import auto_reply

MATCHES = ("exact", "contains")
FIELDS = ("keyword", "match", "reply", "priority", "active")


class RuleInputError(Invalid, ValueError):
    """Field-level problems, as {field: message in Chinese}."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("自动回复规则有误", fields=fields)


def validate(data: dict, *, partial: bool = False) -> dict:
    errors, clean = {}, {}
    for field in FIELDS:
        if field not in data:
            if not partial and field in ("keyword", "reply"):
                errors[field] = "必填"
            continue
        clean[field] = data[field]
    if "keyword" in clean and (
        not isinstance(clean["keyword"], str) or not 0 < len(clean["keyword"].strip()) <= 100
    ):
        errors["keyword"] = "关键词为 1 到 100 个字"
    if "reply" in clean and (
        not isinstance(clean["reply"], str) or not 0 < len(clean["reply"].strip()) <= 600
    ):
        errors["reply"] = "回复内容为 1 到 600 个字（微信文本消息上限）"
    if "match" in clean and clean["match"] not in MATCHES:
        errors["match"] = "匹配方式只能是 exact（完全一致）或 contains（包含）"
    if "priority" in clean and (
        not isinstance(clean["priority"], int) or isinstance(clean["priority"], bool)
    ):
        errors["priority"] = "优先级必须是整数，越小越先匹配"
    if "active" in clean and not isinstance(clean["active"], bool):
        errors["active"] = "active 必须是 true 或 false"
    if errors:
        raise RuleInputError(errors)
    return {k: v.strip() if isinstance(v, str) else v for k, v in clean.items()}


def as_dict(rule: AutoReplyRule) -> dict:
    return {f: getattr(rule, f) for f in ("id", *FIELDS)}


def load(rule_id: int) -> AutoReplyRule:
    """One rule; NotFound for any other id."""
    return load_row(AutoReplyRule, rule_id, missing="自动回复规则不存在")


def list_rules() -> list[AutoReplyRule]:
    return list(
        db.session.scalars(select(AutoReplyRule).order_by(AutoReplyRule.priority, AutoReplyRule.id))
    )


def create(data: dict, actor: Staff) -> AutoReplyRule:
    rule = AutoReplyRule(**{"match": "contains", "priority": 100, **validate(data)})
    db.session.add(rule)
    db.session.flush()
    audit.record("auto_reply.create", "auto_reply_rule", rule.id, actor=actor, after=as_dict(rule))
    auto_reply.forget_rules()
    return rule


def update(rule: AutoReplyRule, data: dict, actor: Staff) -> AutoReplyRule:
    before = as_dict(rule)
    for field, value in validate(data, partial=True).items():
        setattr(rule, field, value)
    audit.record(
        "auto_reply.update",
        "auto_reply_rule",
        rule.id,
        actor=actor,
        before=before,
        after=as_dict(rule),
    )
    auto_reply.forget_rules()
    return rule


def get(rule_id: int) -> AutoReplyRule:
    """The rule; NotFound when there is none."""
    rule = db.session.get(AutoReplyRule, rule_id) if 0 < rule_id < 2**31 else None
    if rule is None:
        raise NotFound("自动回复规则不存在")
    return rule
