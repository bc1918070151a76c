"""Channel state of a customer: official-account follow status, WeCom rep relationships."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.core.extensions import db
from app.models import ContactRelation, Customer, CustomerIdentity, Staff
from app.services.customers import customers, timeline
from app.services.inbound.wechat_events import IngestResult, message_payload

# Events a user makes themselves: WeChat opens the 48-hour customer-service window on them
# (客服消息: a message, a follow, a QR scan, and the CLICK and scancode menu buttons).
USER_ACTIONS = ("message", "follow", "qr_scan", "menu_click", "menu_view", "menu_scan")
# last_inbound_at is rewritten only when it is older than this: a conversation of many
# messages writes the identity once. It errs on the safe side: the 48-hour window is then
# judged to close up to this much early (a customer-service message gives way to the next
# channel), never late (WeChat would refuse it with 45015).
WINDOW_SLACK = timedelta(minutes=30)
CONTACT_KINDS = {
    "add_external_contact": "wecom_contact_added",
    "add_half_external_contact": "wecom_contact_added_half",
    "edit_external_contact": "wecom_contact_edited",
    "del_external_contact": "wecom_contact_deleted_by_staff",
    "del_follow_user": "wecom_contact_deleted_by_customer",
    "transfer_fail": "wecom_contact_transfer_failed",
}


def touch_mp_identity(identity: CustomerIdentity, kind: str, when: datetime) -> None:
    """Follow state and the 48-hour window; written only when they change (a hot path)."""
    if kind == "unfollow":
        identity.subscribed = False
    elif kind in USER_ACTIONS:
        if identity.subscribed is not True:
            identity.subscribed = True
        # The 48-hour window does not need second precision: skip the UPDATE for a customer
        # who wrote a few minutes ago (most messages come in bursts).
        if identity.last_inbound_at is None or when - identity.last_inbound_at > WINDOW_SLACK:
            identity.last_inbound_at = when


def _staff(userid: str) -> Staff | None:
    return (
        db.session.scalars(select(Staff).filter_by(wecom_userid=userid)).first() if userid else None
    )


def _relation(userid: str, external: str) -> ContactRelation | None:
    return db.session.scalars(
        select(ContactRelation).filter_by(wecom_userid=userid, external_userid=external)
    ).first()


def ingest_contact_change(corp_id: str, msg: dict, key: str, when: datetime):
    """change_external_contact: the customer's timeline, its rep, the relationship."""

    change, external = msg.get("ChangeType", ""), msg["ExternalUserID"]
    if (existing := timeline.find_by_dedupe_key(key)) is not None:
        return IngestResult(False, existing.id)
    state = msg.get("State", "") if isinstance(msg.get("State"), str) else ""
    customer, first = customers.find_or_create_by_identity(
        "wecom_external_userid",
        external,
        corp_id,
        source_channel=f"wecom:{state}" if state else "wecom",
    )
    staff = _staff(msg.get("UserID", ""))
    event, created = timeline.record_once(
        customer,
        CONTACT_KINDS.get(change, "wecom_contact_unknown"),
        channel="wecom",
        direction="inbound",
        actor_type="staff" if change == "del_external_contact" else "customer",
        actor_staff=staff,
        payload=message_payload(msg, first_contact=first),
        occurred_at=when,
        dedupe_key=key,
        needs_enrichment=True,
    )
    if created:
        _apply_relation(customer, staff, msg, when)
    return IngestResult(created, event.id)


def _apply_relation(customer: Customer, staff: Staff | None, msg: dict, when: datetime) -> None:
    change, userid, external = (
        msg.get("ChangeType", ""),
        msg.get("UserID", ""),
        msg["ExternalUserID"],
    )
    if not userid:
        return
    relation = _relation(userid, external)
    if change in ("add_external_contact", "add_half_external_contact"):
        if relation is None:
            relation = ContactRelation(
                customer_id=customer.id, wecom_userid=userid, external_userid=external
            )
            db.session.add(relation)
        relation.staff_id = staff.id if staff else None
        relation.state = msg.get("State", "") or relation.state or ""
        relation.half = change == "add_half_external_contact"
        relation.added_at, relation.ended_at, relation.end_reason = when, None, ""
        if staff is not None and customer.owner_id is None:
            # The rep the customer added becomes their sales rep, unless someone already is.
            customer.owner_id, customer.store_id = staff.id, customer.store_id or staff.store_id
    elif change in ("del_external_contact", "del_follow_user") and relation is not None:
        relation.ended_at = when
        source = msg.get("Source", "")
        relation.end_reason = "transfer" if source == "DELETE_BY_TRANSFER" else change
