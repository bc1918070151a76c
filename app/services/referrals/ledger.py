"""The credit ledger: append-only entries, a balance that is their sum and never negative.

Every entry locks the customer's account row first (SELECT … FOR UPDATE on PostgreSQL, or
the stage event's UPDATE … RETURNING in `reward_now`; SQLite has one writer), so
`balance_after` follows the entries in order even when events for one referrer arrive at
once. A referral's reward or reversal also carries the unique key (referral, step, kind,
cycle): a concurrent twin's INSERT … ON CONFLICT DO NOTHING returns no row and it writes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import make_transient_to_detached

from app.core import prebuilt
from app.core.database import expire_loaded, insert_new_statement, insert_once
from app.core.errors import Conflict, Invalid
from app.core.extensions import db
from app.models import CreditAccount, CreditEntry, Staff
from app.models.types import UTCDateTime, utcnow


class InsufficientCredits(Conflict):
    """A debit larger than the balance."""

    code = "insufficient_credits"


# The balance columns are INTEGER: past this PostgreSQL refuses the row (SQLite would take
# it), so the ledger refuses first, alike on both.
MAX_BALANCE = 2**31 - 1


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
    if after > MAX_BALANCE:
        raise Invalid(f"积分余额不能超过 {MAX_BALANCE}", {"amount": "调整后积分余额超过上限"})
    values = _values(customer_id, amount, kind, reference, actor, after)
    values.update(redemption_id=redemption_id, **(unique or _NOT_UNIQUE))
    new_id = db.session.execute(_INSERT_ONCE, values).scalar()
    if new_id is None:  # a concurrent twin wrote this reward or reversal first
        return None
    acct.balance = after
    entry = CreditEntry(id=new_id, **values)
    make_transient_to_detached(entry)
    db.session.add(entry)
    return entry


_NOT_UNIQUE = {"referral_id": None, "step": None, "cycle": None}


def _values(customer_id: int, amount: int, kind: str, reference: str, actor, after: int):
    return {
        "customer_id": customer_id,
        "amount": amount,
        "kind": kind,
        "reference": reference[:200],
        "actor": actor.name if isinstance(actor, Staff) else (actor or "system"),
        "actor_staff_id": actor.id if isinstance(actor, Staff) else None,
        "balance_after": after,
        "redemption_id": None,
        "created_at": utcnow(),
    }


# One round trip, on PostgreSQL and SQLite alike: a twin of a referral's reward or
# reversal (the unique key) gets no row back and writes nothing; a savepoint would cost
# two more round trips on the busiest write of the ledger.
_COLUMNS = (
    "customer_id",
    "amount",
    "kind",
    "reference",
    "actor",
    "actor_staff_id",
    "balance_after",
    "redemption_id",
    "created_at",
    "referral_id",
    "step",
    "cycle",
)
_INSERT_ONCE = insert_new_statement(
    CreditEntry.__table__, _COLUMNS, ("referral_id", "step", "kind", "cycle")
)


def net(referral_id: int, step: str) -> tuple[int, int, int]:
    """(rewards, reversals, held) written for one referral's step: held is what its
    entries add up to, the credits the referrer still has from it."""
    row = db.session.execute(
        select(
            func.count().filter(CreditEntry.kind == "reward"),
            func.count().filter(CreditEntry.kind == "reversal"),
            func.coalesce(func.sum(CreditEntry.amount), 0),
        ).where(CreditEntry.referral_id == referral_id, CreditEntry.step == step)
    ).one()
    return row[0], row[1], row[2]


def due(amount: int, held: int, reference: str) -> tuple[int, str]:
    """What a step's reward pays now, and its reference. A reward cancelled after its
    credits were redeemed could not all be taken back (`reverse`); what the referrer
    still holds of the step counts toward the reward when the referral signs again, else
    cancel-and-sign-again would pay the step twice."""
    pay = amount - max(held, 0)
    if 0 < pay < amount:
        reference = f"{reference}（已扣除此前取消时未能扣回的 {amount - pay}）"
    return pay, reference


def reward(customer_id: int, referral_id: int, step: str, amount: int, reference: str):
    """The step's reward, once per cycle (None when it is already granted and standing,
    or what the referrer still holds of it covers it: `due`)."""
    rewards, reversals, held = net(referral_id, step)
    if rewards > reversals or amount <= 0:
        return None
    amount, reference = due(amount, held, reference)
    if amount <= 0:
        return None
    unique = {"referral_id": referral_id, "step": step, "cycle": reversals}
    return post(customer_id, amount, "reward", reference=reference, unique=unique)


def reverse(customer_id: int, referral_id: int, step: str, reference: str):
    """Take back the step's standing reward (None when none stands). A reversal may not
    leave the balance negative: it takes back what is left (credits already redeemed
    stay redeemed) and says so in its reference."""
    rewards, reversals, _held = net(referral_id, step)
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


@dataclass(frozen=True)
class Credited:
    """A reward written by `reward_now`, and the account's VIP marks as it was locked."""

    cycle: int
    amount: int
    balance_after: int
    vip_since: object
    vip_review_at: object


def reward_now(
    customer_id: int, referral_id: int, step: str, amount: int, reference: str, first=()
):
    """`reward` for the stage event's hot path, in prebuilt statements on the session's
    connection (the ORM cost more CPU than the database spends): the same rules, locks
    and unique key; the session's copy of the account is expired. None when the step's
    reward stands (or a concurrent twin wrote it). `first`: the caller's writes, sent in
    the same round trip as the first read (prebuilt.execute)."""
    net = prebuilt.execute(_NET, {"referral_id": referral_id, "step": step}, first=first)
    rewards, reversals, held = net[0]
    rewards, reversals = rewards or 0, reversals or 0
    if rewards > reversals or amount <= 0:
        return None
    amount, reference = due(amount, held or 0, reference)
    if amount <= 0:
        return None
    # One statement locks the account and adds the amount (a reward is never negative):
    # balance_after follows the entries in order, as in `post`.
    params = {"customer_id": customer_id, "amount": amount, "now": utcnow()}
    rows = prebuilt.execute(_ADD, params)
    if not rows:  # the first credit: the row is created (a twin may win), then added to
        account(customer_id)
        rows = prebuilt.execute(_ADD, params)
    balance_after, vip_since, vip_review_at = rows[0]
    values = _values(customer_id, amount, "reward", reference, None, balance_after)
    values.update(referral_id=referral_id, step=step, cycle=reversals)
    if not prebuilt.execute(_INSERT_ONCE_NOW, values):  # a twin's: take it off again
        prebuilt.execute(_ADD, {**params, "amount": -amount})
        return None
    expire_loaded(CreditAccount, customer_id)
    return Credited(reversals, amount, balance_after, vip_since, vip_review_at)


_NET = prebuilt.Statement(
    "SELECT sum(CASE kind WHEN 'reward' THEN 1 ELSE 0 END),"
    " sum(CASE kind WHEN 'reversal' THEN 1 ELSE 0 END), sum(amount)"
    " FROM credit_entries WHERE referral_id = :referral_id AND step = :step"
)
_ADD = prebuilt.Statement(
    "UPDATE credit_accounts SET balance = balance + :amount, updated_at = :now"
    " WHERE customer_id = :customer_id RETURNING balance, vip_since, vip_review_at",
    bindparam("now", type_=UTCDateTime),
)
_INSERT_ONCE_NOW = prebuilt.Statement(_INSERT_ONCE)


def entries_page(customer_id: int, before: int | None, limit: int):
    """Newest-first entries of one customer, keyset-paginated on id."""
    query = select(CreditEntry).where(CreditEntry.customer_id == customer_id)
    if before:
        query = query.where(CreditEntry.id < before)
    rows = list(db.session.scalars(query.order_by(CreditEntry.id.desc()).limit(limit + 1)))
    cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], cursor
