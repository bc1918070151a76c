"""Attribution: a scanned or typed code links a new lead (referee) to the referrer.

The first valid referral wins. Not attributed (recorded with the reason): the person
referring themselves (same customer, phone hash or unionid), someone the company already
served (a stage beyond 潜在), and a lead whose first contact is older than the
attribution window (REFERRAL_ATTRIBUTION_DAYS before the referral). A referral breaking a
review rule is held (app.services.referrals.review).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload, make_transient_to_detached

from app.core import prebuilt
from app.core.database import insert_statement
from app.core.extensions import db
from app.models import Customer, Referral, TimelineEvent
from app.models.types import utcnow
from app.services.customers import customers, stages
from app.services.referrals import codes, review, steps

NOT_ATTRIBUTED = {
    "self": "不能推荐自己",
    "self_phone": "与推荐人手机号相同",
    "existing_customer": "推荐前已是本公司客户",
    "outside_window": "首次接触早于归属期",
    "loop": "对方已是推荐人的上游（推荐关系成环）",
}
LOOP_DEPTH = 20  # how far up the referrer's own referrers a loop is looked for
CHANNELS = ("mini", "mp", "wecom")


def self_referral(referrer: Customer, referee: Customer) -> str:
    """Why the two are one person ("" when they are not). A unionid (or any WeChat
    identity) belongs to one customer only, so the same person reaching us through another
    WeChat app resolves to the referrer's own record: "self"; two records found later to
    share one are merged, and the merge voids the referral (app.services.referrals.merge)."""
    if referrer.id == referee.id:
        return "self"
    if referrer.phone_hash and referrer.phone_hash == referee.phone_hash:
        return "self_phone"
    return ""


def _refusal(referrer: Customer, referee: Customer, at: datetime) -> str:
    reason = self_referral(referrer, referee)
    if reason:
        return reason
    if stages.rank(referee.stage) > stages.rank("lead"):
        return "existing_customer"
    if _upstream(referrer.id, referee.id):
        return "loop"
    window = timedelta(days=current_app.config["REFERRAL_ATTRIBUTION_DAYS"])
    if referee.created_at < at - window:
        return "outside_window"
    return ""


def _upstream(referrer_id: int, referee_id: int) -> bool:
    """Whether `referee_id` brought `referrer_id` in, directly or through others: then the
    referee knew us first, and a loop would pay each for the other (A→B and B→A)."""
    seen = {referrer_id}
    for _ in range(LOOP_DEPTH):
        rows = prebuilt.execute(_LIVE, {"referee_id": referrer_id})
        up = rows[0][1] if rows else None
        if up is None or up in seen:
            return False
        if up == referee_id:
            return True
        seen.add(up)
        referrer_id = up
    return False


def live_for(referee_id: int, *, lock: bool = False) -> Referral | None:
    """The referee's live referral; with `lock`, locked (its row only) and loaded with
    both people in the same round trip."""
    query = select(Referral).where(
        Referral.referee_id == referee_id, Referral.status.in_(("attributed", "held"))
    )
    if lock:
        query = query.options(
            joinedload(Referral.referee, innerjoin=True),
            joinedload(Referral.referrer, innerjoin=True),
        ).with_for_update(of=Referral)
    return db.session.scalars(query).first()


def attribute(
    referee: Customer, code: str, channel: str, *, device: str = "", at: datetime | None = None
) -> Referral | None:
    """The referral of `referee` by the owner of `code` (None for an unknown code): a live
    one already there wins; else a new one, attributed, held or not attributed."""
    db.session.flush()  # the Core statements below see what the session holds
    found = _code_and_owner(code)
    if found is None:
        return None
    code, referrer = found
    at = at or utcnow()
    referee = customers.resolve(referee)
    prebuilt.execute(_LOCK_CUSTOMER, {"id": referee.id})  # one referee's attributions in turn
    # A statement of its own after the lock: it sees a referral a twin committed meanwhile.
    existing = prebuilt.execute(_LIVE, {"referee_id": referee.id})
    if existing:
        return db.session.get(Referral, existing[0][0])
    refused = _refusal(referrer, referee, at)
    if refused:
        return _not_attributed(referrer, referee, code, channel, refused)
    return _new(referrer, referee, code, channel, device, at)


def _new(
    referrer: steps.Person, referee: Customer, code: str, channel: str, device: str, at
) -> Referral:
    """The referral, attributed or held, with its first step on both timelines."""
    values = {
        "referrer_id": referrer.id,
        "referee_id": referee.id,
        "code": code,
        "channel": channel,
        "device": device[:64],
        "step": "registered",
        "status": "attributed",
        "reason": "",
        "review_note": "",
        "reviewed_by_id": None,
        "reviewed_at": None,
        "attributed_at": at,
        "created_at": at,
        "updated_at": at,
    }
    rule = review.at_attribution(referrer, referee, device, at)
    if rule:
        values.update(status="held", reason=rule)  # review.hold
    referral = Referral(id=prebuilt.execute(_INSERT, values)[0][0], **values)
    make_transient_to_detached(referral)
    db.session.add(referral)
    steps.record_step(referral, "registered")
    return referral


def _code_and_owner(code: str) -> tuple[str, steps.Person | Customer] | None:
    """The code and the customer alive today who owns it, in one round trip (None for an
    unknown code)."""
    code = codes.normalise(code)
    if not code or len(code) > 16:
        return None
    rows = prebuilt.execute(_CODE, {"code": code})
    if not rows:
        return None
    code, owner_id, merged_into_id, *person = rows[0]
    if merged_into_id is not None:  # merged away: the customer it went into
        return code, customers.resolve(db.session.get(Customer, owner_id))
    return code, steps.Person(owner_id, *person)


# Built once, plain SQL on the driver (app.core.prebuilt): attribution is one of the
# referral bench's events.
_CODE = prebuilt.Statement(
    "SELECT k.code, c.id, c.merged_into_id, c.name, c.nickname, c.phone_hash, c.address"
    " FROM referral_codes k JOIN customers c ON c.id = k.customer_id WHERE k.code = :code"
)
_LOCK_CUSTOMER = prebuilt.Statement("SELECT id FROM customers WHERE id = :id", lock="FOR UPDATE")
# A customer's live referral as referee: its id, and who brought them.
_LIVE = prebuilt.Statement(
    "SELECT id, referrer_id FROM referrals"
    " WHERE referee_id = :referee_id AND status IN ('attributed', 'held')"
)
_INSERT = prebuilt.Statement(
    insert_statement(
        Referral.__table__,
        (
            "referrer_id",
            "referee_id",
            "code",
            "channel",
            "device",
            "step",
            "status",
            "reason",
            "review_note",
            "reviewed_by_id",
            "reviewed_at",
            "attributed_at",
            "created_at",
            "updated_at",
        ),
    )
)


def _not_attributed(
    referrer: Customer, referee: Customer, code: str, channel: str, reason: str
) -> Referral:
    """The refusal, recorded once per referrer and referee."""
    row = db.session.scalars(
        select(Referral).filter_by(
            referrer_id=referrer.id, referee_id=referee.id, status="not_attributed"
        )
    ).first()
    if row is None:
        row = Referral(
            referrer_id=referrer.id,
            referee_id=referee.id,
            code=code,
            channel=channel,
            device="",
            step="registered",
            status="not_attributed",
            reason=reason,
            review_note="",
        )
        db.session.add(row)
        db.session.flush()
    return row


# WeChat events that carry a referral scene: a follow or a scan of an official-account
# QR (the payload's `scene`), a WeCom contact way's `State`.
SCENE_KINDS = {"follow": "mp", "qr_scan": "mp"}
STATE_KINDS = {"wecom_contact_added": "wecom", "wecom_contact_added_half": "wecom"}


def scanned_code(event: TimelineEvent) -> tuple[str, str] | None:
    """(code, channel) of an inbound event naming r_<code>, else None."""
    payload = event.payload or {}
    if event.kind in SCENE_KINDS:
        code = codes.scene_code(payload.get("scene", ""))
        return (code, SCENE_KINDS[event.kind]) if code else None
    if event.kind in STATE_KINDS:
        raw = payload.get("raw") if isinstance(payload.get("raw"), dict) else {}
        code = codes.scene_code(raw.get("State", ""))
        return (code, STATE_KINDS[event.kind]) if code else None
    return None


def on_event(event: TimelineEvent) -> None:
    """Hook "event_enriched": a follow, scan or WeCom add naming r_<code> attributes."""
    found = scanned_code(event)
    if found is None:
        return
    customer = db.session.get(Customer, event.customer_id)
    if customer is not None:
        attribute(customer, found[0], found[1], at=event.occurred_at)
