"""What people read: a homeowner's referrals and credits, the staff list, the leaderboard."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.core.database import load_row
from app.core.extensions import db
from app.models import CreditAccount, Customer, Redemption, Referral, Staff
from app.services.customers import access
from app.services.value.inputs import SIGNED_STEPS


def _page(query, column, before: int | None, limit: int) -> tuple[list, str | None]:
    if before:
        query = query.where(column < before)
    rows = list(db.session.scalars(query.order_by(column.desc()).limit(limit + 1)))
    return rows[:limit], (str(rows[limit - 1].id) if len(rows) > limit else None)


def referred_by(customer_id: int, before: int | None, limit: int):
    """The homeowner's referees, newest first (refusals included, with their reason)."""
    query = select(Referral).where(Referral.referrer_id == customer_id)
    return _page(query, Referral.id, before, limit)


def staff_list(staff: Staff, filters: dict, before: int | None, limit: int):
    """Referrals whose referee `staff` may see, filtered by status, step, referrer."""
    query = select(Referral).where(
        Referral.referee_id.in_(select(Customer.id).where(access.customer_scope(staff)))
    )
    for name in ("status", "step", "referrer_id", "referee_id"):
        if filters.get(name) is not None:
            query = query.where(getattr(Referral, name) == filters[name])
    return _page(query, Referral.id, before, limit)


def load_for_staff(staff: Staff, referral_id: int) -> Referral:
    scope = Referral.referee_id.in_(select(Customer.id).where(access.customer_scope(staff)))
    return load_row(Referral, referral_id, scope, missing="推荐记录不存在")


def redemptions(staff: Staff, status: str | None, before: int | None, limit: int):
    query = select(Redemption).where(
        Redemption.customer_id.in_(select(Customer.id).where(access.customer_scope(staff)))
    )
    if status:
        query = query.where(Redemption.status == status)
    return _page(query, Redemption.id, before, limit)


@dataclass(frozen=True)
class Leader:
    customer: Customer
    signed: int
    balance: int
    account: CreditAccount | None


def leaderboard(staff: Staff, limit: int, flagged: bool = False) -> list[Leader]:
    """Referrers by signed referrals (then balance), within what `staff` may see; only
    the VIPs flagged for review with `flagged`."""
    signed = (
        select(Referral.referrer_id, func.count(Referral.id).label("signed"))
        .where(Referral.status == "attributed", Referral.step.in_(SIGNED_STEPS))
        .group_by(Referral.referrer_id)
        .subquery()
    )
    query = (
        select(Customer, func.coalesce(signed.c.signed, 0), CreditAccount)
        .outerjoin(signed, signed.c.referrer_id == Customer.id)
        .outerjoin(CreditAccount, CreditAccount.customer_id == Customer.id)
        .where(access.customer_scope(staff))
        .where((signed.c.signed > 0) | (CreditAccount.balance > 0))
    )
    if flagged:
        query = query.where(CreditAccount.vip_review_at.is_not(None))
    query = query.order_by(
        func.coalesce(signed.c.signed, 0).desc(),
        func.coalesce(CreditAccount.balance, 0).desc(),
        Customer.id,
    ).limit(limit)
    return [
        Leader(c, n, acct.balance if acct else 0, acct) for c, n, acct in db.session.execute(query)
    ]
