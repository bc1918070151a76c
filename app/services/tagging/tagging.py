"""Intent tags on customers: what automation adds from messages, and what people add or remove.

Automation never re-adds a tag a person removed (its row keeps `removed_at`) and never
touches a manual tag. Every change is a timeline event ("tag_added" / "tag_removed").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from app.core import hooks
from app.core.database import as_loaded, insert_new_statement, insert_once
from app.core.errors import Invalid, NotFound
from app.core.extensions import db
from app.models import Customer, CustomerTag, Staff, Tag, TimelineEvent
from app.models.types import utcnow
from app.services.customers import audit, customers, timeline
from app.services.customers.timeline import message_text
from app.services.tagging import tag_rules
from app.tagging import BudgetThresholds, TagHit, tag_text_detailed
from app.tagging.taxonomy import BUDGET_DIMENSION, is_known_tag

AUTO, MANUAL = "auto", "manual"
_held: ContextVar[dict[tuple[str, str], Tag] | None] = ContextVar("held_tags", default=None)
Rows = dict[tuple[str, str], CustomerTag]  # a customer's tag rows by (dimension, value)
_held_rows: ContextVar[dict[int, Rows] | None] = ContextVar("held_rows", default=None)


class TagError(Invalid, ValueError):
    """A tag that is not in the taxonomy (the message names it; the field is `tag`)."""

    code = "bad_tag"

    def __init__(self, message: str) -> None:
        super().__init__(message, fields={"tag": message})


class TagNotFound(NotFound, TagError):
    """The customer does not carry that tag."""

    code = "not_found"

    def __init__(self, message: str) -> None:
        NotFound.__init__(self, message)


def thresholds() -> BudgetThresholds:
    config = current_app.config
    return BudgetThresholds(high=config["BUDGET_HIGH"], mid=config["BUDGET_MID"])


def parse_tag(raw: str) -> tuple[str, str]:
    """'维度:值' (or with a full-width colon) → (dimension, value); TagError if unknown."""
    dimension, _, value = str(raw or "").replace("：", ":").partition(":")
    dimension, value = dimension.strip(), value.strip()
    if not is_known_tag(dimension, value):
        raise TagError(f"未知标签「{raw}」，应写成 维度:值，例如 风格:北欧")
    return dimension, value


def _insert(row) -> bool:
    """Insert in a savepoint; False when a concurrent worker inserted the same row first.

    SQLite serialises writers (no such race) and pysqlite's SAVEPOINT outside a transaction
    would commit on release, breaking a retag batch's all-or-nothing: a plain flush there."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.add(row)
        db.session.flush()
        return True
    return insert_once(row)


@contextmanager
def taxonomy_held() -> Iterator[None]:
    """Within: every tag row loaded once, found by get_tag without a query (a batch of
    enrichment; tags are only ever added, so a loaded row stays right)."""
    token = _held.set({(t.dimension, t.value): t for t in db.session.scalars(select(Tag))})
    try:
        yield
    finally:
        _held.reset(token)


def get_tag(dimension: str, value: str) -> Tag:
    held = _held.get()
    if held is not None and (dimension, value) in held:
        return held[(dimension, value)]
    query = select(Tag).filter_by(dimension=dimension, value=value)
    tag = db.session.scalars(query).first()
    if tag is None:
        tag = Tag(dimension=dimension, value=value)
        if not _insert(tag):
            tag = db.session.scalars(query).one()
    return tag


@contextmanager
def rows_held(customer_ids: Iterable[int]) -> Iterator[None]:
    """Within: these customers' tag rows loaded in one query and kept, and kept up to date
    by apply_hits (a batch of enrichment, where nothing else writes tags): a tagged event
    reads its customer's tags without a query. A customer not loaded is read when first
    tagged and kept too. After an event's savepoint rolls back, `forget` it."""
    held: dict[int, Rows] = {customer_id: {} for customer_id in customer_ids}
    query = select(CustomerTag).where(CustomerTag.customer_id.in_(held)).order_by(CustomerTag.id)
    for row in db.session.scalars(query):
        held[row.customer_id][(row.tag.dimension, row.tag.value)] = row
    token = _held_rows.set(held)
    try:
        yield
    finally:
        _held_rows.reset(token)


def forget(event: TimelineEvent) -> None:
    """The event's writes rolled back: its customer's kept rows (rows_held) may name tags
    that are gone, so they are read again when next needed."""
    held = _held_rows.get()
    if held is not None:
        held.pop(_customer_of(event).id, None)


def _rows(customer: Customer) -> Rows:
    held = _held_rows.get()
    if held is not None and customer.id in held:
        return held[customer.id]
    rows = {(r.tag.dimension, r.tag.value): r for r in customer_tags(customer)}
    if held is not None:
        held[customer.id] = rows
    return rows


def customer_tags(customer: Customer) -> list[CustomerTag]:
    """Every tag row of a customer, removed ones included."""
    return list(
        db.session.scalars(
            select(CustomerTag).filter_by(customer_id=customer.id).order_by(CustomerTag.id)
        )
    )


def _log(customer: Customer, kind: str, row: CustomerTag, staff: Staff | None) -> None:
    timeline.record(
        customer,
        kind,
        payload={"tag": row.tag.label, "source": row.source, "evidence": row.evidence},
        actor_staff=staff,
    )


def _insert_auto(customer: Customer, tag: Tag, evidence: dict) -> CustomerTag | None:
    """A new auto tag row, or None when a concurrent worker inserted the same one first: one
    INSERT … ON CONFLICT DO NOTHING RETURNING, built once (no savepoint around it, no
    flush, no statement compiled per call: a batch of enrichment adds a thousand tags)."""
    values = {
        "customer_id": customer.id,
        "tag_id": tag.id,
        "source": AUTO,
        "evidence": evidence,
        "created_at": utcnow(),
        "removed_at": None,
        "removed_by_id": None,
    }
    new_id = db.session.execute(_INSERT_AUTO, values).scalar()
    if new_id is None:
        return None
    row = as_loaded(CustomerTag, {"id": new_id, **values})
    set_committed_value(row, "tag", tag)
    return row


_INSERT_AUTO = insert_new_statement(
    CustomerTag.__table__,
    ("customer_id", "tag_id", "source", "evidence", "created_at", "removed_at", "removed_by_id"),
    ("customer_id", "tag_id"),
)


def _evidence(hit: TagHit, event: TimelineEvent | None, extra: dict) -> dict:
    evidence = {"words": list(hit.words), "event_id": event.id if event else None, "rule": hit.rule}
    if hit.amount is not None:
        evidence["amount"] = hit.amount
    return {**evidence, **extra}


def _add_auto(customer: Customer, rows: dict, hit: TagHit, evidence: dict) -> CustomerTag | None:
    """Add one auto tag unless the customer has it, or a person removed it."""
    key = (hit.dimension, hit.value)
    if key in rows:
        return None
    row = _insert_auto(customer, get_tag(*key), evidence)
    if row is None:  # another worker tagged the same customer a moment ago
        return None
    rows[key] = row
    _log(customer, "tag_added", row, None)
    return row


def _drop_auto(customer: Customer, rows: dict, key: tuple[str, str]) -> None:
    """Automation takes back its own tag (e.g. an outdated budget tier): the row goes."""
    row = rows.pop(key)
    _log(customer, "tag_removed", row, None)
    db.session.delete(row)
    db.session.flush()


def _is_newer(evidence: dict, previous: dict | None) -> bool:
    """Latest mention wins: an older message (a retag) does not overwrite a newer budget."""
    new, old = evidence.get("event_id"), (previous or {}).get("event_id")
    return new is None or old is None or new >= old


def _apply_budget(customer: Customer, rows: dict, hit: TagHit, evidence: dict) -> None:
    """One 预算 auto tag, agreeing with the latest stated amount (words only without one)."""
    if hit.amount is not None:
        if not _is_newer(evidence, customer.budget_evidence):
            return
        customer.budget_amount, customer.budget_evidence = hit.amount, evidence
    elif customer.budget_amount is not None:
        return  # a stated amount outranks budget words
    manual = [r for k, r in rows.items() if k[0] == BUDGET_DIMENSION and r.source == MANUAL]
    if any(r.removed_at is None for r in manual):
        return  # a person set the tier
    _drop_other_tiers(customer, rows, hit.value)
    _add_auto(customer, rows, hit, evidence)


def _drop_other_tiers(customer: Customer, rows: dict, keep: str) -> None:
    """Budget has one value: automation's tags of other tiers go."""
    for key, row in list(rows.items()):
        other_tier = key[0] == BUDGET_DIMENSION and key[1] != keep
        if other_tier and row.source == AUTO and row.removed_at is None:
            _drop_auto(customer, rows, key)


def apply_hits(
    customer: Customer,
    hits: Iterable[TagHit],
    event: TimelineEvent | None,
    *,
    source: str = AUTO,
    staff: Staff | None = None,
    truncated: bool = False,
    origin: str | None = None,
) -> list[str]:
    """Put automation's hits on a customer; returns the tags added ('维度:值')."""
    if source != AUTO:
        raise ValueError("apply_hits adds automatic tags; use add_manual_tag for a person's")
    extra: dict = {"truncated": True} if truncated else {}
    if staff is not None:
        extra.update(source="staff", staff_id=staff.id)
    elif origin:
        extra["source"] = origin
    rows = _rows(customer)  # updated in place as tags are added and dropped
    before = {k for k, r in rows.items() if r.removed_at is None}
    for hit in hits:
        evidence = _evidence(hit, event, extra)
        if hit.dimension == BUDGET_DIMENSION:
            _apply_budget(customer, rows, hit, evidence)
        else:
            _add_auto(customer, rows, hit, evidence)
    after = {k for k, r in rows.items() if r.removed_at is None}
    if after != before:
        hooks.run("customer_tags_changed", customer.id)  # see app/hooks.py
    return [f"{d}:{v}" for d, v in sorted(after - before)]


def tag_message(customer: Customer, text: str, event: TimelineEvent | None, **kw) -> list[str]:
    """Tag one piece of customer text with the current rules; returns the tags added."""
    result = tag_text_detailed(text, tag_rules.current_ruleset(), thresholds=thresholds())
    return apply_hits(customer, result.hits, event, truncated=result.truncated, **kw)


def tag_event(event: TimelineEvent) -> list[str]:
    """The enricher: tag an inbound message's text (or a voice message's recognition)."""
    if event.kind != "message" or event.direction != "inbound":
        return []
    text = message_text(event.payload or {})
    if not text.strip():
        return []
    return tag_message(_customer_of(event), text, event)


def _customer_of(event: TimelineEvent) -> Customer:
    return customers.resolve(db.session.get(Customer, event.customer_id))


def tag_staff_note(
    customer: Customer, text: str, staff: Staff, event: TimelineEvent | None = None
) -> list[str]:
    """Tag what a rep wrote about a customer; the evidence says it came from staff."""
    return tag_message(customer, text, event, staff=staff)


def tag_form_text(customer: Customer, text: str, event: TimelineEvent | None) -> list[str]:
    """Tag text a customer filled in a mini-program form."""
    return tag_message(customer, text, event, origin="form")


def _find(customer: Customer, dimension: str, value: str) -> CustomerTag | None:
    return db.session.scalars(
        select(CustomerTag)
        .join(Tag)
        .where(
            CustomerTag.customer_id == customer.id, Tag.dimension == dimension, Tag.value == value
        )
    ).first()


def add_manual_tag(customer: Customer, tag: str, staff: Staff) -> CustomerTag:
    """A person puts a tag on a customer (or confirms an automatic one); audited."""
    dimension, value = parse_tag(tag)
    row = _find(customer, dimension, value)
    if row is not None and row.source == MANUAL and row.removed_at is None:
        return row
    before = _row_state(row)
    if row is None:
        row = CustomerTag(customer_id=customer.id, tag=get_tag(dimension, value))
        db.session.add(row)
    row.source, row.removed_at, row.removed_by_id = MANUAL, None, None
    row.evidence = {"staff_id": staff.id, "previous": before} if before else {"staff_id": staff.id}
    db.session.flush()
    if dimension == BUDGET_DIMENSION:
        _drop_other_tiers(
            customer, {(r.tag.dimension, r.tag.value): r for r in customer_tags(customer)}, value
        )
    audit.record(
        "customer_tag.add",
        "customer",
        customer.id,
        actor=staff,
        before=before,
        after={"tag": row.tag.label, "source": MANUAL},
    )
    _log(customer, "tag_added", row, staff)
    hooks.run("customer_tags_changed", customer.id)
    return row


def remove_tag(customer: Customer, tag: str, staff: Staff) -> CustomerTag:
    """A person removes a tag; the row stays (removed_at) so automation does not re-add it."""
    dimension, value = parse_tag(tag)
    row = _find(customer, dimension, value)
    if row is None or row.removed_at is not None:
        raise TagNotFound(f"客户没有标签「{dimension}:{value}」")
    before = _row_state(row)
    row.removed_at, row.removed_by_id = utcnow(), staff.id
    audit.record(
        "customer_tag.remove",
        "customer",
        customer.id,
        actor=staff,
        before=before,
        after={"tag": row.tag.label, "removed": True},
    )
    _log(customer, "tag_removed", row, staff)
    hooks.run("customer_tags_changed", customer.id)
    return row


def _row_state(row: CustomerTag | None) -> dict | None:
    if row is None or row.removed_at is not None:
        return None
    return {"tag": row.tag.label, "source": row.source, "evidence": row.evidence}


def active_tags(customer: Customer) -> Sequence[CustomerTag]:
    return [r for r in customer_tags(customer) if r.removed_at is None]
