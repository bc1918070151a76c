"""Customers and their identities: one person, however many WeChat ids reach them."""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.core import hooks
from app.core.database import insert_once, load_row
from app.core.errors import Invalid
from app.core.extensions import db
from app.models import IDENTITY_KINDS, Customer, CustomerIdentity, CustomerTag, Staff, TimelineEvent
from app.services.customers import access, audit, phones
from app.services.customers import timeline as timeline_service

PROFILE_FIELDS = (
    "name",
    "nickname",
    "gender",
    "birthday",
    "city",
    "community",
    "address",
    "source_channel",
    "owner_id",
    "store_id",
    "stage",
)


class IdentityError(ValueError):
    """An identity kind we do not know, or an empty value."""


def load_for_staff(staff: Staff, customer_id: int) -> Customer:
    """The customer if `staff` may see it (access.customer_scope); NotFound otherwise, the
    same answer as for no customer at all (another rep's customer is not revealed)."""
    return load_row(Customer, customer_id, access.customer_scope(staff), missing="客户不存在")


def resolve(customer: Customer) -> Customer:
    """Follow `merged_into` to the customer that is alive today."""
    seen = set()
    while customer.merged_into_id is not None and customer.id not in seen:
        seen.add(customer.id)
        customer = db.session.get(Customer, customer.merged_into_id)
    return customer


def identity_value(kind: str, value: str) -> str:
    """The stored value of an identity: a phone is stored as its keyed hash."""
    if kind not in IDENTITY_KINDS:
        raise IdentityError(f"unknown identity kind {kind!r}")
    value = (value or "").strip()
    if not value:
        raise IdentityError("identity value is empty")
    return phones.lookup_hashes(value)[0] if kind == "phone" else value


def find_identity(kind: str, value: str, app_id: str = "") -> CustomerIdentity | None:
    """The identity row with its customer loaded in the same query (the callback hot path)."""
    values = phones.lookup_hashes(value) if kind == "phone" else [identity_value(kind, value)]
    return db.session.scalars(
        select(CustomerIdentity)
        .options(joinedload(CustomerIdentity.customer))
        .where(
            CustomerIdentity.kind == kind,
            CustomerIdentity.app_id == app_id,
            CustomerIdentity.value.in_(values),
        )
    ).first()


def find_by_identity(kind: str, value: str, app_id: str = "") -> Customer | None:
    row = find_identity(kind, value, app_id)
    return resolve(row.customer) if row else None


def apply_profile(customer: Customer, profile: dict, *, overwrite: bool = True) -> None:
    """Set known profile fields; `phone` is sealed. Unknown keys are a programming error."""
    for key, value in profile.items():
        if key == "phone":
            if value and (overwrite or not customer.phone_enc):
                _, customer.phone_enc, customer.phone_hash = phones.seal(value)
        elif key not in PROFILE_FIELDS:
            raise TypeError(f"unknown customer field {key!r}")
        elif value not in (None, "") and (
            overwrite or getattr(customer, key) in (None, "", "unknown")
        ):
            setattr(customer, key, value)


def find_or_create_identity(
    kind: str, value: str, app_id: str = "", **profile
) -> tuple[CustomerIdentity, bool]:
    """The identity row (its customer loaded), created with a new customer on first
    contact; (identity, created). One lookup, then one flush for both rows.

    Race-safe: the insert runs in a savepoint, and the unique (kind, app_id, value)
    constraint makes a concurrent twin fail; the loser reads the winner's row.
    """
    existing = find_identity(kind, value, app_id)
    if existing is not None:
        return existing, False
    customer = Customer()
    apply_profile(customer, profile)
    if kind == "phone" and not customer.phone_enc:
        apply_profile(customer, {"phone": value})
    identity = CustomerIdentity(
        customer=customer, kind=kind, app_id=app_id, value=identity_value(kind, value)
    )
    if not insert_once(customer, identity):
        existing = find_identity(kind, value, app_id)
        if existing is None:
            raise
        return existing, False
    return identity, True


def find_or_create_by_identity(
    kind: str, value: str, app_id: str = "", **profile
) -> tuple[Customer, bool]:
    """The customer behind an identity, created on first contact; (customer, created)."""
    identity, created = find_or_create_identity(kind, value, app_id, **profile)
    return (identity.customer if created else resolve(identity.customer)), created


def add_identity(customer: Customer, kind: str, value: str, app_id: str = "") -> CustomerIdentity:
    """Attach one more identity; if another customer holds it, that is a merge decision."""
    stored = identity_value(kind, value)
    holder = find_by_identity(kind, value, app_id)
    if holder is not None and holder.id != customer.id:
        raise IdentityError(f"{kind} already belongs to customer {holder.id}")
    row = db.session.scalars(
        select(CustomerIdentity).filter_by(kind=kind, app_id=app_id, value=stored)
    ).first()
    if row is None:
        row = CustomerIdentity(customer_id=customer.id, kind=kind, app_id=app_id, value=stored)
        db.session.add(row)
        db.session.flush()
    return row


def snapshot(customer: Customer) -> dict:
    data = {f: getattr(customer, f) for f in PROFILE_FIELDS}
    data["birthday"] = customer.birthday.isoformat() if customer.birthday else None
    data["has_phone"] = bool(customer.phone_enc)
    return data


def merge(
    target: Customer, source: Customer, *, actor: Staff | str | None = None, reason: str = ""
) -> Customer:
    """Fold `source` into `target`: identities, events and tags move; source points at target."""
    target, source = resolve(target), resolve(source)
    if target.id == source.id:
        return target
    before = {"target": snapshot(target), "source": snapshot(source)}
    for model in (CustomerIdentity, TimelineEvent):
        db.session.execute(
            update(model).where(model.customer_id == source.id).values(customer_id=target.id)
        )
    _merge_tags(target.id, source.id)
    hooks.run("customers_merged", source.id, target.id)  # other domains move their rows
    _fill_profile(target, source)
    db.session.execute(
        update(Customer)
        .where(Customer.merged_into_id == source.id)
        .values(merged_into_id=target.id)
    )
    source.merged_into_id = target.id
    db.session.flush()
    audit.record(
        "customer.merge",
        "customer",
        target.id,
        actor=actor,
        before=before,
        after={"target": snapshot(target), "merged": source.id, "reason": reason},
    )
    timeline_service.record(
        target,
        "customer_merged",
        payload={"merged_customer_id": source.id, "reason": reason},
        actor_staff=actor if isinstance(actor, Staff) else None,
    )
    db.session.expire_all()
    return target


def _fill_profile(target: Customer, source: Customer) -> None:
    for field in PROFILE_FIELDS:
        if getattr(target, field) in (None, "", "unknown") and getattr(source, field) not in (
            None,
            "",
        ):
            setattr(target, field, getattr(source, field))
    if not target.phone_enc and source.phone_enc:
        target.phone_enc, target.phone_hash = source.phone_enc, source.phone_hash


def _merge_tags(target_id: int, source_id: int) -> None:
    """Move tags; where both carry one, a person's decision (manual or removal) wins."""
    target_tags = {
        ct.tag_id: ct
        for ct in db.session.scalars(select(CustomerTag).filter_by(customer_id=target_id))
    }
    for ct in db.session.scalars(select(CustomerTag).filter_by(customer_id=source_id)).all():
        twin = target_tags.get(ct.tag_id)
        if twin is None:
            ct.customer_id = target_id
            continue
        if (
            twin.source == "auto"
            and twin.removed_at is None
            and (ct.source == "manual" or ct.removed_at)
        ):
            twin.source, twin.evidence = ct.source, ct.evidence
            twin.removed_at, twin.removed_by_id = ct.removed_at, ct.removed_by_id
        db.session.delete(ct)
    db.session.flush()


def _identity_values(identity: str) -> tuple[str, list[str]]:
    """(kind, stored values) of a `KIND:VALUE` search; Invalid (code bad_query) otherwise."""
    kind, sep, value = identity.partition(":")
    if not sep or kind not in IDENTITY_KINDS:
        _bad_identity(f"identity 的格式是 KIND:VALUE，KIND 为 {'、'.join(IDENTITY_KINDS)}")
    try:
        values = phones.lookup_hashes(value) if kind == "phone" else [identity_value(kind, value)]
    except ValueError:  # pii.PhoneError (phone:abc), or IdentityError (no value)
        _bad_identity("手机号格式不正确" if kind == "phone" else "identity 的 VALUE 不能为空")
    return kind, values


def _bad_identity(message: str) -> NoReturn:
    raise Invalid(message, fields={"identity": message}, code="bad_query")


def search_query(identity: str = "", q: str = ""):
    """SELECT of customers matching `KIND:VALUE` and/or a name or phone search; Invalid
    (code bad_query) for an identity that is not KIND:VALUE or a phone that is not one."""
    query = select(Customer)
    if identity:
        kind, values = _identity_values(identity)
        ids = select(CustomerIdentity.customer_id).where(
            CustomerIdentity.kind == kind, CustomerIdentity.value.in_(values)
        )
        query = query.where(Customer.id.in_(ids))
    q = q.strip()
    if q:
        query = query.where(_text_match(q))
    return query


def _text_match(q: str):
    try:
        hashes = phones.lookup_hashes(q)
    except ValueError:
        hashes = []
    like = f"%{q.replace('%', '').replace('_', '')}%"
    clause = Customer.name.like(like) | Customer.nickname.like(like)
    return clause | Customer.phone_hash.in_(hashes) if hashes else clause


def page(query, before: int | None, limit: int) -> tuple[list[Customer], str | None]:
    """Newest customers first, keyset-paginated on id (the cursor is the last id seen)."""
    if before is not None:
        query = query.where(Customer.id < before)
    rows = db.session.scalars(query.order_by(Customer.id.desc()).limit(limit + 1)).all()
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return list(rows[:limit]), next_cursor


def search_page(
    staff: Staff, identity: str, q: str, before: int | None, limit: int, *where
) -> tuple[list[Customer], str | None]:
    """One page of the customers `staff` may see (access.customer_scope) matching the search
    (search_query) and the further conditions `where` (SQL clauses from other domains, such
    as a customer-value level; None is no condition), newest first; (rows, the next page's
    cursor or None)."""
    query = search_query(identity, q).where(access.customer_scope(staff))
    for clause in where:
        if clause is not None:
            query = query.where(clause)
    return page(query, before, limit)
