"""Shapes of 口碑银行 (referrals, credits, redemptions) for the mini program and the staff
API, and their serializers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.models import (
    REFERRAL_STATUS_LABELS,
    STEP_LABELS,
    CreditEntry,
    Customer,
    Redemption,
    Referral,
)
from app.schemas.base import Flag, Id, Integer, Out, Query, Shape, Text
from app.schemas.serializers import iso
from app.services.customers import phones
from app.services.referrals import attribution, review, steps

Status = Literal["attributed", "held", "rejected", "not_attributed", "void"]
Step = Literal["registered", "measured", "signed", "completed"]
assert set(Status.__args__) == set(REFERRAL_STATUS_LABELS)
assert set(Step.__args__) == set(STEP_LABELS)
Credits = Integer(1, 10**8, title="积分")


# -- requests ------------------------------------------------------------------------------
class PageQuery(Query):
    before: Id | None = Field(None, title="游标 before")
    limit: Integer(1, 100, title="每页条数 limit") = 20


class ClaimIn(Shape):
    code: Text(20, pattern=r"^(r_)?[A-Za-z0-9]{4,16}$") = Field(title="推荐码")
    device: Text(64) | None = Field(None, title="设备标识")


class RedemptionIn(Shape):
    item: Text(100) = Field(title="兑换物品")
    amount: Credits = Field(title="积分")


class ReferralQuery(PageQuery):
    status: Status | None = Field(None, title="状态")
    step: Step | None = Field(None, title="进度")
    referrer_id: Id | None = Field(None, title="推荐人")
    referee_id: Id | None = Field(None, title="被推荐人")


class ReviewIn(Shape):
    decision: Literal["release", "reject"] = Field(title="审核结果")
    note: Text(500, min_length=0) = Field("", title="备注")


class RedemptionQuery(PageQuery):
    status: Literal["requested", "approved", "rejected"] | None = Field(None, title="状态")


class DecisionIn(Shape):
    decision: Literal["approve", "reject"] = Field(title="审批结果")
    note: Text(500, min_length=0) = Field("", title="备注")


class AdjustmentIn(Shape):
    amount: Integer(-(10**8), 10**8, title="调整积分") = Field(title="调整积分")
    reason: Text(200) = Field(title="调整原因")


class LeaderboardQuery(Query):
    limit: Integer(1, 100, title="条数 limit") = 20
    flagged: Flag | None = Field(None, title="只看待复核的VIP")


class VipReviewIn(Shape):
    keep: Flag = Field(title="保留VIP")


# -- responses -----------------------------------------------------------------------------
class ShareOut(Out):
    code: str
    scene: str
    share_image: str | None = Field(
        None, description="小程序码 PNG（data URL），微信不可用时为 null"
    )
    mp_qr_url: str | None = Field(None, description="公众号带参二维码地址")
    wecom_state: str = Field(description="企业微信「联系我」的 state")
    balance: int
    signed: int
    vip_since: str | None = None


class MiniReferralOut(Out):
    id: int
    name: str = Field(description="如「张**」")
    phone: str | None = Field(None, description="如「138****5678」")
    step: str
    step_label: str
    status: str
    status_label: str
    reason_label: str = Field("", description="未归属或待审核的原因")
    created_at: str | None


REDACTED = "客服看不到金额（null）"


class CreditEntryOut(Out):
    id: int
    amount: int | None = Field(description=REDACTED)
    kind: str
    reference: str
    balance_after: int
    created_at: str | None


class CreditsPage(Out):
    balance: int
    items: list[CreditEntryOut]
    next_cursor: str | None = None


class RedemptionOut(Out):
    id: int
    customer_id: int
    item: str
    amount: int | None = Field(description=REDACTED)
    status: str
    note: str
    created_at: str | None
    decided_at: str | None = None


class ReferralOut(Out):
    id: int
    referrer_id: int
    referee_id: int
    code: str
    channel: str
    step: str
    step_label: str
    status: str
    status_label: str
    reason: str
    reason_label: str
    attributed_at: str | None
    created_at: str | None


class LeaderOut(Out):
    customer_id: int
    name: str
    signed: int
    balance: int
    vip_since: str | None
    vip_review: str | None = Field(None, description="签约推荐不足时待店长复核的说明")


class Leaderboard(Out):
    items: list[LeaderOut]


class AccountOut(Out):
    customer_id: int
    balance: int
    vip_since: str | None
    vip_review: str | None = None


def mini_referral_json(row: Referral) -> dict:
    referee = row.referee
    return {
        "id": row.id,
        "name": steps.mask_name(referee),
        "phone": phones.masked(referee.phone_enc) if referee else None,
        "step": row.step,
        "step_label": row.step_label,
        "status": row.status,
        "status_label": row.status_label,
        "reason_label": REASON_LABELS.get(row.reason, row.reason),
        "created_at": iso(row.created_at),
    }


def entry_json(row: CreditEntry) -> dict:
    return {
        "id": row.id,
        "amount": row.amount,
        "kind": row.kind,
        "reference": row.reference,
        "balance_after": row.balance_after,
        "created_at": iso(row.created_at),
    }


def redemption_json(row: Redemption) -> dict:
    return {
        "id": row.id,
        "customer_id": row.customer_id,
        "item": row.item,
        "amount": row.amount,
        "status": row.status,
        "note": row.note,
        "created_at": iso(row.created_at),
        "decided_at": iso(row.decided_at),
    }


REASON_LABELS = {**attribution.NOT_ATTRIBUTED, **review.REASONS}
REASON_LABELS.update(self_merge="合并后发现是自我推荐", merged_duplicate="客户合并后重复")


def referral_json(row: Referral) -> dict:
    return {
        "id": row.id,
        "referrer_id": row.referrer_id,
        "referee_id": row.referee_id,
        "code": row.code,
        "channel": row.channel,
        "step": row.step,
        "step_label": row.step_label,
        "status": row.status,
        "status_label": row.status_label,
        "reason": row.reason,
        "reason_label": REASON_LABELS.get(row.reason, row.reason),
        "attributed_at": iso(row.attributed_at),
        "created_at": iso(row.created_at),
    }


def leader_json(leader) -> dict:
    acct = leader.account
    return {
        "customer_id": leader.customer.id,
        "name": leader.customer.display_name,
        "signed": leader.signed,
        "balance": leader.balance,
        "vip_since": iso(acct.vip_since) if acct else None,
        "vip_review": (acct.vip_review_reason or None) if acct and acct.vip_review_at else None,
    }


def account_json(customer: Customer, acct) -> dict:
    return {
        "customer_id": customer.id,
        "balance": acct.balance if acct else 0,
        "vip_since": iso(acct.vip_since) if acct else None,
        "vip_review": (acct.vip_review_reason or None) if acct and acct.vip_review_at else None,
    }
