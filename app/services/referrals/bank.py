"""The operations the mini program and the staff API call (each one service call)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.core.database import load_row
from app.core.errors import Conflict, Invalid
from app.core.extensions import db
from app.models import CreditAccount, Customer, Referral, Staff
from app.services.customers import audit
from app.services.referrals import attribution, codes, lifecycle, review, vip
from app.services.value import inputs


@dataclass(frozen=True)
class Share:
    code: str
    scene: str
    share_image: str | None
    mp_qr_url: str | None
    balance: int
    signed: int
    vip_since: datetime | None


def share(customer: Customer) -> Share:
    """My code, its mini-program code and official-account QR, my balance and VIP."""
    row = codes.of(customer)
    acct = db.session.get(CreditAccount, customer.id)
    return Share(
        code=row.code,
        scene=codes.scene(row),
        share_image=codes.mini_image(row),
        mp_qr_url=codes.mp_qr_url(row),
        balance=acct.balance if acct else 0,
        signed=inputs.signed_referral_count(customer.id),
        vip_since=acct.vip_since if acct else None,
    )


def claim(customer: Customer, code: str, device: str | None) -> Referral:
    """The homeowner typed a friend's code (Invalid naming the field for an unknown one)."""
    referral = attribution.attribute(customer, code, "mini", device=device or "")
    if referral is None:
        raise Invalid("推荐码不存在", {"code": "推荐码不存在"})
    return referral


def decide_review(referral: Referral, release: bool, note: str, actor: Staff) -> Referral:
    """A manager's decision on a held referral; released, it earns what its step earned."""
    db.session.refresh(referral, with_for_update=True)
    review.decide(referral, release, note, actor)
    if release:
        lifecycle.release(referral)
    db.session.flush()
    return referral


def decide_vip(customer: Customer, keep: bool, actor: Staff) -> CreditAccount:
    """A manager's decision on a VIP flagged after a reversal (Conflict when not flagged)."""
    acct = load_row(CreditAccount, customer.id, missing="该客户没有积分账户")
    if acct.vip_review_at is None:
        raise Conflict("该客户没有待复核的VIP")
    before = {"vip_since": acct.vip_since.isoformat() if acct.vip_since else None}
    vip.clear_review(customer.id, keep)
    audit.record(
        "referral.vip_review",
        "customer",
        customer.id,
        actor=actor,
        before=before,
        after={"keep": keep},
    )
    db.session.flush()
    return acct
