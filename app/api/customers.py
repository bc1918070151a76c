"""Customers: list and search, detail, timeline (staff API)."""

from __future__ import annotations

from flask import request

from app.api import bp, current_staff
from app.core.errors import ApiError
from app.core.extensions import db
from app.models import Customer
from app.schemas.pagination import limit_arg, page_body
from app.schemas.serializers import customer_json, event_json
from app.services.customers import access, customers, timeline
from app.services.value import value


def load_customer(customer_id: int) -> Customer:
    """The customer if this staff member may see it; 404 otherwise (existence is not leaked)."""
    customer = db.session.get(Customer, customer_id)
    if customer is None or not access.can_see(current_staff(), customer):
        raise ApiError(404, "not_found", "客户不存在")
    return customer


@bp.get("/customers")
def list_customers():
    staff = current_staff()
    try:
        query = customers.search_query(request.args.get("identity", ""), request.args.get("q", ""))
        query = query.where(access.customer_scope(staff))
        query = value.filter_customers(query, request.args.get("value"))  # ?value=high
        rows, next_cursor = customers.page(query, request.args.get("before"), limit_arg())
    except customers.IdentityError as exc:
        raise ApiError(400, "bad_query", str(exc)) from exc
    return page_body([customer_json(c, staff) for c in rows], next_cursor)


@bp.get("/customers/<int:customer_id>")
def get_customer(customer_id: int):
    return customer_json(load_customer(customer_id), current_staff(), detail=True)


@bp.get("/customers/<int:customer_id>/timeline")
def customer_timeline(customer_id: int):
    customer = load_customer(customer_id)
    try:
        rows, next_cursor = timeline.page(customer.id, request.args.get("before"), limit_arg())
    except timeline.CursorError as exc:
        raise ApiError(400, "bad_cursor", str(exc)) from exc
    return page_body([event_json(e) for e in rows], next_cursor)
