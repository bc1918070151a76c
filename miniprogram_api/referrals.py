"""口碑银行 in the mini program: my code and share images, my referees, my credits, and
redemption requests; a friend's code typed in attributes me to them."""

from __future__ import annotations

from app.core.extensions import db
from app.schemas import referrals as shapes
from app.schemas.base import Page
from app.schemas.pagination import page_body
from app.schemas.serializers import iso
from app.schemas.spec import MINI, endpoint
from app.services.referrals import bank, ledger, reads, redemptions
from miniprogram_api import bp, current_homeowner

TAG = "口碑银行"


@bp.get("/referral")
@endpoint(MINI, ok=shapes.ShareOut, tag=TAG)
def my_referral():
    """我的推荐码：小程序码（scene=r_<code>）、公众号二维码、余额与VIP"""
    card = bank.share(current_homeowner())
    db.session.commit()
    return {
        **{k: getattr(card, k) for k in ("code", "scene", "share_image", "mp_qr_url")},
        **{"balance": card.balance, "signed": card.signed, "vip_since": iso(card.vip_since)},
        "wecom_state": card.scene,
    }


@bp.post("/referrals")
@endpoint(MINI, json=shapes.ClaimIn, ok=shapes.MiniReferralOut, status=201, tag=TAG)
def claim_referral(json: shapes.ClaimIn):
    """填写推荐码：我是被朋友推荐来的"""
    referral = bank.claim(current_homeowner(), json.code, json.device)
    db.session.commit()
    return shapes.mini_referral_json(referral), 201


@bp.get("/referrals")
@endpoint(MINI, query=shapes.PageQuery, ok=Page, tag=TAG)
def my_referrals(query: shapes.PageQuery):
    """我推荐的人（姓名、手机号打码）与进度"""
    rows, cursor = reads.referred_by(current_homeowner().id, query.before, query.limit)
    return page_body([shapes.mini_referral_json(r) for r in rows], cursor)


@bp.get("/credits")
@endpoint(MINI, query=shapes.PageQuery, ok=shapes.CreditsPage, tag=TAG)
def my_credits(query: shapes.PageQuery):
    """我的装修基金：余额与明细（新的在前）"""
    customer_id = current_homeowner().id
    rows, cursor = ledger.entries_page(customer_id, query.before, query.limit)
    body = page_body([shapes.entry_json(r) for r in rows], cursor)
    return {"balance": ledger.balance(customer_id), **body}


@bp.post("/redemptions")
@endpoint(
    MINI, json=shapes.RedemptionIn, ok=shapes.RedemptionOut, status=201, errors=(409,), tag=TAG
)
def request_redemption(json: shapes.RedemptionIn):
    """申请兑换（店长审批后扣除积分）"""
    row = redemptions.request(current_homeowner(), json.item, json.amount)
    db.session.commit()
    return shapes.redemption_json(row), 201
