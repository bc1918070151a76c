"""The customer page's reads (a page of its timeline with each event's staff name,
identities, tags, projects, tasks, value, lead, follow-ups), as statements built once and
sent in one round trip (app.core.prebuilt).

Through the Session each of them cost SQLAlchemy 0.5-0.9 ms of CPU to build, run and turn
into ORM objects, far more than PostgreSQL spends on them; the page reads eight. Rows come
back, with the attribute names the page reads of the entities (a tag row carries its tag as
`row.tag`, as tag_profile reads it). Writes never go through here: the page's forms
still load the ORM customer (customer_page.load).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, select

from app.core.prebuilt import Prebuilt, reading
from app.models import (
    VALUE_LABELS,
    CustomerIdentity,
    CustomerTag,
    CustomerValue,
    FollowUp,
    Lead,
    Project,
    Staff,
    Tag,
    Task,
    TimelineEvent,
)
from app.models.types import UTCDateTime
from app.services.customers import timeline
from app.services.desk.customer_list import TagName, TagOnRow, ValueName

FOLLOWUPS_SHOWN = 10
TASKS_SHOWN = 20
_ID = bindparam("customer_id")

IDENTITIES = Prebuilt(
    select(
        CustomerIdentity.kind,
        CustomerIdentity.app_id,
        CustomerIdentity.value,
        CustomerIdentity.subscribed,
        CustomerIdentity.last_inbound_at,
    )
    .where(CustomerIdentity.customer_id == _ID)
    .order_by(CustomerIdentity.id)
)
TAGS = Prebuilt(
    select(
        CustomerTag.id,
        CustomerTag.source,
        CustomerTag.created_at,
        CustomerTag.evidence,
        Tag.dimension,
        Tag.value,
    )
    .join(Tag, Tag.id == CustomerTag.tag_id)
    .where(CustomerTag.customer_id == _ID, CustomerTag.removed_at.is_(None))
    .order_by(CustomerTag.id)
)
PROJECTS = Prebuilt(
    select(
        Project.id, Project.community, Project.address, Project.status, Project.contract_amount_fen
    )
    .where(Project.customer_id == _ID)
    .order_by(Project.id.desc())
)
TASKS = Prebuilt(
    select(Task.title)
    .where(Task.customer_id == _ID, Task.status == "open")
    .order_by(Task.id.desc())
    .limit(TASKS_SHOWN)
)
VALUE = Prebuilt(select(CustomerValue.level).where(CustomerValue.customer_id == _ID))
# The columns sla.state and the page read of a lead.
LEAD = Prebuilt(
    select(
        Lead.state,
        Lead.pool_reason,
        Lead.first_inbound_at,
        Lead.responded_at,
        Lead.response_work_minutes,
        Lead.response_target_at,
    ).where(Lead.customer_id == _ID)
)
FOLLOWUPS = Prebuilt(
    select(
        FollowUp.created_at,
        FollowUp.method,
        FollowUp.content,
        FollowUp.result,
        FollowUp.next_at,
        Staff.name.label("staff_name"),
    )
    .join(Staff, Staff.id == FollowUp.staff_id)
    .where(FollowUp.customer_id == _ID)
    .order_by(FollowUp.created_at.desc(), FollowUp.id.desc())
    .limit(FOLLOWUPS_SHOWN)
)


TIMELINE_COLUMNS = (
    TimelineEvent.id,
    TimelineEvent.occurred_at,
    TimelineEvent.kind,
    TimelineEvent.channel,
    TimelineEvent.direction,
    TimelineEvent.actor_type,
    TimelineEvent.actor_staff_id,
    TimelineEvent.payload,
    Staff.name.label("actor_name"),
)
# (kinds, exclude, after a cursor, page size) -> its statement, built on first use.
_TIMELINES: dict[tuple, Prebuilt] = {}


def timeline_read(kinds: tuple | None, exclude: bool, before, size: int):
    """(statement, values) of a timeline page (size + 1 rows, newest first): only `kinds`
    (all but them with `exclude`), older than `before`, a (when, id) pair, when given."""
    key = (kinds, exclude, before is not None, size)
    prebuilt = _TIMELINES.get(key)
    if prebuilt is None:
        after = (bindparam("before_at", type_=UTCDateTime), bindparam("before_id", type_=Integer))
        where = timeline.page_clauses(_ID, kinds, exclude, after if before else None)
        statement = (
            select(*TIMELINE_COLUMNS)
            .outerjoin(Staff, Staff.id == TimelineEvent.actor_staff_id)
            .where(*where)
            .order_by(*timeline.NEWEST_FIRST)
            .limit(size + 1)
        )
        prebuilt = _TIMELINES[key] = Prebuilt(statement)
    values = {"before_at": before[0], "before_id": before[1]} if before else {}
    return prebuilt, values


@dataclass(frozen=True)
class TagWithEvidence(TagOnRow):
    """A tag row of the page: what tag_profile reads, and the evidence it shows."""

    evidence: dict | None = None


@dataclass
class SideReads:
    events: list  # rows of TIMELINE_COLUMNS, one more than the page when more follow
    identities: list
    tags: list[TagWithEvidence]
    projects: list
    tasks: list
    value: ValueName | None
    lead: object | None  # a row of LEAD
    followups: list


def side_reads(customer_id: int, events: tuple[Prebuilt, dict]) -> SideReads:
    """Every read of the customer page, `events` (timeline_read) first, in one round trip
    on PostgreSQL."""
    values = {"customer_id": customer_id}
    reads = (IDENTITIES, TAGS, PROJECTS, TASKS, VALUE, LEAD, FOLLOWUPS)
    with reading() as reader:  # outside a transaction: each statement reads committed rows
        page, identities, tags, projects, tasks, value, lead, followups = reader.together(
            (events[0], {**values, **events[1]}), *((prebuilt, values) for prebuilt in reads)
        )
    return SideReads(
        events=page,
        identities=identities,
        tags=[
            TagWithEvidence(r.id, r.source, r.created_at, TagName(r.dimension, r.value), r.evidence)
            for r in tags
        ],
        projects=projects,
        tasks=tasks,
        value=ValueName(VALUE_LABELS.get(value[0].level, value[0].level)) if value else None,
        lead=lead[0] if lead else None,
        followups=followups,
    )
