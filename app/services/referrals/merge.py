"""Hook "customers_merged": referrals, redemptions and credits follow the kept customer;
a referral the merge reveals as a self-referral is void and its rewards reversed."""

from __future__ import annotations

from sqlalchemy import select, update

from app.core.extensions import db
from app.models import CreditAccount, Redemption, Referral
from app.services.referrals import ledger, lifecycle


def on_merge(source_id: int, target_id: int) -> None:
    _one_live_referee(source_id, target_id)
    for column in (Referral.referrer_id, Referral.referee_id):
        db.session.execute(
            update(Referral).where(column == source_id).values({column.key: target_id}),
            execution_options={"synchronize_session": False},
        )
    db.session.execute(
        update(Redemption).where(Redemption.customer_id == source_id).values(customer_id=target_id),
        execution_options={"synchronize_session": False},
    )
    _move_balance(source_id, target_id)
    db.session.expire_all()
    selfish = select(Referral).where(
        Referral.referrer_id == target_id,
        Referral.referee_id == target_id,
        Referral.status.in_(("attributed", "held")),
    )
    for referral in db.session.scalars(selfish).all():
        lifecycle.void(referral, "self_merge")


def _one_live_referee(source_id: int, target_id: int) -> None:
    """Both were referred: the kept customer's referral stays live, the other is void."""
    mine = select(Referral).where(
        Referral.referee_id == source_id, Referral.status.in_(("attributed", "held"))
    )
    theirs = select(Referral.id).where(
        Referral.referee_id == target_id, Referral.status.in_(("attributed", "held"))
    )
    if db.session.scalar(theirs) is None:
        return
    for referral in db.session.scalars(mine).all():
        lifecycle.void(referral, "merged_duplicate")


def _move_balance(source_id: int, target_id: int) -> None:
    """The source's balance moves by two entries (out of one, into the other); VIP too."""
    source = db.session.get(CreditAccount, source_id)
    if source is None:
        return
    amount = ledger.account(source_id).balance
    if amount:
        note = f"客户合并：转入客户 {target_id}"
        ledger.post(source_id, -amount, "adjustment", reference=note, actor="merge")
        ledger.post(
            target_id,
            amount,
            "adjustment",
            reference=f"客户合并：来自客户 {source_id}",
            actor="merge",
        )
    target = ledger.account(target_id)
    if source.vip_since and (target.vip_since is None or source.vip_since < target.vip_since):
        target.vip_since = source.vip_since
