"""Shapes of the auto-tagging rules (dimension and value from the taxonomy, trigger words)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.schemas.base import Flag, Id, Integer, Out, Query, Shape, Text

Words = list[Text(50)] | Text(12_000)


class TagRuleQuery(Query):
    dimension: Text(20) | None = Field(None, title="维度 dimension")
    value: Text(50) | None = Field(None, title="取值 value")
    active: Literal["true", "false"] | None = Field(None, title="启用 active")
    after: Id | None = Field(None, title="游标 after", description="上一页的 next_cursor")
    limit: Integer(1, 500, title="每页条数 limit") = 100


_WORDS = "词的列表，或用逗号、顿号分隔的一段文字"


class TagRuleIn(Shape):
    dimension: Text(20) = Field(title="维度")
    value: Text(50) = Field(title="取值")
    words: Words = Field(title="触发词", description=_WORDS)
    exclusions: Words = Field([], title="排除词", description=_WORDS)
    active: Flag = Field(True, title="启用")


class TagRulePatch(Shape):
    # Only the fields sent change; null is refused (leave a field out to keep it).

    dimension: Text(20) = Field(None, title="维度")
    value: Text(50) = Field(None, title="取值")
    words: Words = Field(None, title="触发词", description=_WORDS)
    exclusions: Words = Field(None, title="排除词", description=_WORDS)
    active: Flag = Field(None, title="启用")


class TagRule(Out):
    id: int
    tag: str
    dimension: str
    value: str
    words: list[str]
    exclusions: list[str]
    active: bool
    source: str = Field(description="default（内置）或 staff（员工添加）")
    updated_at: str | None = None
    updated_by: str | None = None


class TagRulePage(Out):
    items: list[TagRule]
    next_cursor: str | None = None
