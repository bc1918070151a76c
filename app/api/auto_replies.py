"""/api/v1/auto-replies: the official account's keyword replies (admin and managers)."""

from __future__ import annotations

from app.api import bp, require_role
from app.core.errors import ApiError
from app.core.extensions import db
from app.models import AutoReplyRule
from app.schemas.validation import json_body
from app.services.inbound import reply_rules

EDITORS = ("admin", "manager")


def _editor():
    return require_role(*EDITORS, message="只有管理员和店长可以修改自动回复")


def _rule(rule_id: int) -> AutoReplyRule:
    rule = db.session.get(AutoReplyRule, rule_id)
    if rule is None:
        raise ApiError(404, "not_found", "自动回复规则不存在")
    return rule


@bp.get("/auto-replies")
def list_auto_replies():
    return {
        "items": [reply_rules.as_dict(r) for r in reply_rules.list_rules()],
        "next_cursor": None,
    }


@bp.post("/auto-replies")
def create_auto_reply():
    try:
        rule = reply_rules.create(json_body(), _editor())
    except reply_rules.RuleInputError as exc:
        raise ApiError(400, "invalid", "自动回复规则有误", exc.fields) from exc
    db.session.commit()
    return reply_rules.as_dict(rule), 201


@bp.patch("/auto-replies/<int:rule_id>")
def update_auto_reply(rule_id: int):
    editor = _editor()
    try:
        rule = reply_rules.update(_rule(rule_id), json_body(), editor)
    except reply_rules.RuleInputError as exc:
        raise ApiError(400, "invalid", "自动回复规则有误", exc.fields) from exc
    db.session.commit()
    return reply_rules.as_dict(rule)
