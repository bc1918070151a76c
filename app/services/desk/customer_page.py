"""Everything the customer page shows, read in a few queries: the record, identities,
label and tags with their evidence, one page of the timeline, projects, open tasks, the
reply window and duplicate candidates.

`CustomerPage.panels` is where later features (follow-ups, SLA state) hang their own
blocks; the page template renders each panel it knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select, union
from sqlalchemy.orm import joinedload

from app.core import cursors
from app.core.errors import Invalid, NotFound
from app.core.extensions import db
from app.models import (
    Customer,
    CustomerIdentity,
    Notice,
    Staff,
    TimelineEvent,
)
from app.services.customers import access, phones, timeline
from app.services.desk import customer_reads, replies
from app.services.sales import sla
from app.services.tagging import tag_profile

TIMELINE_PAGE = 20
# The timeline's filter: a group of kinds each ("other" is every kind not listed here).
KIND_GROUPS = {
    "message": ("消息", ("message", "auto_reply")),
    "note": ("备注", ("note",)),
    "stage": ("阶段", ("stage_changed",)),
    "tag": ("标签", ("tag_added", "tag_removed")),
    "project": (
        "工地",
        (
            "project_signed",
            "progress_log",
            "qc_report",
            "node_status_changed",
            "node_accepted",
            "node_rejected",
            "rectification_closed",
            "node_delayed",
            "change_order_proposed",
            "change_order_approved",
            "change_order_rejected",
        ),
    ),
    "notice": ("通知", ("notice_sent", "notice_task")),
    "sales": (
        "跟进",
        (
            "followup",
            "lead_form",
            "lead_assign",
            "lead_bound",
            "lead_claim",
            "lead_manual",
            "lead_pool",
        ),
    ),
}
GROUPED = tuple(kind for _, kinds in KIND_GROUPS.values() for kind in kinds)


@dataclass
class CustomerPage:
    customer: Customer
    phone: str | None
    version: str
    identities: list  # rows of customer_reads.IDENTITIES
    label: str
    tags: list[customer_reads.TagWithEvidence]
    evidence: dict[int, str]  # timeline event id → the words it said
    budget: dict | None  # None for roles that see no money
    events: list  # rows of customer_reads.TIMELINE_COLUMNS
    next_cursor: str | None
    kind: str
    projects: list  # rows of customer_reads.PROJECTS
    tasks: list
    window: replies.Window
    candidates: list[Customer]
    show_money: bool
    notices: dict[int, Notice]  # notice id → its row (delivery status), for notice events
    panels: dict = field(default_factory=dict)


def version(customer: Customer) -> str:
    """What a form carries to prove it was filled on the current record (stale forms)."""
    return customer.updated_at.isoformat() if customer.updated_at else ""


def load(staff: Staff, customer_id: int) -> Customer:
    """The customer if `staff` may see it; NotFound otherwise (existence is not leaked)."""
    # The owner and store the page shows come in the same query (not two lazy loads).
    eager = [joinedload(Customer.owner), joinedload(Customer.store)]
    ok = 0 < customer_id < 2**31
    customer = db.session.get(Customer, customer_id, options=eager) if ok else None
    if customer is None or not access.can_see(staff, customer):
        raise NotFound("客户不存在")
    return customer


def timeline_read(kind: str, before: str | None):
    """(statement, values) of the page of one kind group ('' for all) older than `before`
    (customer_reads.timeline_read); Invalid for a kind or cursor we do not know."""
    if kind and kind != "other" and kind not in KIND_GROUPS:
        raise Invalid("没有这种记录类型", {"kind": "没有这种记录类型"})
    kinds = GROUPED if kind == "other" else (KIND_GROUPS[kind][1] if kind else None)
    try:
        after = cursors.decode(before) if before else None
    except cursors.CursorError as exc:
        raise Invalid(str(exc), {"before": str(exc)}) from exc
    return customer_reads.timeline_read(kinds, kind == "other", after, TIMELINE_PAGE)


def _evidence(rows: list) -> dict[int, str]:
    ids = {(r.evidence or {}).get("event_id") for r in rows} - {None}
    if not ids:
        return {}
    found = db.session.execute(
        select(TimelineEvent.id, TimelineEvent.payload).where(TimelineEvent.id.in_(ids))
    ).all()
    return {i: timeline.message_text(p or {}) or (p or {}).get("content", "") for i, p in found}


def _notices(events: list) -> dict[int, Notice]:
    ids = {(e.payload or {}).get("notice_id") for e in events if e.kind.startswith("notice_")}
    ids = {i for i in ids if isinstance(i, int)}
    if not ids:
        return {}
    return {n.id: n for n in db.session.scalars(select(Notice).where(Notice.id.in_(ids)))}


def duplicates(
    staff: Staff, customer: Customer, identities: list[CustomerIdentity] | None = None
) -> list[Customer]:
    """Customers `staff` sees that share this one's phone (keyed hash) or unionid.
    `identities`: the customer's, when the caller has them (the unionids are then known
    here and the query names them; no self-join of the identities, which cost more CPU to
    build than PostgreSQL spends running it)."""
    if identities is None:
        identities = list(customer.identities)
    Ident = CustomerIdentity  # noqa: N806 - a short name for the clauses below
    unionids = [
        and_(Ident.app_id == i.app_id, Ident.value == i.value)
        for i in identities
        if i.kind == "unionid"
    ]
    parts = []
    if unionids:
        parts.append(select(Ident.customer_id).where(Ident.kind == "unionid", or_(*unionids)))
    if customer.phone_hash:  # index lookups, never a scan of every customer
        parts.append(select(Customer.id).where(Customer.phone_hash == customer.phone_hash))
    if not parts:
        return []
    query = (
        select(Customer)
        .where(
            Customer.id.in_(union(*parts) if len(parts) > 1 else parts[0]),
            Customer.id != customer.id,
            access.customer_scope(staff),
        )
        .order_by(Customer.id)
        .limit(10)
    )
    return list(db.session.scalars(query))


def page(staff: Staff, customer: Customer, kind: str = "", before: str | None = None):
    """The whole customer page for `staff` (who may see `customer`: see load)."""
    side = customer_reads.side_reads(customer.id, timeline_read(kind, before))
    events = side.events[:TIMELINE_PAGE]
    more = len(side.events) > TIMELINE_PAGE
    tags = tag_profile.ordered(side.tags)
    money = access.can_see_money(staff)
    full = access.can_see_full_phone(staff, customer)
    return CustomerPage(
        customer=customer,
        phone=phones.reveal(customer.phone_enc) if full else phones.masked(customer.phone_enc),
        version=version(customer),
        identities=side.identities,
        label=tag_profile.label(customer, tags, side.value),
        tags=tags,
        evidence=_evidence(tags),
        budget=tag_profile.budget_json(customer, tags) if money else None,
        events=events,
        next_cursor=timeline.encode_cursor(events[-1]) if more else None,
        kind=kind,
        projects=side.projects,
        tasks=side.tasks,
        window=replies.window(customer, side.identities),
        candidates=duplicates(staff, customer, side.identities),
        show_money=money,
        notices=_notices(events),
        panels={"sales": sales_panel(side)},
    )


def sales_panel(side: customer_reads.SideReads) -> dict:
    """The sales block: response SLA state, the lead's pool state, recent follow-ups."""
    return {"lead": side.lead, "sla": sla.state(side.lead), "followups": side.followups}


def event_actors(events: list) -> dict[int, str]:
    """Names of the staff who acted in these events (read with them: TIMELINE_COLUMNS)."""
    return {e.actor_staff_id: e.actor_name for e in events if e.actor_name is not None}


def staff_choices(staff: Staff) -> list:
    """Who a customer may be handed to: active reps and managers staff may assign to, as
    (id, name) rows (the owner menu shows no more; no Staff entities for it)."""
    query = select(Staff.id, Staff.name, Staff.roles).where(Staff.active.is_(True))
    if not staff.has_role("admin"):
        query = query.where(Staff.store_id == staff.store_id)
    wanted = {"sales", "manager"}
    rows = db.session.execute(query.order_by(Staff.name))
    return [(i, name) for i, name, roles in rows if wanted & set(roles.split(","))]
