"""Fraud review: the rules that hold a referral for a manager before any reward, and the
manager's decision (release: the rewards it earned are granted; reject: none ever are).

Rules (thresholds are settings): the referee shares the referrer's address; the referrer
brought REFERRAL_DEVICE_LIMIT referees from one device, or REFERRAL_BURST_COUNT within
REFERRAL_BURST_MINUTES; at signing, no staff member ever wrote to or called the referee
(REFERRAL_REQUIRE_CONTACT).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, or_, select

from app.core import prebuilt
from app.core.errors import Conflict
from app.core.extensions import db
from app.models import Customer, Referral, Staff, TimelineEvent
from app.models.types import UTCDateTime, utcnow
from app.services.customers import audit

REASONS = {
    "same_address": "与推荐人地址相同",
    "same_device": "同一设备推荐多人",
    "burst": "短时间内推荐多人",
    "no_contact": "签约时员工从未联系过被推荐人",
}


def _same_address(referrer: Customer, referee: Customer) -> bool:
    mine, theirs = (referrer.address or "").strip(), (referee.address or "").strip()
    return bool(mine) and mine == theirs


def _count(query, **params) -> int:
    return prebuilt.execute(query, params)[0][0]


# Built once (app.core.prebuilt): the burst count runs at every attribution.
_REFERRED = (
    "SELECT count(*) FROM referrals WHERE referrer_id = :referrer_id"
    " AND status IN ('attributed', 'held', 'rejected')"
)
_FROM_DEVICE = prebuilt.Statement(_REFERRED + " AND device = :device")
_SINCE = prebuilt.Statement(
    _REFERRED + " AND created_at >= :since", bindparam("since", type_=UTCDateTime)
)


def at_attribution(referrer: Customer, referee: Customer, device: str, at: datetime) -> str:
    """The rule a new referral breaks ("" when none)."""
    config = current_app.config
    if _same_address(referrer, referee):
        return "same_address"
    limit = config["REFERRAL_DEVICE_LIMIT"]
    if device and _count(_FROM_DEVICE, referrer_id=referrer.id, device=device) >= limit:
        return "same_device"
    since = at - timedelta(minutes=config["REFERRAL_BURST_MINUTES"])
    if _count(_SINCE, referrer_id=referrer.id, since=since) >= config["REFERRAL_BURST_COUNT"]:
        return "burst"
    return ""


# The same test as SQL on timeline_events t, for the stage event's one-statement load
# (app.services.referrals.forward).
STAFF_CONTACT_SQL = "(t.direction = 'outbound' OR t.actor_type = 'staff')"


def contacted_by_staff(customer_id: int) -> bool:
    """Whether any staff member wrote to, called or noted the customer (an outbound message
    or a staff action on the timeline)."""
    found = db.session.scalar(
        select(TimelineEvent.id)
        .where(
            TimelineEvent.customer_id == customer_id,
            or_(TimelineEvent.direction == "outbound", TimelineEvent.actor_type == "staff"),
        )
        .limit(1)
    )
    return found is not None


def at_signing(referral: Referral, *, contacted: bool | None = None) -> str:
    """The rule a referral breaks when its referee signs ("" when none); `contacted`: whether
    staff contacted the referee, when the caller already knows."""
    if _same_address(referral.referrer, referral.referee):
        return "same_address"
    if not current_app.config["REFERRAL_REQUIRE_CONTACT"]:
        return ""
    if contacted is None:
        contacted = contacted_by_staff(referral.referee_id)
    return "" if contacted else "no_contact"


def hold(referral: Referral, rule: str) -> None:
    referral.status, referral.reason = "held", rule


def decide(referral: Referral, release: bool, note: str, actor: Staff) -> None:
    """A manager's decision on a held referral (Conflict when it is not held)."""
    if referral.status != "held":
        raise Conflict("该推荐不在待审核状态")
    before = {"status": referral.status, "reason": referral.reason}
    referral.status = "attributed" if release else "rejected"
    referral.review_note, referral.reviewed_by_id = note, actor.id
    referral.reviewed_at = utcnow()
    audit.record(
        "referral.review",
        "referral",
        referral.id,
        actor=actor,
        before=before,
        after={"status": referral.status, "note": note},
    )
