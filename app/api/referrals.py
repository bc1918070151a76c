"""口碑银行 (staff API): referrals with filters, review decisions on held referrals,
redemption approval, manual credit adjustments (audited), the referrer leaderboard and a
customer's credits. Decisions and adjustments are for managers and admins."""

from __future__ import annotations

from app.api import bp, current_staff, roles
from app.core.extensions import db
from app.schemas import referrals as shapes
from app.schemas.base import Page
from app.schemas.pagination import page_body
from app.schemas.spec import API, endpoint
from app.services.customers import customers
from app.services.referrals import bank, ledger, reads, redemptions

MANAGERS = roles("admin", "manager", message="只有店长或管理员可以审批")
TAG = "口碑银行"


@bp.get("/referrals")
@endpoint(API, query=shapes.ReferralQuery, ok=Page, tag=TAG)
def list_referrals(query: shapes.ReferralQuery):
    """推荐记录（可按状态、进度、推荐人筛选；新的在前）"""
    filters = query.model_dump(include={"status", "step", "referrer_id", "referee_id"})
    rows, cursor = reads.staff_list(current_staff(), filters, query.before, query.limit)
    return page_body([shapes.referral_json(r) for r in rows], cursor)


@bp.post("/referrals/<int:referral_id>/review")
@endpoint(
    API, json=shapes.ReviewIn, ok=shapes.ReferralOut, errors=(404, 409), allow=MANAGERS, tag=TAG
)
def review_referral(referral_id: int, json: shapes.ReviewIn):
    """审核被暂扣的推荐：放行（补发奖励）或驳回"""
    referral = reads.load_for_staff(current_staff(), referral_id)
    bank.decide_review(referral, json.decision == "release", json.note, current_staff())
    db.session.commit()
    return shapes.referral_json(referral)


@bp.get("/referrals/leaderboard")
@endpoint(API, query=shapes.LeaderboardQuery, ok=shapes.Leaderboard, allow=MANAGERS, tag=TAG)
def referral_leaderboard(query: shapes.LeaderboardQuery):
    """推荐人排行（签约推荐数、余额、VIP、待复核）"""
    leaders = reads.leaderboard(current_staff(), query.limit, bool(query.flagged))
    return {"items": [shapes.leader_json(x) for x in leaders]}


@bp.get("/redemptions")
@endpoint(API, query=shapes.RedemptionQuery, ok=Page, tag=TAG)
def list_redemptions(query: shapes.RedemptionQuery):
    """兑换申请（可按状态筛选；新的在前）"""
    rows, cursor = reads.redemptions(current_staff(), query.status, query.before, query.limit)
    return page_body([shapes.redemption_json(r) for r in rows], cursor)


@bp.post("/redemptions/<int:redemption_id>/decision")
@endpoint(
    API, json=shapes.DecisionIn, ok=shapes.RedemptionOut, errors=(404, 409), allow=MANAGERS, tag=TAG
)
def decide_redemption(redemption_id: int, json: shapes.DecisionIn):
    """审批兑换申请（批准时扣除积分，余额不足则拒绝）"""
    row = redemptions.load(redemption_id)
    customers.load_for_staff(current_staff(), row.customer_id)
    redemptions.decide(row, json.decision == "approve", json.note, current_staff())
    db.session.commit()
    return shapes.redemption_json(row)


@bp.get("/customers/<int:customer_id>/credits")
@endpoint(API, query=shapes.PageQuery, ok=shapes.CreditsPage, errors=(404,), tag=TAG)
def customer_credits(customer_id: int, query: shapes.PageQuery):
    """客户的装修基金余额与明细"""
    customer = customers.load_for_staff(current_staff(), customer_id)
    rows, cursor = ledger.entries_page(customer.id, query.before, query.limit)
    body = page_body([shapes.entry_json(r) for r in rows], cursor)
    return {"balance": ledger.balance(customer.id), **body}


@bp.post("/customers/<int:customer_id>/credits/adjustments")
@endpoint(
    API,
    json=shapes.AdjustmentIn,
    ok=shapes.CreditEntryOut,
    status=201,
    errors=(404, 409),
    allow=MANAGERS,
    tag=TAG,
)
def adjust_credits(customer_id: int, json: shapes.AdjustmentIn):
    """手工调整积分（需填写原因，记入审计日志）"""
    customer = customers.load_for_staff(current_staff(), customer_id)
    entry = redemptions.adjust(customer, json.amount, json.reason, current_staff())
    db.session.commit()
    return shapes.entry_json(entry), 201


@bp.post("/customers/<int:customer_id>/vip-review")
@endpoint(
    API, json=shapes.VipReviewIn, ok=shapes.AccountOut, errors=(404, 409), allow=MANAGERS, tag=TAG
)
def review_vip(customer_id: int, json: shapes.VipReviewIn):
    """复核签约推荐不足三人的VIP：保留或取消"""
    customer = customers.load_for_staff(current_staff(), customer_id)
    acct = bank.decide_vip(customer, json.keep, current_staff())
    db.session.commit()
    return shapes.account_json(customer, acct)
