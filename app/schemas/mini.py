"""Shapes of the mini program's own resources: login, binding, me, subscriptions."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.schemas.base import Out, Shape, Text


class Me(Out):
    customer_id: int
    name: str
    stage: str
    stage_label: str | None = None
    bound: bool
    project_ids: list[int] = []


class LoginIn(Shape):
    code: Text(128) = Field(title="登录凭证 code")


class Login(Out):
    token: str
    expires_in: int
    first_login: bool = False
    me: Me


class BindIn(Shape):
    invite_code: Text(16) | None = Field(None, title="邀请码")
    phone_code: Text(128) | None = Field(None, title="手机号授权 code")


ConsentStatus = Literal["accept", "reject", "ban", "filter"]


class SubscriptionsIn(Shape):
    results: dict[Text(128), ConsentStatus] = Field(
        title="订阅结果",
        min_length=1,
        max_length=20,
        description="{模板ID: accept/reject/ban/filter}",
    )


class Consent(Out):
    template_id: str
    status: str
    remaining: int


class Subscriptions(Out):
    items: list[Consent]
