"""/api/v1/tag-rules: the auto-tagging rules; admin and store managers only, every change audited."""

from __future__ import annotations

from app.api import bp, current_staff, roles
from app.core.extensions import db
from app.models import TagRule as TagRuleRow
from app.schemas.pagination import page_body
from app.schemas.serializers import iso
from app.schemas.spec import API, endpoint
from app.schemas.tag_rules import TagRule, TagRuleIn, TagRulePage, TagRulePatch, TagRuleQuery
from app.services.tagging import tag_rules

TAG = "打标签规则"
EDITORS = roles("admin", "manager", message="只有管理员或店长可以管理打标签规则")


def rule_json(row: TagRuleRow) -> dict:
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


@bp.get("/tag-rules")
@endpoint(API, query=TagRuleQuery, ok=TagRulePage, allow=EDITORS, tag=TAG)
def list_tag_rules(query: TagRuleQuery):
    """打标签规则（按 id），可按维度、取值、启用筛选"""
    active = None if query.active is None else query.active == "true"
    filters = {"dimension": query.dimension, "value": query.value, "active": active}
    rows, next_cursor = tag_rules.page(filters, query.after, query.limit)
    return page_body([rule_json(r) for r in rows], next_cursor)


@bp.post("/tag-rules")
@endpoint(API, json=TagRuleIn, ok=TagRule, status=201, allow=EDITORS, tag=TAG)
def create_tag_rule(json: TagRuleIn):
    """新增打标签规则（维度与取值来自标签体系）"""
    row = tag_rules.create(json.model_dump(), current_staff())
    db.session.commit()
    return rule_json(row), 201


@bp.patch("/tag-rules/<int:rule_id>")
@endpoint(API, json=TagRulePatch, ok=TagRule, errors=(404,), allow=EDITORS, tag=TAG)
def update_tag_rule(rule_id: int, json: TagRulePatch):
    """修改打标签规则（只改传入的字段）"""
    row = tag_rules.load(rule_id)
    tag_rules.update_rule(row, json.model_dump(exclude_unset=True), current_staff())
    db.session.commit()
    return rule_json(row)


@bp.delete("/tag-rules/<int:rule_id>")
@endpoint(API, ok=TagRule, errors=(404,), allow=EDITORS, tag=TAG)
def deactivate_tag_rule(rule_id: int):
    """停用打标签规则（保留记录）"""
    row = tag_rules.deactivate(tag_rules.load(rule_id), current_staff())
    db.session.commit()
    return rule_json(row)
