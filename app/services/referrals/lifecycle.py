"""A referral follows its referee's lifecycle: each stage change moves its step (a timeline
event for both people); 签约 earns the referrer REFERRAL_SIGN_REWARD credits and 竣工 the
optional REFERRAL_COMPLETION_BONUS, each once per referral (the ledger's unique key). A
contract cancelled (the stage moved back below 签约) writes a reversal, never a deletion.
"""

from __future__ import annotations

from flask import current_app

from app.core import queue
from app.core.extensions import db
from app.models import STEP_CODES, CreditAccount, Referral
from app.services.referrals import attribution, forward, ledger, review, steps, vip


def on_stage_changed(customer_id: int, _old_stage: str, new_stage: str) -> None:
    """Hook "stage_changed": move the referee's live referral to the stage's step (a
    merged-away customer has no stages to change, and no live referral)."""
    target = steps.STEP_OF_STAGE.get(new_stage)
    if target is None:
        return
    db.session.flush()  # the Core read below sees what the session changed (a phone, say)
    live = forward.load(customer_id, target)
    if live is None or forward.move(live, target):
        return
    move(attribution.live_for(customer_id, lock=True), target)


def move(referral: Referral, target: str) -> None:
    """Set the referral's step to `target`, recording, rewarding or reversing on the way."""
    before = referral.step
    referral.step = target
    if steps.rank(target) > steps.rank(before):
        for step in STEP_CODES[steps.rank(before) + 1 : steps.rank(target) + 1]:
            steps.record_step(referral, step)
            if step == "signed":
                _signed(referral)
        if target == "completed":
            grant(referral, "completed")
        return
    steps.record_step(referral, target, kind="referral_step_back")
    for step in ("completed", "signed"):
        if steps.rank(target) < steps.rank(step):
            take_back(referral, step, "合同取消" if step == "signed" else "竣工撤回")


def _signed(referral: Referral) -> None:
    """签约: a self-referral found only now (the referee gave the referrer's phone) is void; a
    referral breaking a review rule is held; otherwise the reward."""
    reason = attribution.self_referral(referral.referrer, referral.referee)
    if reason:
        void(referral, reason)
        return
    if referral.status == "attributed":
        rule = review.at_signing(referral)
        if rule:
            review.hold(referral, rule)
            return
    grant(referral, "signed")


def grant(referral: Referral, step: str) -> None:
    """The step's reward for an attributed referral (once; nothing while held)."""
    amount = current_app.config[steps.REWARD_SETTINGS[step]]
    if referral.status != "attributed" or amount <= 0:
        return
    masked = steps.mask_name(referral.referee)
    reference = f"推荐{masked}{steps.REWARD_LABELS[step]}"
    entry = ledger.reward(referral.referrer_id, referral.id, step, amount, reference)
    if entry is None:
        return
    forward.announce(
        referral.referrer, referral.id, step, entry.cycle, masked, entry.amount, entry.balance_after
    )
    _after_change(referral)


def take_back(referral: Referral, step: str, why: str) -> None:
    entry = ledger.reverse(
        referral.referrer_id, referral.id, step, f"{why}：推荐{steps.mask_name(referral.referee)}"
    )
    if entry is not None:
        _after_change(referral)


def _after_change(referral: Referral) -> None:
    db.session.flush()
    vip.check(referral.referrer_id, db.session.get(CreditAccount, referral.referrer_id))
    # After the commit, in batches (one RPUSH): the referrer's value counts signed referrals.
    queue.enqueue_batched("jobs.value:recompute", referral.referrer_id)


def void(referral: Referral, reason: str) -> None:
    """A referral found to be a self-referral: void, and every standing reward reversed."""
    referral.status, referral.reason = "void", reason
    db.session.flush()
    for step in ("completed", "signed"):
        take_back(referral, step, "自我推荐")


def release(referral: Referral) -> None:
    """After a manager released a held referral: the rewards its step has earned."""
    for step in ("signed", "completed"):
        if steps.rank(referral.step) >= steps.rank(step):
            grant(referral, step)
