"""/api/v1/auto-replies: the official account's keyword replies (admin and managers)."""

from __future__ import annotations

from app.api import bp, current_staff, roles
from app.core.extensions import db
from app.schemas.auto_replies import AutoReply, AutoReplyIn, AutoReplyList, AutoReplyPatch
from app.schemas.spec import API, endpoint
from app.services.inbound import reply_rules

TAG = "自动回复"
EDITORS = roles("admin", "manager", message="只有管理员和店长可以修改自动回复")


@bp.get("/auto-replies")
@endpoint(API, ok=AutoReplyList, tag=TAG)
def list_auto_replies():
    """关键词自动回复规则（按优先级）"""
    return {
        "items": [reply_rules.as_dict(r) for r in reply_rules.list_rules()],
        "next_cursor": None,
    }


@bp.post("/auto-replies")
@endpoint(API, json=AutoReplyIn, ok=AutoReply, status=201, allow=EDITORS, tag=TAG)
def create_auto_reply(json: AutoReplyIn):
    """新增关键词自动回复"""
    rule = reply_rules.create(json.model_dump(), current_staff())
    db.session.commit()
    return reply_rules.as_dict(rule), 201


@bp.patch("/auto-replies/<int:rule_id>")
@endpoint(API, json=AutoReplyPatch, ok=AutoReply, errors=(404,), allow=EDITORS, tag=TAG)
def update_auto_reply(rule_id: int, json: AutoReplyPatch):
    """修改关键词自动回复（只改传入的字段）"""
    rule = reply_rules.update(
        reply_rules.load(rule_id), json.model_dump(exclude_unset=True), current_staff()
    )
    db.session.commit()
    return reply_rules.as_dict(rule)
