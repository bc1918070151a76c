"""Shapes of invite codes: a rep gives a homeowner (owner) or a family member (family) one."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.schemas.base import Id, Out, Shape


class InviteIn(Shape):
    kind: Literal["owner", "family"] = Field("owner", title="邀请类型")
    project_id: Id | None = Field(None, title="项目", description="家属邀请必填：该客户的项目")


class Invite(Out):
    code: str = Field(description="8 位邀请码，7 天内有效，只能用一次")
    kind: Literal["owner", "family"]
    customer_id: int
    project_id: int | None = None
    expires_at: str | None = None
