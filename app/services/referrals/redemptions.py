"""Redemptions and manual adjustments: the ledger's debits and a manager's corrections.

A homeowner asks (item, amount) in the mini program; the request is refused when the
balance cannot cover it. A manager approves (the debit is written then, with the balance
checked again under the account lock) or rejects. Adjustments carry a reason and an audit row.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.core.database import load_row
from app.core.errors import Conflict
from app.core.extensions import db
from app.models import Customer, Redemption, Staff
from app.models.types import utcnow
from app.services.customers import audit
from app.services.referrals import ledger


def pending_total(customer_id: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(Redemption.amount), 0)).where(
            Redemption.customer_id == customer_id, Redemption.status == "requested"
        )
    )


def request(customer: Customer, item: str, amount: int) -> Redemption:
    """A homeowner's request; InsufficientCredits when the balance (less the requests still
    waiting) cannot cover it."""
    acct = ledger.account(customer.id)
    available = acct.balance - pending_total(customer.id)
    if amount > available:
        raise ledger.InsufficientCredits(
            f"可用积分不足（可用 {max(available, 0)}）", {"amount": "可用积分不足"}
        )
    row = Redemption(customer_id=customer.id, item=item, amount=amount, status="requested", note="")
    db.session.add(row)
    db.session.flush()
    return row


def load(redemption_id: int) -> Redemption:
    return load_row(Redemption, redemption_id, missing="兑换申请不存在")


def decide(redemption: Redemption, approve: bool, note: str, actor: Staff) -> Redemption:
    """Approve (the debit) or reject; Conflict when already decided."""
    db.session.refresh(redemption, with_for_update=True)
    if redemption.status != "requested":
        raise Conflict("该兑换申请已处理")
    if approve:
        ledger.post(
            redemption.customer_id,
            -redemption.amount,
            "redemption",
            reference=f"兑换：{redemption.item}",
            actor=actor,
            redemption_id=redemption.id,
        )
    redemption.status = "approved" if approve else "rejected"
    redemption.note, redemption.approver_id, redemption.decided_at = note, actor.id, utcnow()
    audit.record(
        "redemption.decide",
        "redemption",
        redemption.id,
        actor=actor,
        before={"status": "requested"},
        after={"status": redemption.status, "amount": redemption.amount, "note": note},
    )
    db.session.flush()
    return redemption


def adjust(customer: Customer, amount: int, reason: str, actor: Staff):
    """A manager's correction (either sign), audited; never below zero."""
    if amount == 0:
        raise Conflict("调整积分不能为 0", {"amount": "不能为 0"})
    before = ledger.balance(customer.id)
    entry = ledger.post(customer.id, amount, "adjustment", reference=reason, actor=actor)
    audit.record(
        "credits.adjust",
        "customer",
        customer.id,
        actor=actor,
        before={"balance": before},
        after={"balance": entry.balance_after, "amount": amount, "reason": reason},
    )
    return entry
