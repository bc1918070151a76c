"""The inputs of a customer's value, each read on its own and scored with its evidence.

Source of the rule: issue #17 (budget tier, contract amount, stage reached, referrals,
engagement in the last 90 days). Each function returns the Reason it contributes, or None
when the input says nothing (no budget known, no contract, still a lead, no referral).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select

from app.core.extensions import db
from app.models import STAGE_LABELS, Customer, CustomerTag, Project, Referral, TimelineEvent
from app.services.customers import stages
from app.services.tagging import tagging
from app.tagging.taxonomy import BUDGET_DIMENSION

ENGAGEMENT_DAYS = 90
BUDGET_POINTS = {"高端": 2, "中端": 1, "经济": -1}
CONTRACT_STEPS_FEN = ((30_000_000, 3), (10_000_000, 2), (1, 1))  # ≥30万, ≥10万, any
SIGNED_POINTS, TALKING_POINTS = 2, 1  # 签约 or later; 已量房, 方案 or 报价
VIP_REFERRALS = 3  # product.md: 3 signed referrals make a VIP
REFERRAL_POINTS = {True: 3, False: 2}  # VIP or not, for one referral or more
SIGNED_STEPS = ("signed", "completed")  # referral steps that count as signed
ACTIVE_MESSAGES, SOME_MESSAGES = 10, 3
ACTIVE_POINTS, SOME_POINTS, SILENT_POINTS = 2, 1, -1


@dataclass(frozen=True)
class Reason:
    """One input's contribution: its name, points, a sentence people read, its evidence."""

    input: str
    points: int
    text: str
    evidence: dict

    def as_dict(self) -> dict:
        return asdict(self)


def _wan(yuan: float) -> str:
    return f"{yuan / 10_000:g}万"


@dataclass
class Facts:
    """What the inputs read of one customer; `gather` reads them for many at once."""

    tags: list[CustomerTag] = field(default_factory=list)  # its active tags, oldest first
    projects: list[tuple[int, int | None]] = field(default_factory=list)  # (id, amount fen)
    signed_referrals: int = 0
    inbound: tuple[int, datetime | None, datetime | None] = (0, None, None)  # count, oldest, latest


def gather(customer_ids: list[int], now: datetime) -> dict[int, Facts]:
    """The Facts of each customer, in four queries whatever their number."""
    facts = {customer_id: Facts() for customer_id in customer_ids}
    active = select(CustomerTag).where(
        CustomerTag.customer_id.in_(customer_ids), CustomerTag.removed_at.is_(None)
    )
    for row in db.session.scalars(active.order_by(CustomerTag.id)):
        facts[row.customer_id].tags.append(row)
    projects = select(Project.customer_id, Project.id, Project.contract_amount_fen)
    for customer_id, project_id, amount in db.session.execute(
        projects.where(Project.customer_id.in_(customer_ids)).order_by(Project.id)
    ):
        facts[customer_id].projects.append((project_id, amount))
    for customer_id, count in signed_referral_counts(customer_ids).items():
        facts[customer_id].signed_referrals = count
    for customer_id, *inbound in _inbound_since(
        customer_ids, now - timedelta(days=ENGAGEMENT_DAYS)
    ):
        facts[customer_id].inbound = tuple(inbound)
    return facts


def budget(customer: Customer, tags: list[CustomerTag]) -> Reason | None:
    """The budget tier a person or the tagger put on the customer (a person's tag first);
    `tags`: its active tags."""
    rows = [r for r in tags if r.tag.dimension == BUDGET_DIMENSION]
    if not rows:
        return None
    row = min(rows, key=lambda r: (r.source != tagging.MANUAL, r.id))
    tier = row.tag.value
    amount = customer.budget_amount if row.source == tagging.AUTO else None
    text = f"预算:{tier}" + (f"（{_wan(amount)}）" if amount else "")
    evidence = {"tag": row.tag.label, "source": row.source, "evidence": row.evidence}
    return Reason("budget", BUDGET_POINTS[tier], text, evidence)


def contract(rows: list[tuple[int, int | None]]) -> Reason | None:
    """The contract amounts of the customer's projects (id, amount in fen), added up."""
    total = sum(amount or 0 for _, amount in rows)
    points = next((p for floor, p in CONTRACT_STEPS_FEN if total >= floor), 0)
    if not points:
        return None
    evidence = {"project_ids": [pid for pid, _ in rows], "amount_fen": total}
    return Reason("contract", points, f"合同金额 {_wan(total / 100)}", evidence)


def stage(customer: Customer) -> Reason | None:
    """How far the customer came: signed (签约 or later), or talking (量房, 方案, 报价)."""
    rank = stages.rank(customer.stage)
    if rank >= stages.rank("contract"):
        points = SIGNED_POINTS
    elif rank >= stages.rank("measured"):
        points = TALKING_POINTS
    else:
        return None
    label = STAGE_LABELS.get(customer.stage, customer.stage)
    return Reason("stage", points, f"阶段:{label}", {"stage": customer.stage})


def signed_referral_count(customer_id: int) -> int:
    """How many people this customer referred have signed a contract: attributed referrals
    (not held, rejected or void) at 已签约 or 已竣工 (app.services.referrals)."""
    return db.session.scalar(_SIGNED_REFERRALS, {"referrer_id": customer_id})


# Built once: it runs on every referral reward (app.services.referrals).
_SIGNED_REFERRALS = select(func.count(Referral.id)).where(
    Referral.referrer_id == bindparam("referrer_id"),
    Referral.status == "attributed",
    Referral.step.in_(SIGNED_STEPS),
)


def signed_referral_counts(customer_ids: list[int]) -> dict[int, int]:
    """signed_referral_count of each of these customers (those with none left out)."""
    query = (
        select(Referral.referrer_id, func.count(Referral.id))
        .where(
            Referral.referrer_id.in_(customer_ids),
            Referral.status == "attributed",
            Referral.step.in_(SIGNED_STEPS),
        )
        .group_by(Referral.referrer_id)
    )
    return dict(db.session.execute(query).tuples().all())


def referrals(count: int) -> Reason | None:
    """Referrals that reached 签约 (`count` of them); 3 or more make a VIP (product.md)."""
    if count <= 0:
        return None
    vip = count >= VIP_REFERRALS
    text = f"推荐签约 {count} 人" + ("（VIP）" if vip else "")
    return Reason("referrals", REFERRAL_POINTS[vip], text, {"signed_referrals": count})


def engagement(
    inbound: tuple[int, datetime | None, datetime | None],
) -> tuple[Reason, datetime | None]:
    """What the customer sent us (inbound events: count, oldest, latest) in the last 90
    days; and when the oldest of them leaves the window (the value may change then without
    any new input)."""
    count, oldest, latest = inbound
    if count >= ACTIVE_MESSAGES:
        points = ACTIVE_POINTS
    elif count >= SOME_MESSAGES:
        points = SOME_POINTS
    else:
        points = SILENT_POINTS if count == 0 else 0
    text = f"近{ENGAGEMENT_DAYS}天 {count} 条消息" if count else f"近{ENGAGEMENT_DAYS}天没有消息"
    evidence = {"inbound_events": count, "last_inbound_at": latest.isoformat() if latest else None}
    expires = oldest + timedelta(days=ENGAGEMENT_DAYS) if oldest else None
    return Reason("engagement", points, text, evidence), expires


def _inbound_since(customer_ids: list[int], since: datetime):
    """(customer id, count, oldest, latest) of the inbound events since `since` of each
    of these customers that has some."""
    return db.session.execute(
        select(
            TimelineEvent.customer_id,
            func.count(TimelineEvent.id),
            func.min(TimelineEvent.occurred_at),
            func.max(TimelineEvent.occurred_at),
        )
        .where(
            TimelineEvent.customer_id.in_(customer_ids),
            TimelineEvent.direction == "inbound",
            TimelineEvent.occurred_at >= since,
        )
        .group_by(TimelineEvent.customer_id)
    ).all()
