"""The credit ledger: append-only entries, a balance that is their sum and never negative.

Every entry locks the customer's account row first (SELECT … FOR UPDATE on PostgreSQL;
SQLite has one writer), so `balance_after` follows the entries in order even when events
for one referrer arrive at once. A referral's reward or reversal also carries the unique
key (referral, step, kind, cycle): a concurrent twin gets IntegrityError on the savepoint
and writes nothing.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.core.database import insert_once
from app.core.errors import Conflict
from app.core.extensions import db
from app.models import CreditAccount, CreditEntry, Staff
from app.models.types import utcnow


class InsufficientCredits(Conflict):
    """A debit larger than the balance."""

    code = "insufficient_credits"


def account(customer_id: int, *, lock: bool = True) -> CreditAccount:
    """The customer's account row (created when missing), locked for this transaction."""
    query = select(CreditAccount).where(CreditAccount.customer_id == customer_id)
    if lock:
        query = query.with_for_update()
    row = db.session.scalars(query.execution_options(populate_existing=True)).first()
    if row is not None:
        return row
    insert_once(CreditAccount(customer_id=customer_id, balance=0, vip_review_reason=""))
    return db.session.scalars(query.execution_options(populate_existing=True)).one()


def balance(customer_id: int) -> int:
    row = db.session.get(CreditAccount, customer_id)
    return row.balance if row is not None else 0


def post(
    customer_id: int,
    amount: int,
    kind: str,
    *,
    reference: str = "",
    actor: Staff | str | None = None,
    unique: dict | None = None,
    redemption_id: int | None = None,
) -> CreditEntry | None:
    """Append one entry; InsufficientCredits when it would take the balance under 0.
    With `unique` (referral_id, step, cycle) None when that entry is already there."""
    acct = account(customer_id)
    after = acct.balance + amount
    if after < 0:
        raise InsufficientCredits(
            f"积分余额不足（余额 {acct.balance}，需要 {-amount}）", {"amount": "积分余额不足"}
        )
    entry = CreditEntry(
        customer_id=customer_id,
        amount=amount,
        kind=kind,
        reference=reference[:200],
        actor=actor.name if isinstance(actor, Staff) else (actor or "system"),
        actor_staff_id=actor.id if isinstance(actor, Staff) else None,
        balance_after=after,
        redemption_id=redemption_id,
        created_at=utcnow(),
        **(unique or {}),
    )
    if unique is not None and not insert_once(entry):
        return None
    if unique is None:
        db.session.add(entry)
    acct.balance = after
    db.session.flush()
    return entry


def net(referral_id: int, step: str) -> tuple[int, int]:
    """(rewards, reversals) written for one referral's step."""
    rows = db.session.execute(
        select(CreditEntry.kind, func.count())
        .where(CreditEntry.referral_id == referral_id, CreditEntry.step == step)
        .group_by(CreditEntry.kind)
    ).all()
    counts = dict(rows)
    return counts.get("reward", 0), counts.get("reversal", 0)


def reward(customer_id: int, referral_id: int, step: str, amount: int, reference: str):
    """The step's reward, once per cycle (None when it is already granted and standing)."""
    rewards, reversals = net(referral_id, step)
    if rewards > reversals or amount <= 0:
        return None
    unique = {"referral_id": referral_id, "step": step, "cycle": reversals}
    return post(customer_id, amount, "reward", reference=reference, unique=unique)


def reverse(customer_id: int, referral_id: int, step: str, reference: str):
    """Take back the step's standing reward (None when none stands). A reversal may not
    leave the balance negative: it takes back what is left (credits already redeemed
    stay redeemed) and says so in its reference."""
    rewards, reversals = net(referral_id, step)
    if rewards <= reversals:
        return None
    granted = db.session.scalar(
        select(CreditEntry.amount).where(
            CreditEntry.referral_id == referral_id,
            CreditEntry.step == step,
            CreditEntry.kind == "reward",
            CreditEntry.cycle == reversals,
        )
    )
    acct = account(customer_id)
    amount = min(granted or 0, acct.balance)
    if amount < (granted or 0):
        reference = f"{reference}（已兑换部分无法扣回 {granted - amount}）"
    unique = {"referral_id": referral_id, "step": step, "cycle": reversals}
    return post(customer_id, -amount, "reversal", reference=reference, unique=unique)


def entries_page(customer_id: int, before: int | None, limit: int):
    """Newest-first entries of one customer, keyset-paginated on id."""
    query = select(CreditEntry).where(CreditEntry.customer_id == customer_id)
    if before:
        query = query.where(CreditEntry.id < before)
    rows = list(db.session.scalars(query.order_by(CreditEntry.id.desc()).limit(limit + 1)))
    cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], cursor
