"""Who may see which customer, in one place: the staff API and the console both obey it.

| role | sees |
|---|---|
| admin | every customer |
| manager (店长) | their store's customers (and any they own) |
| sales (销售顾问) | the customers they own |
| designer, pm, supervisor | the customers of the projects they are on |
| service (客服) | every customer, but no money figures (budgets, contract amounts) |

A staff member with several roles sees the union. Merged-away customers are seen by no one
(their rows live on in the customer they were merged into). Whoever may see a customer may
work on it (notes, tags, stage, replies); what is more is checked by role where it is done.
Source: issue 15, "Who sees what, in one place".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from app.core.extensions import db
from app.models import Customer, Project, Staff

SEE_ALL = ("admin", "service")
SEE_STORE = ("manager",)
# A project role → the project column that names the staff member.
ON_PROJECT = {
    "designer": Project.designer_id,
    "pm": Project.pm_id,
    "supervisor": Project.supervisor_id,
}
NO_MONEY = ("service",)
MONEY_ROLES = ("admin", "manager", "sales", "designer", "pm", "supervisor")
FULL_PHONE = ("admin", "manager")


def customer_scope(staff: Staff) -> ColumnElement[bool]:
    """A WHERE clause on `customers` limiting them to those `staff` may see.

    Plain indexed predicates (owner_id, store_id, an id list from projects), so the
    customer list can page through it on its own indexes."""
    if staff.id is None or not staff.active:
        return false()
    alive = Customer.merged_into_id.is_(None)
    if staff.has_role(*SEE_ALL):
        return alive & true()
    clauses: list[ColumnElement[bool]] = [Customer.owner_id == staff.id]
    if staff.has_role(*SEE_STORE) and staff.store_id is not None:
        clauses.append(Customer.store_id == staff.store_id)
    columns = [column == staff.id for role, column in ON_PROJECT.items() if staff.has_role(role)]
    if columns:
        clauses.append(Customer.id.in_(select(Project.customer_id).where(or_(*columns))))
    return alive & or_(*clauses)


def can_see(staff: Staff, customer: Customer) -> bool:
    """True when `customer` is inside customer_scope(staff); without a query when the role
    alone decides."""
    if customer.merged_into_id is not None or staff.id is None or not staff.active:
        return False
    if staff.has_role(*SEE_ALL) or customer.owner_id == staff.id:
        return True
    mine = staff.store_id is not None and customer.store_id == staff.store_id
    if mine and staff.has_role(*SEE_STORE):
        return True
    if not any(staff.has_role(role) for role in ON_PROJECT):
        return False
    found = db.session.scalar(
        select(Customer.id).where(Customer.id == customer.id, customer_scope(staff))
    )
    return found is not None


def can_see_money(staff: Staff) -> bool:
    """Budgets, contract amounts and change-order sums: not for customer service alone."""
    return staff.has_role(*MONEY_ROLES)


# Money figures by key, wherever they sit in an answer (a customer, a project, a timeline
# event's payload, a tag's evidence): fen amounts, budgets, stated budget amounts.
MONEY_KEYS = frozenset(
    {
        "amount",
        "amount_fen",
        "approved_changes_fen",
        "budget",
        "budget_amount",
        "contract_amount_fen",
        "contract_fen",
        "total_fen",
    }
)
# Value reasons (app.services.value) whose text quotes an amount: the text without it.
MONEY_REASONS = {"budget": "预算（金额不显示）", "contract": "已签约（金额不显示）"}


def redact_money(staff: Staff | None, data: Any) -> Any:
    """`data` (JSON-like: dicts, lists, scalars) as `staff` may see it: unchanged for a role
    that sees money; otherwise a copy with every money figure (MONEY_KEYS, at any depth)
    None and the value reasons that quote an amount reworded. The one rule the staff API
    (every answer, app.schemas.spec) and the console (pages, timeline payloads) apply."""
    if staff is not None and can_see_money(staff):
        return data
    return _redacted(data)


def _redacted(data: Any) -> Any:
    if isinstance(data, list | tuple):
        return [_redacted(item) for item in data]
    if not isinstance(data, dict):
        return data
    out = {k: None if k in MONEY_KEYS else _redacted(v) for k, v in data.items()}
    if out.get("input") in MONEY_REASONS and "points" in out and "text" in out:
        out["text"], out["evidence"] = MONEY_REASONS[out["input"]], None
    return out


def can_see_full_phone(staff: Staff, customer: Customer) -> bool:
    """The whole number is for whoever calls the customer: the owner rep, a manager, admin."""
    return staff.has_role(*FULL_PHONE) or customer.owner_id == staff.id
