"""After a callback is stored: fill in who the customer is, and what they want.

Runs in a job, never in the callback: the WeChat APIs it calls may take seconds.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from requests import RequestException
from sqlalchemy import select
from wechatpy.exceptions import WeChatClientException

from app.core import hooks
from app.core.extensions import db
from app.core.wechat import WeChatConfigError, mp_client, wecom_contact_client
from app.models import Customer, CustomerIdentity, TimelineEvent
from app.models.types import utcnow
from app.services.customers import customers

log = logging.getLogger(__name__)
PROFILE_REFRESH = timedelta(days=7)
GENDER_CODES = {1: "male", 2: "female", "1": "male", "2": "female"}


def _identity(customer: Customer, kind: str) -> CustomerIdentity | None:
    return db.session.scalars(
        select(CustomerIdentity)
        .filter_by(customer_id=customer.id, kind=kind)
        .order_by(CustomerIdentity.id)
    ).first()


def _due(identity: CustomerIdentity | None) -> bool:
    fetched = identity.profile_fetched_at if identity else None
    return identity is not None and (fetched is None or utcnow() - fetched > PROFILE_REFRESH)


def fetch_profile(identity: CustomerIdentity) -> dict:
    """Nickname, gender and unionid from the official account or WeCom API."""
    if identity.kind == "mp_openid":
        info = mp_client().user.get(identity.value)
        return {
            "nickname": info.get("nickname", ""),
            "gender": GENDER_CODES.get(info.get("sex"), ""),
            "unionid": info.get("unionid", ""),
            "subscribed": bool(info.get("subscribe", 1)),
        }
    contact = wecom_contact_client().external_contact.get(identity.value)
    person = contact.get("external_contact", {})
    return {
        "nickname": person.get("name", ""),
        "gender": GENDER_CODES.get(person.get("gender"), ""),
        "unionid": person.get("unionid", ""),
    }


def link_unionid(customer: Customer, unionid: str) -> Customer:
    """A unionid known under another customer means the same person: merge into the older one."""
    holder = customers.find_by_identity("unionid", unionid)
    if holder is None:
        customers.add_identity(customer, "unionid", unionid)
        return customer
    if holder.id == customer.id:
        return customer
    target, source = sorted((holder, customer), key=lambda c: c.id)
    return customers.merge(target, source, actor="wechat:unionid", reason=f"same unionid {unionid}")


def refresh_profile(customer: Customer) -> Customer:
    for kind in ("mp_openid", "wecom_external_userid"):
        identity = _identity(customer, kind)
        if not _due(identity):
            continue
        try:
            profile = fetch_profile(identity)
        except (WeChatClientException, WeChatConfigError, RequestException) as exc:
            # Not fatal: the next message from this customer tries again.
            log.warning("profile fetch failed", extra={"kind": kind, "error": repr(exc)[:200]})
            continue
        identity.profile_fetched_at = utcnow()
        if "subscribed" in profile:
            identity.subscribed = profile.pop("subscribed")
        unionid = profile.pop("unionid", "")
        customers.apply_profile(customer, profile, overwrite=False)
        if unionid:
            customer = link_unionid(customer, unionid)
    return customer


def enrich(event: TimelineEvent) -> None:
    customer = customers.resolve(db.session.get(Customer, event.customer_id))
    customer = refresh_profile(customer)
    hooks.run("event_enriched", event)  # tagging, rep alerts: see app/hooks.py
    event.needs_enrichment = False


def pending_events(older_than: timedelta, limit: int = 500) -> list[int]:
    """Stored callbacks whose enrichment job never ran (Redis was down when they came)."""
    cutoff = utcnow() - older_than
    return list(
        db.session.scalars(
            select(TimelineEvent.id)
            .where(TimelineEvent.needs_enrichment.is_(True), TimelineEvent.created_at < cutoff)
            .order_by(TimelineEvent.created_at)
            .limit(limit)
        )
    )
