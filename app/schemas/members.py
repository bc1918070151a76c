"""Shapes of a project's family members (家属) as the owner manages them in the mini program."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.schemas.base import Flag, Out, Shape


class Member(Out):
    id: int
    customer_id: int
    name: str
    role: str
    can_accept: bool
    joined_at: datetime


class MemberList(Out):
    items: list[Member]


class MemberIn(Shape):
    can_accept: Flag = Field(title="允许验收节点 can_accept")
