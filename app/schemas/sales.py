"""Shapes of the sales workflow: lead forms, assignment rules, reps, follow-ups, the pool."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from app.models import FOLLOWUP_METHODS
from app.schemas.base import Flag, Integer, Out, Shape, Text
from app.schemas.customers import Named

Method = Literal[FOLLOWUP_METHODS]  # type: ignore[valid-type]


class LeadIn(Shape):
    """预约量房 / 获取报价 (the mini program's form)."""

    kind: Literal["measure", "quote"] = Field("measure", title="类型 kind")
    name: Text(50, 0) = Field("", title="称呼")
    phone: Text(20, 0) = Field("", title="手机号（手动填写）")
    phone_code: Text(128) | None = Field(None, title="手机号授权 code（getPhoneNumber）")
    community: Text(100, 0) = Field("", title="小区")
    area: Text(20, 0) = Field("", title="面积（平方米）")
    budget: Text(30, 0) = Field("", title="预算")
    style: Text(30, 0) = Field("", title="风格")
    note: Text(500, 0) = Field("", title="备注")


class LeadOut(Out):
    customer_id: int
    duplicate: bool


class RuleIn(Shape):
    name: Text(100) = Field(title="规则名称")
    position: Integer(0, 100000) = Field(100, title="顺序（小的先匹配）")
    active: Flag = Field(True, title="启用")
    store_id: Integer(1, 2**31 - 1) | None = Field(None, title="门店")
    city: Text(50, 0) = Field("", title="城市")
    region: Text(50, 0) = Field("", title="区域")
    source: Text(100, 0) = Field("", title="来源渠道（mp、mini、form、mp_qr:场景、wecom:state）")
    tags: list[Text(60)] = Field([], max_length=10, title="标签（维度:值，全部满足）")
    rep_ids: list[Integer(1, 2**31 - 1)] = Field(min_length=1, max_length=200, title="销售顾问")


class RulePatch(Shape):
    name: Text(100) | None = None
    position: Integer(0, 100000) | None = None
    active: Flag | None = None
    store_id: Integer(1, 2**31 - 1) | None = None
    city: Text(50, 0) | None = None
    region: Text(50, 0) | None = None
    source: Text(100, 0) | None = None
    tags: list[Text(60)] | None = Field(None, max_length=10)
    rep_ids: list[Integer(1, 2**31 - 1)] | None = Field(None, min_length=1, max_length=200)


class Rule(Out):
    id: int
    name: str
    position: int
    active: bool
    store_id: int | None = None
    city: str
    region: str
    source: str
    tags: list[str]
    rep_ids: list[int]


class RuleList(Out):
    items: list[Rule]


class RepIn(Shape):
    off: Flag | None = Field(None, title="休息（不接新线索）")
    daily_cap: Integer(0, 10000) | None = Field(None, title="每日新线索上限（空为不限）")


class Rep(Out):
    staff_id: int
    off: bool
    daily_cap: int | None = None


class FollowUpIn(Shape):
    method: Method = Field(title="方式")
    content: Text(2000) = Field(title="内容")
    result: Text(500, 0) = Field("", title="结果")
    next_at: datetime | None = Field(None, title="下次跟进时间（ISO 8601；不带时区按 TIMEZONE）")


class FollowUp(Out):
    id: int
    customer: Named
    staff_id: int
    method: str
    content: str
    result: str
    next_at: str | None = None
    created_at: str | None = None


class FollowUpList(Out):
    items: list[FollowUp]


class PoolLead(Out):
    customer: Named
    pooled_at: str | None = None
    reason: str
    claimable: bool


class PoolList(Out):
    items: list[PoolLead]
    claims_left: int


class AssignIn(Shape):
    staff_id: Integer(1, 2**31 - 1) = Field(title="销售顾问")


class LeadState(Out):
    customer_id: int
    state: str
    owner_id: int | None = None
