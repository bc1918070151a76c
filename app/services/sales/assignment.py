"""Who gets a new lead: the rules in order, round-robin within a rule's group.

A rule matches on store, city or region, source channel (a QR scene `mp_qr:<scene>` or a
contact-way state `wecom:<state>` included) and intent tags; its group takes turns, skipping
reps who are inactive, off (SalesRep.off) or at their daily cap. The rule's row is locked
while its next rep is chosen (SELECT … FOR UPDATE on PostgreSQL), so concurrent leads take
turns exactly. A customer already bound to a rep through WeCom keeps that rep. No rule
with a free rep: a task for the store's managers (the admins when there is no store).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.core.errors import Invalid
from app.core.extensions import db
from app.models import AssignRule, Customer, CustomerTag, Lead, SalesRep, Staff, Store, Tag
from app.models.types import utcnow
from app.services.customers import customers
from app.services.notices import outbox, tasks
from app.services.sales import leads


def on_lead_created(customer_id: int, _source: str = "") -> Lead | None:
    """Hook "lead_created": assign the new customer (nothing when already assigned)."""
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        return None
    return assign(customers.resolve(customer))


def assign(customer: Customer, now: datetime | None = None) -> Lead:
    now = now or utcnow()
    lead = leads.ensure(customer, lock=True)
    if lead.assigned_at is not None:
        return lead
    if customer.owner_id is not None:  # bound through WeCom (add_external_contact)
        rep = db.session.get(Staff, customer.owner_id)
        leads.give(lead, customer, rep, now)
        leads.record_move(customer, "bound", to=rep, reason="企业微信添加好友", now=now)
        return lead
    for rule in matching_rules(customer):
        rep = next_rep(rule, now)
        if rep is not None:
            leads.give(lead, customer, rep, now)
            lead.rule_id = rule.id
            move = leads.record_move(customer, "assign", to=rep, rule=rule, now=now)
            db.session.flush()
            _notify(rep, customer, lead, move.id)
            return lead
    _ask_managers(customer, lead)
    return lead


def _notify(rep: Staff, customer: Customer, lead: Lead, move_id: int) -> None:
    outbox.notify_staff(
        "lead-assigned",
        rep,
        f"lead-move:{move_id}",
        customer_id=customer.id,
        customer_name=customer.display_name,
        source=lead.source or "未知",
    )


def _tags_of(customer: Customer) -> set[str]:
    rows = db.session.execute(
        select(Tag.dimension, Tag.value)
        .join(CustomerTag, CustomerTag.tag_id == Tag.id)
        .where(CustomerTag.customer_id == customer.id, CustomerTag.removed_at.is_(None))
    ).all()
    return {f"{d}:{v}" for d, v in rows}


def source_matches(wanted: str, source: str) -> bool:
    """`mp_qr` matches every QR scene (mp_qr:…), `mp_qr:expo` that scene only."""
    return not wanted or source == wanted or source.startswith(wanted.rstrip(":") + ":")


def matches(rule: AssignRule, customer: Customer, store: Store | None, tags: set[str]) -> bool:
    if rule.store_id is not None and rule.store_id != customer.store_id:
        return False
    city = customer.city or (store.city if store else "")
    if rule.city and rule.city != city:
        return False
    if rule.region and rule.region != (store.region if store else ""):
        return False
    if not source_matches(rule.source, customer.source_channel or ""):
        return False
    return set(rule.tags or ()) <= tags


def matching_rules(customer: Customer) -> list[AssignRule]:
    rules = db.session.scalars(
        select(AssignRule).where(AssignRule.active).order_by(AssignRule.position, AssignRule.id)
    ).all()
    store = db.session.get(Store, customer.store_id) if customer.store_id else None
    tags = _tags_of(customer) if any(r.tags for r in rules) else set()
    return [r for r in rules if matches(r, customer, store, tags)]


def _eligible(rep_ids: list[int], now: datetime) -> set[int]:
    """The reps of `rep_ids` who are active, not off and under their daily cap."""
    staff = db.session.execute(
        select(Staff.id, SalesRep.off, SalesRep.daily_cap)
        .outerjoin(SalesRep, SalesRep.staff_id == Staff.id)
        .where(Staff.id.in_(rep_ids), Staff.active)
    ).all()
    capped = [row.id for row in staff if row.daily_cap is not None]
    today = leads.counts_today(capped, ("assign",), now)
    return {
        row.id
        for row in staff
        if not row.off and (row.daily_cap is None or today.get(row.id, 0) < row.daily_cap)
    }


def next_rep(rule: AssignRule, now: datetime) -> Staff | None:
    """The rule's next eligible rep after its cursor, the cursor moved to them (the rule's
    row stays locked until the caller commits)."""
    locked = db.session.scalars(
        select(AssignRule)
        .where(AssignRule.id == rule.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    order = [int(i) for i in locked.rep_ids or ()]
    if not order:
        return None
    eligible = _eligible(order, now)
    start = order.index(locked.cursor_staff_id) + 1 if locked.cursor_staff_id in order else 0
    for offset in range(len(order)):
        candidate = order[(start + offset) % len(order)]
        if candidate in eligible:
            locked.cursor_staff_id = candidate
            return db.session.get(Staff, candidate)
    return None


def _managers(customer: Customer) -> list[Staff]:
    query = select(Staff).where(Staff.active).order_by(Staff.id)
    rows = db.session.scalars(query).all()
    if customer.store_id is not None:
        found = [s for s in rows if s.store_id == customer.store_id and s.has_role("manager")]
        if found:
            return found
    return [s for s in rows if s.has_role("admin")]


def _ask_managers(customer: Customer, lead: Lead) -> None:
    """No rule could place the lead: each manager of its store gets a task (once)."""
    lead.state = "unassigned"
    for manager in _managers(customer):
        tasks.create(
            "lead-unassigned",
            f"新线索待分配：{customer.display_name}",
            staff_id=manager.id,
            customer_id=customer.id,
            text=f"没有匹配的分配规则（来源：{lead.source or '未知'}），请指定负责的销售顾问。",
            dedupe_key=f"lead-unassigned:{customer.id}:{manager.id}",
        )


def assign_by(actor: Staff, customer: Customer, rep: Staff, now: datetime | None = None) -> Lead:
    """A manager hands the lead to `rep` (the answer to a lead-unassigned task)."""
    if not rep.active or not rep.has_role("sales", "manager"):
        raise Invalid("只能分配给在职的销售顾问", {"staff_id": "只能分配给在职的销售顾问"})
    if not actor.has_role("admin") and rep.store_id != actor.store_id:
        # A store's manager hands leads to their own reps, not into another store's.
        raise Invalid("只能分配给本门店的销售顾问", {"staff_id": "只能分配给本门店的销售顾问"})
    now = now or utcnow()
    lead = leads.ensure(customer, lock=True)
    previous = db.session.get(Staff, lead.owner_id) if lead.owner_id else None
    leads.give(lead, customer, rep, now)
    move = leads.record_move(customer, "manual", to=rep, source=previous, actor=actor, now=now)
    db.session.flush()
    _notify(rep, customer, lead, move.id)
    return lead
