"""Helpers of the referral tests: people, codes, staff contact and stage moves."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.core.extensions import db
from app.models import CreditEntry, Customer, Notice, Referral
from app.models.types import utcnow
from app.services.customers import customers, phones, stages, timeline
from app.services.referrals import codes, ledger, redemptions


def person(
    name="张三",
    *,
    stage="lead",
    phone: str | None = None,
    address="",
    created_at: datetime | None = None,
    unionid: str | None = None,
) -> Customer:
    customer = Customer(name=name, stage=stage, address=address, created_at=created_at or utcnow())
    if phone:
        _, customer.phone_enc, customer.phone_hash = phones.seal(phone)
    db.session.add(customer)
    db.session.flush()
    if unionid:
        customers.add_identity(customer, "unionid", unionid)
    return customer


def code_of(customer: Customer) -> str:
    return codes.of(customer).code


def contacted(customer: Customer) -> None:
    """A sales rep wrote to the customer (the review rule wants staff contact)."""
    timeline.record(customer, "message", channel="wecom", direction="outbound", actor_type="staff")


def move(customer: Customer, stage: str) -> None:
    stages.change_stage(customer, stage, "test", "测试", allow_backwards=True)
    db.session.flush()


def referred(referrer: Customer, name="李四", **fields) -> tuple[Customer, Referral]:
    """A new lead brought by `referrer`, contacted by staff."""
    from app.services.referrals import attribution

    referee = person(name, **fields)
    referral = attribution.attribute(referee, code_of(referrer), "mini")
    contacted(referee)
    return referee, referral


def entries(customer: Customer) -> list[CreditEntry]:
    query = select(CreditEntry).filter_by(customer_id=customer.id).order_by(CreditEntry.id)
    return list(db.session.scalars(query))


def redeem(customer: Customer, amount: int, manager) -> None:
    """`amount` credits of `customer` redeemed (asked for and approved by `manager`)."""
    redemptions.decide(redemptions.request(customer, "窗帘", amount), True, "", manager)


def balance(customer: Customer) -> int:
    return ledger.balance(customer.id)


def notices(kind: str) -> list[Notice]:
    return list(db.session.scalars(select(Notice).filter_by(kind=kind).order_by(Notice.id)))


def days_ago(days: float) -> datetime:
    return utcnow() - timedelta(days=days)
