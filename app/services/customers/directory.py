"""The customer list staff work from: filters, search, sorting and keyset paging, always
inside access.customer_scope.

    filters = Filters(stage="lead", tag="风格:北欧", idle_days=7, sort="-updated")
    customers, next_cursor = directory.page(staff, filters, before=None, limit=50)

Search (`q`): an 11-digit phone number is matched exactly through its keyed hash (never
by decrypting), `维度:值` matches a tag, anything else a part of the name or nickname.
"Last contact" is the latest message in or out; a "follow-up" is anything a staff member
did on the customer's timeline (a note, a reply, a stage change, a tag). Both read the
timeline's (customer_id, occurred_at) index, so no column has to be kept in step.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, false, or_, select, tuple_

from app.core.errors import Invalid
from app.core.extensions import db
from app.models import (
    STAGE_CODES,
    VALUE_LABELS,
    Customer,
    CustomerTag,
    CustomerValue,
    Staff,
    Store,
    Tag,
    TimelineEvent,
)
from app.models.types import utcnow
from app.services.customers import access, phones

PAGE_SIZE = 50
MAX_DAYS = 3650
CONTACT_KINDS = ("message",)
# sort key → (column, descending); every sort ends on the id, so the order is total.
SORTS = {
    "-created": (Customer.id, True),
    "created": (Customer.id, False),
    "-updated": (Customer.updated_at, True),
    "name": (Customer.name, False),
}
SORT_LABELS = {
    "-created": "最新创建",
    "created": "最早创建",
    "-updated": "最近更新",
    "name": "姓名",
}


@dataclass(frozen=True)
class Filters:
    q: str = ""
    stage: str = ""
    tag: str = ""
    store_id: int | None = None
    owner_id: int | None = None
    source: str = ""
    contact_days: int | None = None  # a message in or out within the last N days
    idle_days: int | None = None  # no staff follow-up for N days
    sort: str = "-created"

    def without(self, name: str) -> Filters:
        return replace(self, **{name: next(f.default for f in fields(self) if f.name == name)})


@dataclass(frozen=True, slots=True)
class ListCustomer:
    """What the list shows of a customer, as plain values: a page of 50 builds no ORM
    entities (nor their owners and stores), which cost more CPU than the page's SQL."""

    id: int
    name: str
    nickname: str
    stage: str
    phone_enc: str | None
    owner_id: int | None
    store_id: int | None
    updated_at: datetime | None
    owner_name: str | None
    store_name: str | None
    last_contact: datetime | None  # the latest message in or out
    value_level: str | None  # 客户价值 (CustomerValue.level), None before it is computed

    # The entity's own rules (app.models.Customer), read off these plain values.
    stage_label = Customer.stage_label
    display_name = Customer.display_name

    @property
    def value_label(self) -> str | None:
        return VALUE_LABELS.get(self.value_level, self.value_level) if self.value_level else None


TAG_FORMAT = "标签格式为 维度:值，例如 风格:北欧"


def _tag_parts(label: str) -> tuple[str, str] | None:
    dimension, colon, value = label.replace("：", ":").partition(":")
    if not colon or not dimension.strip() or not value.strip():
        return None
    return dimension.strip(), value.strip()


def tag_clause(label: str | None, field: str = "tag"):
    """Customers carrying the tag `维度:值` (None: no condition). A tag no customer has, or
    no rule ever made, matches no one: an empty page, not an error. Invalid when `label` is
    not 维度:值."""
    if not label or not label.strip():
        return None
    parts = _tag_parts(label)
    if parts is None:
        raise Invalid(TAG_FORMAT, {field: TAG_FORMAT})
    found = db.session.scalar(
        select(Tag.id).where(Tag.dimension == parts[0], Tag.value == parts[1])
    )
    return has_tag(found) if found is not None else false()


def has_tag(tag_id: int):
    return exists().where(
        CustomerTag.customer_id == Customer.id,
        CustomerTag.tag_id == tag_id,
        CustomerTag.removed_at.is_(None),
    )


def _events_since(days: int, *conditions):
    since = utcnow() - timedelta(days=days)
    return exists().where(
        TimelineEvent.customer_id == Customer.id, TimelineEvent.occurred_at >= since, *conditions
    )


def contacted_within(days: int):
    return _events_since(days, TimelineEvent.kind.in_(CONTACT_KINDS))


def followed_up_within(days: int):
    return _events_since(days, TimelineEvent.actor_type == "staff")


def _search(q: str):
    q = q.strip()
    digits = q.replace(" ", "").replace("-", "")
    if digits.lstrip("+").isdigit() and len(digits) >= 11:
        try:
            return Customer.phone_hash.in_(phones.lookup_hashes(digits))
        except ValueError:
            pass
    if _tag_parts(q) is not None:
        return tag_clause(q, "q")
    like = "%" + q.replace("\\", "").replace("%", "").replace("_", "") + "%"
    return or_(Customer.name.like(like), Customer.nickname.like(like))


def conditions(staff: Staff, filters: Filters) -> list:
    """The WHERE clauses of a list: the staff member's scope, then each filter."""
    where = [access.customer_scope(staff)]
    if filters.q.strip():
        where.append(_search(filters.q))
    if filters.stage:
        if filters.stage not in STAGE_CODES:
            raise Invalid("阶段无效", {"stage": "没有这个阶段"})
        where.append(Customer.stage == filters.stage)
    if filters.tag.strip():
        where.append(tag_clause(filters.tag, "tag"))
    if filters.store_id:
        where.append(Customer.store_id == filters.store_id)
    if filters.owner_id:
        where.append(Customer.owner_id == filters.owner_id)
    if filters.source:
        where.append(Customer.source_channel == filters.source)
    for name, clause in (("contact_days", contacted_within), ("idle_days", followed_up_within)):
        days = getattr(filters, name)
        if days is not None:
            if not 0 < days <= MAX_DAYS:
                raise Invalid("天数无效", {name: f"天数应在 1 到 {MAX_DAYS} 之间"})
            where.append(clause(days) if name == "contact_days" else ~clause(days))
    return where


def _encode(value, ident: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([value, ident], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, sort: str):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, ident = json.loads(raw)
        if not isinstance(ident, int) or not 0 < ident < 2**63:
            raise ValueError(ident)
        if sort == "-updated":
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError(value)
        elif not isinstance(value, str if sort == "name" else int):
            raise ValueError(value)
        return value, ident
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error) as exc:
        raise Invalid("无效的分页游标", {"before": "无效的分页游标，请从第一页开始"}) from exc


def _after(sort: str, cursor: str):
    column, descending = SORTS[sort]
    value, ident = _decode(cursor, sort)
    if column is Customer.id:
        return Customer.id < ident if descending else Customer.id > ident
    pair, bound = tuple_(column, Customer.id), tuple_(value, ident)
    return pair < bound if descending else pair > bound


def query(staff: Staff, filters: Filters, before: str | None = None, limit: int = PAGE_SIZE):
    """The SELECT of one page (limit + 1 rows, to know whether another page follows)."""
    if filters.sort not in SORTS:
        raise Invalid("排序方式无效", {"sort": "没有这种排序方式"})
    where = conditions(staff, filters)
    if before:
        where.append(_after(filters.sort, before))
    column, descending = SORTS[filters.sort]
    order = [column.desc() if descending else column.asc()]
    if column is not Customer.id:
        order.append(Customer.id.desc() if descending else Customer.id.asc())
    return (
        select(*_LIST_COLUMNS, _latest_contact().label("last_contact"), CustomerValue.level)
        .outerjoin(Staff, Staff.id == Customer.owner_id)
        .outerjoin(Store, Store.id == Customer.store_id)
        .outerjoin(CustomerValue, CustomerValue.customer_id == Customer.id)
        .where(and_(*where))
        .order_by(*order)
        .limit(limit + 1)
    )


_LIST_COLUMNS = (
    Customer.id,
    Customer.name,
    Customer.nickname,
    Customer.stage,
    Customer.phone_enc,
    Customer.owner_id,
    Customer.store_id,
    Customer.updated_at,
    Staff.name.label("owner_name"),
    Store.name.label("store_name"),
)


def page(
    staff: Staff, filters: Filters, before: str | None = None, limit: int = PAGE_SIZE
) -> tuple[list[ListCustomer], str | None]:
    """One page of customers (with their owner's and store's names, last contact and value
    level, in the one query) and the cursor of the next (None on the last page)."""
    limit = max(1, min(limit, 200))
    rows = [ListCustomer(*row) for row in db.session.execute(query(staff, filters, before, limit))]
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    column, _ = SORTS[filters.sort]
    return rows[:limit], _encode(getattr(last, column.key), last.id)


def _latest_contact():
    """A customer's latest message: a backward step on the timeline index per customer
    (not a scan of all their events)."""
    return (
        select(TimelineEvent.occurred_at)
        .where(TimelineEvent.customer_id == Customer.id, TimelineEvent.kind.in_(CONTACT_KINDS))
        .order_by(TimelineEvent.occurred_at.desc())
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )
