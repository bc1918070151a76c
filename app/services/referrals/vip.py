"""VIP设计顾问: three signed referrals (REFERRAL_VIP_COUNT) make a referrer VIP, recorded
with the date and told with a notice. A reversal that takes them under three flags the
account for a manager; nobody is downgraded by the machine."""

from __future__ import annotations

from flask import current_app

from app.core import prebuilt
from app.core.extensions import db
from app.models import CreditAccount, Customer
from app.models.types import utcnow
from app.services.customers import timeline
from app.services.notices import outbox
from app.services.referrals import ledger
from app.services.value import inputs


def check(referrer_id: int, acct: CreditAccount | None = None) -> None:
    """After a reward or a reversal (`acct`: the account it locked): become VIP, or be
    flagged for review."""
    count = inputs.signed_referral_count(referrer_id)
    needed = current_app.config["REFERRAL_VIP_COUNT"]
    acct = acct or ledger.account(referrer_id)
    if count >= needed and acct.vip_since is None:
        customer = db.session.get(Customer, referrer_id)
        acct.vip_since = utcnow()
        timeline.record(customer, "referral_vip", payload={"signed_referrals": count})
        outbox.notify_customer("referral-vip", customer, f"vip:{referrer_id}", count=count)
    elif count < needed and acct.vip_since is not None and acct.vip_review_at is None:
        acct.vip_review_at = utcnow()
        acct.vip_review_reason = f"签约推荐减少为 {count} 人（不足 {needed} 人）"
    db.session.flush()


def needs_check(referrer_id: int, vip_since, vip_review_at) -> bool:
    """Whether `check` would change anything for an account with these marks (one count
    query; the hot path calls `check` only then)."""
    count = prebuilt.execute(_SIGNED, {"referrer_id": referrer_id})[0][0]
    needed = current_app.config["REFERRAL_VIP_COUNT"]
    if count >= needed:
        return vip_since is None
    return vip_since is not None and vip_review_at is None


# inputs.signed_referral_count as a prebuilt statement (the ORM's is dearer); run after the
# account is locked, so it counts what a concurrent reward committed meanwhile.
_SIGNED = prebuilt.Statement(
    "SELECT count(*) FROM referrals WHERE referrer_id = :referrer_id"
    " AND status = 'attributed' AND step IN ("
    + ", ".join(f"'{step}'" for step in inputs.SIGNED_STEPS)
    + ")"
)


def clear_review(referrer_id: int, keep: bool) -> None:
    """A manager's decision on a flagged VIP: keep (flag cleared) or end the VIP."""
    acct = ledger.account(referrer_id)
    if not keep:
        acct.vip_since = None
    acct.vip_review_at, acct.vip_review_reason = None, ""
