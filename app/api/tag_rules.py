"""/api/v1/tag-rules: the auto-tagging rules; admin and store managers only, every change audited."""

from __future__ import annotations

from flask import request
from sqlalchemy import select

from app.api import bp, require_role
from app.core.errors import ApiError
from app.core.extensions import db
from app.models import TagRule
from app.schemas.pagination import limit_arg, page_body
from app.schemas.serializers import iso
from app.schemas.validation import json_body
from app.services.tagging import tag_rules

RULE_EDITORS = ("admin", "manager")


def rule_json(row: TagRule) -> dict:
    return {
        "id": row.id,
        "tag": row.tag,
        "dimension": row.dimension,
        "value": row.value,
        "words": row.words,
        "exclusions": row.exclusions,
        "active": row.active,
        "source": row.source,
        "updated_at": iso(row.updated_at),
        "updated_by": row.updated_by.name if row.updated_by else None,
    }


def _editor():
    return require_role(*RULE_EDITORS, message="只有管理员或店长可以管理打标签规则")


def _rule(rule_id: int) -> TagRule:
    row = db.session.get(TagRule, rule_id)
    if row is None:
        raise ApiError(404, "not_found", "规则不存在")
    return row


def _invalid(exc: tag_rules.RuleInputError) -> ApiError:
    return ApiError(400, "invalid_rule", "规则内容有误", exc.fields)


@bp.get("/tag-rules")
def list_tag_rules():
    _editor()
    query = select(TagRule).order_by(TagRule.id)
    for field in ("dimension", "value"):
        if request.args.get(field):
            query = query.where(getattr(TagRule, field) == request.args[field])
    if request.args.get("active") in ("true", "false"):
        query = query.where(TagRule.active.is_(request.args["active"] == "true"))
    cursor, limit = request.args.get("after", ""), limit_arg(100, 500)
    if cursor:
        if not cursor.isdigit():
            raise ApiError(400, "bad_cursor", "无效的分页游标")
        query = query.where(TagRule.id > int(cursor))
    rows = db.session.scalars(query.limit(limit + 1)).all()
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return page_body([rule_json(r) for r in rows[:limit]], next_cursor)


@bp.post("/tag-rules")
def create_tag_rule():
    staff = _editor()
    try:
        row = tag_rules.create(json_body(), staff)
    except tag_rules.RuleInputError as exc:
        raise _invalid(exc) from exc
    db.session.commit()
    return rule_json(row), 201


@bp.patch("/tag-rules/<int:rule_id>")
def update_tag_rule(rule_id: int):
    staff = _editor()
    row, data = _rule(rule_id), json_body()
    try:
        tag_rules.update_rule(row, data, staff)
    except tag_rules.RuleInputError as exc:
        raise _invalid(exc) from exc
    db.session.commit()
    return rule_json(row)


@bp.delete("/tag-rules/<int:rule_id>")
def deactivate_tag_rule(rule_id: int):
    staff = _editor()
    row = tag_rules.deactivate(_rule(rule_id), staff)
    db.session.commit()
    return rule_json(row)
