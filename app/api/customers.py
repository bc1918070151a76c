"""Customers: list and search, detail, timeline (staff API)."""

from __future__ import annotations

from app.api import bp, current_staff
from app.schemas.customers import (
    CustomerDetail,
    CustomerPage,
    CustomerQuery,
    TimelinePage,
    TimelineQuery,
)
from app.schemas.pagination import page_body
from app.schemas.serializers import customer_json, event_json
from app.schemas.spec import API, endpoint
from app.services.customers import customers, directory, timeline
from app.services.value import value

TAG = "客户"


@bp.get("/customers")
@endpoint(API, query=CustomerQuery, ok=CustomerPage, tag=TAG)
def list_customers(query: CustomerQuery):
    """客户列表（新的在前）：按身份 identity、姓名昵称手机号 q、标签 tag 搜索；销售只看到自己的客户"""
    staff = current_staff()
    rows, next_cursor = customers.search_page(
        staff,
        query.identity or "",
        query.q or "",
        query.before,
        query.limit,
        value.level_clause(query.value),  # ?value=high|normal|low
        directory.tag_clause(query.tag),  # ?tag=维度:值
    )
    return page_body([customer_json(c, staff) for c in rows], next_cursor)


@bp.get("/customers/<int:customer_id>")
@endpoint(API, ok=CustomerDetail, errors=(404,), tag=TAG)
def get_customer(customer_id: int):
    """客户详情：档案、身份、标签、预算"""
    staff = current_staff()
    return customer_json(customers.load_for_staff(staff, customer_id), staff, detail=True)


@bp.get("/customers/<int:customer_id>/timeline")
@endpoint(API, query=TimelineQuery, ok=TimelinePage, errors=(404,), tag=TAG)
def customer_timeline(customer_id: int, query: TimelineQuery):
    """客户时间线（新的在前）：消息、事件、备注、项目动态"""
    customer = customers.load_for_staff(current_staff(), customer_id)
    rows, next_cursor = timeline.page(customer.id, query.before, query.limit)
    return page_body([event_json(e) for e in rows], next_cursor)
