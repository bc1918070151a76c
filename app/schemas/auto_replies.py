"""Shapes of the official account's keyword replies."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.schemas.base import Flag, Integer, Out, Shape, Text

Match = Literal["exact", "contains"]
Priority = Integer(-1_000_000, 1_000_000)


class AutoReplyIn(Shape):
    keyword: Text(100) = Field(title="关键词")
    reply: Text(600) = Field(title="回复内容", description="微信文本消息最多 600 字")
    match: Match = Field("contains", title="匹配方式", description="exact 完全一致，contains 包含")
    priority: Priority = Field(100, title="优先级", description="越小越先匹配")
    active: Flag = Field(True, title="启用")


class AutoReplyPatch(Shape):
    # Only the fields sent change; null is refused (leave a field out to keep it).

    keyword: Text(100) = Field(None, title="关键词")
    reply: Text(600) = Field(None, title="回复内容")
    match: Match = Field(None, title="匹配方式")
    priority: Priority = Field(None, title="优先级")
    active: Flag = Field(None, title="启用")


class AutoReply(Out):
    id: int
    keyword: str
    match: Match
    reply: str
    priority: int
    active: bool


class AutoReplyList(Out):
    items: list[AutoReply]
    next_cursor: str | None = None
