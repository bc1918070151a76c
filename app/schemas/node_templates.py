"""Shapes of the 施工节点 template that a new project copies."""

from __future__ import annotations

from pydantic import Field

from app.schemas.base import Flag, Integer, Out, Shape, Text

Position = Integer(1, 1000)
Duration = Integer(1, 365)


class NodeTemplateIn(Shape):
    name: Text(50) = Field(title="节点名称")
    position: Position | None = Field(None, title="顺序", description="省略时排在最后")
    duration_days: Duration | None = Field(None, title="工期(天)")
    active: Flag = Field(True, title="启用")


class NodeTemplatePatch(Shape):
    # Only the fields sent change; null is refused (leave a field out to keep it).

    name: Text(50) = Field(None, title="节点名称")
    position: Position = Field(None, title="顺序")
    duration_days: Duration = Field(None, title="工期(天)")
    active: Flag = Field(None, title="启用")


class NodeTemplate(Out):
    id: int
    name: str
    position: int
    duration_days: int
    active: bool


class NodeTemplateList(Out):
    items: list[NodeTemplate]
