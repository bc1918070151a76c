"""The common stage event in prebuilt statements (app.core.prebuilt, on the transaction's
psycopg connection): an attributed referral moving forward that, at 签约, breaks no rule.
Nearly every event is one, and loading the referral and both people as ORM objects, or
running its statements through SQLAlchemy's execute, cost more CPU than the database
spends on the whole event. Anything else (a
step back, a held referral, a self-referral or review rule found at signing, a VIP to
name or flag) goes through lifecycle.move, the one place those rules are written out.

The same locks as the ORM path: the referral row (FOR UPDATE) serialises one referee's
events, the account row each balance, and the ledger's unique key stops a twin reward.
Rows the session already holds are expired, so their next read sees what was written.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import bindparam

from app.core import prebuilt, queue
from app.core.database import expire_loaded
from app.models import STEP_CODES, Referral
from app.models.types import UTCDateTime, utcnow
from app.services.notices import outbox
from app.services.referrals import attribution, ledger, review, steps, vip


@dataclass(frozen=True)
class Live:
    """A referee's live referral, locked, with both people."""

    id: int
    step: str
    status: str
    referrer_id: int
    referee_id: int
    referee: steps.Person
    referrer: steps.Person
    contacted: bool  # by staff (review.contacted_by_staff)


def load(referee_id: int, target: str) -> Live | None:
    """The referee's live referral, locked (its row only), in one round trip; None when
    there is none or its step is `target` already (a redelivered event: then nothing is
    locked, so the transaction writes nothing and its commit waits for no WAL flush)."""
    rows = prebuilt.execute(_LIVE, {"referee_id": referee_id, "target": target})
    if not rows:
        return None
    r = tuple(rows[0])
    referee = steps.Person(r[4], *r[5:9])
    referrer = steps.Person(r[3], *r[9:13])
    return Live(*r[:5], referee=referee, referrer=referrer, contacted=bool(r[13]))


def move(live: Live, target: str) -> bool:
    """Move `live` forward to `target` (True), or False, having written nothing, when the
    event is not the common one."""
    before = steps.rank(live.step)
    passed = STEP_CODES[before + 1 : steps.rank(target) + 1]
    if live.status != "attributed" or not passed or ("signed" in passed and _unclean(live)):
        return False
    # Writes whose results nobody reads wait to go in one round trip with the next
    # statement that needs its answer (the reward's first read), in the order written.
    writes = [(_SET_STEP, {"id": live.id, "step": target, "now": utcnow()})]
    for step in passed:
        writes.append(steps.step_events(live, step))
        if step == "signed":
            writes = _grant(live, "signed", writes)
    if target == "completed":
        writes = _grant(live, "completed", writes)
    if writes:
        prebuilt.execute_together(*writes)
    expire_loaded(Referral, live.id)
    return True


def _unclean(live: Live) -> bool:
    """Whether signing would void or hold the referral (lifecycle._signed decides how)."""
    return bool(
        attribution.self_referral(live.referrer, live.referee)
        or review.at_signing(live, contacted=live.contacted)
    )


def _grant(live: Live, step: str, writes: list) -> list:
    """lifecycle.grant for the common event; a VIP to name or flag goes to vip.check.
    `writes` go first (with the ledger's first statement); those still unsent are returned."""
    amount = current_app.config[steps.REWARD_SETTINGS[step]]
    if amount <= 0:  # 竣工's bonus is optional
        return writes
    masked = steps.mask_name(live.referee)
    reference = f"推荐{masked}{steps.REWARD_LABELS[step]}"
    credited = ledger.reward_now(live.referrer_id, live.id, step, amount, reference, writes)
    if credited is None:
        return []
    announce(
        live.referrer,
        live.id,
        step,
        credited.cycle,
        masked,
        credited.amount,
        credited.balance_after,
    )
    if vip.needs_check(live.referrer_id, credited.vip_since, credited.vip_review_at):
        vip.check(live.referrer_id)
    queue.enqueue_batched("jobs.value:recompute", live.referrer_id)
    return []


_LIVE = prebuilt.Statement(
    "SELECT r.id, r.step, r.status, r.referrer_id, r.referee_id,"
    " e.name, e.nickname, e.phone_hash, e.address,"
    " o.name, o.nickname, o.phone_hash, o.address,"
    " EXISTS (SELECT 1 FROM timeline_events t WHERE t.customer_id = r.referee_id"
    f" AND {review.STAFF_CONTACT_SQL})"
    " FROM referrals r JOIN customers e ON e.id = r.referee_id"
    " JOIN customers o ON o.id = r.referrer_id"
    " WHERE r.referee_id = :referee_id AND r.status IN ('attributed', 'held')"
    # A row whose step is the target is neither returned nor locked; a row a twin moved to
    # the target while this waited for its lock is checked again, and not returned.
    " AND r.step <> :target",
    lock="FOR UPDATE OF r",
)
_SET_STEP = prebuilt.Statement(
    "UPDATE referrals SET step = :step, updated_at = :now WHERE id = :id",
    bindparam("now", type_=UTCDateTime),
)


def announce(
    referrer, referral_id: int, step: str, cycle: int, masked: str, amount: int, balance: int
) -> None:
    """The referrer's referral-reward notice, once per referral, step and cycle (the notice's
    key); both reward paths (this one and lifecycle.grant) send it. Batched hand-off: one
    RQ job per reward cost the stage event a sixth of its CPU."""
    outbox.notify_customer(
        "referral-reward",
        referrer,
        f"referral:{referral_id}:{step}:{cycle}",
        batched=True,
        referee_name=masked,
        credits=amount,
        balance=balance,
    )
