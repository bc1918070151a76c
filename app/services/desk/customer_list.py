"""The customer list as staff see it: a page of the directory with each row's label, tags,
owner and last contact, in a handful of queries whatever the page size.

Rows are `ListRow`s; `extra` is where later panels (follow-ups, SLA state) add their
figures without changing the list's shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select

from app.core.extensions import db
from app.core.prebuilt import Prebuilt, reading
from app.models import CustomerTag, Staff, Store, Tag
from app.services.customers import access, directory, phones
from app.services.customers.directory import Filters
from app.services.sales import sla
from app.services.tagging import tag_profile


@dataclass
class ListRow:
    customer: directory.ListCustomer
    phone: str | None
    label: str
    tags: list[str]
    last_contact: datetime | None
    extra: dict = field(default_factory=dict)


@dataclass
class ListPage:
    rows: list[ListRow]
    next_cursor: str | None
    filters: Filters


@dataclass(frozen=True)
class TagName:
    """What tag_profile reads of a Tag."""

    dimension: str
    value: str

    @property
    def label(self) -> str:
        return f"{self.dimension}:{self.value}"


@dataclass(frozen=True)
class TagOnRow:
    """What tag_profile reads of a CustomerTag: plain values, so a page of 50 customers
    does not build 300 ORM objects for its labels."""

    id: int
    source: str
    created_at: datetime
    tag: TagName


# The tags of a page of customers, built once (sent with the page's SLA read).
PAGE_TAGS = Prebuilt(
    select(
        CustomerTag.customer_id,
        CustomerTag.id,
        CustomerTag.source,
        CustomerTag.created_at,
        Tag.dimension,
        Tag.value,
    )
    .join(Tag, Tag.id == CustomerTag.tag_id)
    .where(
        CustomerTag.customer_id.in_(bindparam("ids", expanding=True)),
        CustomerTag.removed_at.is_(None),
    )
)


def _side_reads(ids: list[int]) -> tuple[dict[int, list[TagOnRow]], dict]:
    """({customer id: tags}, {customer id: SLA state}) of a page, in one round trip."""
    found: dict[int, list[TagOnRow]] = {i: [] for i in ids}
    if not ids:
        return found, {}
    with reading() as reader:
        tags, leads = reader.together((PAGE_TAGS, {"ids": ids}), (sla.PAGE_STATES, {"ids": ids}))
    for cid, tid, source, created, dimension, value in tags:
        found[cid].append(TagOnRow(tid, source, created, TagName(dimension, value)))
    return found, sla.states_of(leads)  # response SLA: minutes left or overdue, in working time


@dataclass(frozen=True)
class ValueName:
    """What tag_profile.label reads of a CustomerValue."""

    label: str


def list_page(staff: Staff, filters: Filters, before: str | None = None) -> ListPage:
    """One page of the customers `staff` may see (directory.page), ready to show."""
    customers, next_cursor = directory.page(staff, filters, before)
    ids = [c.id for c in customers]
    tags, states = _side_reads(ids)
    rows = []
    for customer in customers:
        ordered = tag_profile.ordered(tags[customer.id])
        full = access.can_see_full_phone(staff, customer)
        value = ValueName(customer.value_label) if customer.value_label else None
        rows.append(
            ListRow(
                customer,
                phones.reveal(customer.phone_enc) if full else phones.masked(customer.phone_enc),
                tag_profile.label(customer, ordered, value),
                [r.tag.label for r in ordered],
                customer.last_contact,
            )
        )
    for row in rows:
        row.extra["sla"] = states.get(row.customer.id)
    return ListPage(rows, next_cursor, filters)


def filter_choices(staff: Staff) -> dict:
    """Stores and owners the filter menus offer (those the staff member could see)."""
    if not staff.has_role("admin", "service", "manager"):
        return {"stores": [], "owners": []}  # a rep's list is theirs alone
    stores = list(db.session.scalars(select(Store).order_by(Store.id)))
    owners = select(Staff).where(Staff.active.is_(True)).order_by(Staff.name)
    if not staff.has_role("admin", "service"):
        owners = owners.where(Staff.store_id == staff.store_id)
        stores = [s for s in stores if s.id == staff.store_id]
    reps = [s for s in db.session.scalars(owners) if s.has_role("sales", "manager")]
    return {"stores": stores, "owners": reps}
