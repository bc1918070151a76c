"""Shapes of customers as staff see them: the list and its search, the detail with tags and
budget, the timeline, manual tags and notes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.schemas.base import Id, Integer, Out, Query, Shape, Text


class CustomerQuery(Query):
    identity: Text(300, min_length=0) | None = Field(
        None,
        title="身份 identity",
        description="KIND:VALUE，例如 mp_openid:oABC 或 phone:13812345678",
    )
    q: Text(100, min_length=0) | None = Field(
        None, title="搜索 q", description="姓名、昵称或手机号"
    )
    value: Literal["high", "normal", "low"] | None = Field(
        None, title="客户价值 value", description="high 高价值、normal 一般、low 低价值"
    )
    tag: Text(60, min_length=0) | None = Field(
        None,
        title="标签 tag",
        description="维度:值，例如 风格:北欧；没有客户带这个标签时是空的一页",
    )
    before: Id | None = Field(None, title="游标 before", description="上一页的 next_cursor")
    limit: Integer(1, 100, title="每页条数 limit") = 20


class TimelineQuery(Query):
    before: Text(200) | None = Field(None, title="游标 before", description="上一页的 next_cursor")
    limit: Integer(1, 100, title="每页条数 limit") = 20


class Named(Out):
    id: int
    name: str


class Customer(Out):
    id: int
    name: str
    phone: str | None = Field(
        None, description="完整号码只给负责的销售、店长和管理员，其他人看到掩码"
    )
    stage: str
    stage_label: str | None = None
    owner: Named | None = None
    store: str | None = None
    source_channel: str | None = None
    created_at: str | None = None


class CustomerPage(Out):
    items: list[Customer]
    next_cursor: str | None = None


class CustomerTag(Out):
    tag: str = Field(description="维度:值")
    dimension: str
    value: str
    source: str = Field(description="auto（自动）或 manual（员工）")
    evidence: dict[str, Any] | None = None
    created_at: str | None = None


class CustomerBudget(Out):
    amount: int | None = Field(None, description="客户说过的预算（元）")
    tier: str | None = None
    evidence: dict[str, Any] | None = None


class TagProfile(Out):
    tags: list[CustomerTag]
    budget: CustomerBudget | None = None
    label: str = Field(description="预算档-风格-阶段，例如 高端-现代简约-施工")


class Identity(Out):
    kind: str
    app_id: str


class CustomerDetail(Customer, TagProfile):
    nickname: str | None = None
    gender: str | None = None
    birthday: str | None = None
    city: str | None = None
    community: str | None = None
    address: str | None = None
    identities: list[Identity] = []
    updated_at: str | None = None


class Actor(Out):
    type: str | None = None
    staff_id: int | None = None


class Event(Out):
    id: int
    kind: str
    channel: str
    direction: str
    occurred_at: str | None = None
    actor: Actor
    payload: dict[str, Any]


class TimelinePage(Out):
    items: list[Event]
    next_cursor: str | None = None


class TagIn(Shape):
    tag: Text(60) = Field(title="标签", description="维度:值，例如 风格:北欧")


class NoteIn(Shape):
    text: Text(5000) = Field(title="备注内容")


class NoteAdded(Out):
    event_id: int
    tags_added: list[str] = Field(description="这条备注带来的标签（维度:值）")
