"""Who may see which customer: a sales rep sees their own, a manager their store's."""

from __future__ import annotations

from sqlalchemy import false, true
from sqlalchemy.sql.elements import ColumnElement

from app.models import Customer, Staff

SEE_ALL = ("admin",)
SEE_STORE = ("manager", "service")


def customer_scope(staff: Staff) -> ColumnElement[bool]:
    """A WHERE clause limiting customers to those `staff` may see (merged ones excluded)."""
    alive = Customer.merged_into_id.is_(None)
    if staff.has_role(*SEE_ALL):
        return alive & true()
    if staff.has_role(*SEE_STORE) and staff.store_id is not None:
        return alive & ((Customer.store_id == staff.store_id) | (Customer.owner_id == staff.id))
    if staff.id is None:
        return false()
    return alive & (Customer.owner_id == staff.id)


def can_see(staff: Staff, customer: Customer) -> bool:
    if customer.merged_into_id is not None:
        return False
    if staff.has_role(*SEE_ALL) or customer.owner_id == staff.id:
        return True
    return (
        staff.has_role(*SEE_STORE)
        and staff.store_id is not None
        and customer.store_id == staff.store_id
    )


def can_see_full_phone(staff: Staff, customer: Customer) -> bool:
    """The whole number is for whoever calls the customer: the owner rep, a manager, admin."""
    return staff.has_role("admin", "manager") or customer.owner_id == staff.id
