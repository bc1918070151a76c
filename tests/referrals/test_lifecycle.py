"""A referral follows its referee's stages: timeline events, rewards, reversals, VIP."""

import pytest
from sqlalchemy import select

from app.core.extensions import db
from app.models import AuditLog, CreditAccount, TimelineEvent
from app.services.customers import customers
from app.services.referrals import attribution, bank
from app.services.value import inputs, value
from tests.referrals.helpers import (
    balance,
    code_of,
    contacted,
    entries,
    move,
    notices,
    person,
    redeem,
    referred,
)


@pytest.fixture
def referrer(ctx):
    return person("王业主", phone="13800001111")


def steps_on(customer):
    rows = db.session.scalars(
        select(TimelineEvent)
        .filter_by(customer_id=customer.id, kind="referral_step")
        .order_by(TimelineEvent.id)
    )
    return [e.payload["step_label"] for e in rows]


def test_each_step_is_a_timeline_event_for_both_people(referrer):
    referee, referral = referred(referrer)
    move(referee, "measured")
    move(referee, "design")  # same step: nothing new
    move(referee, "contract")
    move(referee, "completed")
    assert referral.step == "completed"
    expected = ["已登记", "已量房", "已签约", "已竣工"]
    assert steps_on(referee) == expected and steps_on(referrer) == expected
    told = db.session.scalars(
        select(TimelineEvent).filter_by(customer_id=referrer.id, kind="referral_step")
    ).first()
    assert told.payload["referee"] == "李**"


def test_signing_rewards_the_referrer_once_and_tells_them(referrer):
    referee, _ = referred(referrer)
    move(referee, "contract")
    move(referee, "construction")  # still signed: no second reward
    assert balance(referrer) == 2000
    (entry,) = entries(referrer)
    assert (entry.kind, entry.amount, entry.balance_after) == ("reward", 2000, 2000)
    (notice,) = notices("referral-reward")
    assert notice.customer_id == referrer.id
    assert notice.context == {"referee_name": "李**", "credits": 2000, "balance": 2000}


def test_the_reward_and_bonus_are_settings(referrer, app, monkeypatch):
    monkeypatch.setitem(app.config, "REFERRAL_SIGN_REWARD", 500)
    monkeypatch.setitem(app.config, "REFERRAL_COMPLETION_BONUS", 300)
    referee, _ = referred(referrer)
    move(referee, "completed")  # straight through 签约 to 竣工
    assert [e.amount for e in entries(referrer)] == [500, 300]


def test_no_completion_bonus_by_default(referrer):
    referee, _ = referred(referrer)
    move(referee, "completed")
    assert [e.amount for e in entries(referrer)] == [2000]


def test_a_cancelled_contract_is_reversed_and_a_new_one_rewards_again(referrer):
    referee, _ = referred(referrer)
    move(referee, "contract")
    move(referee, "quoted")  # contract cancelled
    assert [(e.kind, e.amount, e.balance_after) for e in entries(referrer)] == [
        ("reward", 2000, 2000),
        ("reversal", -2000, 0),
    ]
    move(referee, "quoted")
    move(referee, "contract")  # signed again: net one reward
    move(referee, "contract")
    assert [e.amount for e in entries(referrer)] == [2000, -2000, 2000]
    assert balance(referrer) == 2000
    move(referee, "lead")
    move(referee, "contract")
    assert sum(e.amount for e in entries(referrer)) == 2000


def test_a_reversal_never_takes_the_balance_below_zero(referrer, bearer):
    manager, _ = bearer("店长", "manager")
    referee, _ = referred(referrer)
    move(referee, "contract")
    redeem(referrer, 1500, manager)
    move(referee, "measured")
    assert balance(referrer) == 0
    assert [e.balance_after for e in entries(referrer)] == [2000, 500, 0]


def test_signing_again_after_a_part_kept_reversal_pays_only_the_rest(referrer, bearer):
    """Signed (2,000), 1,500 redeemed, cancelled (only 500 could be taken back), signed
    again: the referrer still holds 1,500 of the step, so the new reward is 500 and the
    referral has paid 2,000 in all, as one signing should. Cancelled again (the 500 taken
    back) and signed a third time: 500 again, still 2,000 in all."""
    manager, _ = bearer("店长", "manager")
    referee, _ = referred(referrer)
    move(referee, "contract")
    redeem(referrer, 1500, manager)
    move(referee, "measured")
    move(referee, "contract")
    rows = entries(referrer)
    assert [(e.kind, e.amount) for e in rows] == [
        ("reward", 2000),
        ("redemption", -1500),
        ("reversal", -500),
        ("reward", 500),
    ]
    assert "已扣除此前取消时未能扣回的 1500" in rows[-1].reference
    assert notices("referral-reward")[-1].context["credits"] == 500
    assert balance(referrer) == 500
    move(referee, "measured")
    move(referee, "contract")
    assert [e.amount for e in entries(referrer)][4:] == [-500, 500]
    assert sum(e.amount for e in entries(referrer) if e.kind != "redemption") == 2000
    assert [n.context["credits"] for n in notices("referral-reward")] == [2000, 500, 500]


def test_the_completion_bonus_and_a_raised_reward_count_what_is_still_held(
    referrer, bearer, app, monkeypatch
):
    """Signed (500) and completed (300), 700 redeemed, stepped back before signing: the
    bonus gives back 100 of its 300, the reward nothing. Completed again: the reward is
    covered (no entry, no notice), the bonus pays its 100. Stepped back again and the
    reward raised to 800 meanwhile: completed again, the reward pays 800 less the 500 held
    and the bonus its 100 again; the referral has paid 800 + 300, never a negative balance."""
    monkeypatch.setitem(app.config, "REFERRAL_SIGN_REWARD", 500)
    monkeypatch.setitem(app.config, "REFERRAL_COMPLETION_BONUS", 300)
    manager, _ = bearer("店长", "manager")
    referee, _ = referred(referrer)
    move(referee, "completed")
    redeem(referrer, 700, manager)
    move(referee, "measured")
    move(referee, "completed")
    assert [e.amount for e in entries(referrer)] == [500, 300, -700, -100, 0, 100]
    assert [n.context["credits"] for n in notices("referral-reward")] == [500, 300, 100]
    monkeypatch.setitem(app.config, "REFERRAL_SIGN_REWARD", 800)
    move(referee, "measured")
    move(referee, "completed")
    assert [e.amount for e in entries(referrer)][6:] == [-100, 300, 100]
    assert [n.context["credits"] for n in notices("referral-reward")][3:] == [300, 100]
    assert sum(e.amount for e in entries(referrer) if e.kind != "redemption") == 1100
    assert balance(referrer) == 400
    assert min(e.balance_after for e in entries(referrer)) >= 0


def test_a_referee_never_contacted_by_staff_is_held_until_a_manager_releases(referrer, bearer):
    manager, _ = bearer("店长", "manager")
    referee = person("李四")
    referral = attribution.attribute(referee, code_of(referrer), "mini")
    move(referee, "contract")
    assert (referral.status, referral.reason, balance(referrer)) == ("held", "no_contact", 0)
    bank.decide_review(referral, True, "电话核实过", manager)
    assert referral.status == "attributed" and balance(referrer) == 2000
    assert db.session.scalars(select(AuditLog).filter_by(action="referral.review")).one()


def test_a_rejected_referral_never_earns(referrer, bearer):
    manager, _ = bearer("店长", "manager")
    referee, referral = referred(referrer, address="翠湖天地3栋1202")
    assert referral.status == "attributed"
    referrer.address = "翠湖天地3栋1202"
    move(referee, "contract")
    assert (referral.status, referral.reason) == ("held", "same_address")
    bank.decide_review(referral, False, "同一家人", manager)
    move(referee, "completed")
    assert (referral.status, balance(referrer)) == ("rejected", 0)


def test_a_burst_of_referees_is_held(referrer):
    held = [referred(referrer, name=f"客户{i}")[1].status for i in range(4)]
    assert held == ["attributed", "attributed", "attributed", "held"]


def test_many_referees_from_one_device_are_held(referrer):
    statuses = []
    for i in range(3):
        referee = person(f"客户{i}")
        statuses.append(
            attribution.attribute(referee, code_of(referrer), "mini", device="dev-1").status
        )
    assert statuses == ["attributed", "attributed", "held"]


def test_three_signed_referrals_make_a_vip_and_a_reversal_flags_not_downgrades(referrer):
    referees = [referred(referrer, name=f"客户{i}")[0] for i in range(3)]
    for referee in referees[:2]:
        move(referee, "contract")
    assert db.session.get(CreditAccount, referrer.id).vip_since is None
    move(referees[2], "contract")
    account = db.session.get(CreditAccount, referrer.id)
    assert account.vip_since is not None
    (notice,) = notices("referral-vip")
    assert notice.customer_id == referrer.id
    move(referees[0], "quoted")
    assert account.vip_since is not None  # not silently downgraded
    assert account.vip_review_at is not None and "2" in account.vip_review_reason


def test_signed_referrals_raise_the_referrers_value(referrer):
    referee, _ = referred(referrer)
    move(referee, "contract")
    assert inputs.signed_referral_count(referrer.id) == 1
    row = value.recompute(referrer.id)
    assert {r["input"]: r["text"] for r in row.reasons}["referrals"] == "推荐签约 1 人"


def test_a_merge_that_reveals_a_self_referral_reverses_the_reward(referrer):
    referee, referral = referred(referrer, name="王业主二号")
    move(referee, "contract")
    assert balance(referrer) == 2000
    customers.merge(referrer, referee, actor="test", reason="同一人")
    db.session.flush()
    db.session.refresh(referral)
    assert (referral.status, referral.reason) == ("void", "self_merge")
    assert balance(referrer) == 0
    assert [e.kind for e in entries(referrer)] == ["reward", "reversal"]


def test_a_self_referral_found_at_signing_by_phone_is_void(referrer):
    referee, referral = referred(referrer)
    referee.phone_hash = referrer.phone_hash  # the referee gave the referrer's number later
    contacted(referee)
    move(referee, "contract")
    assert (referral.status, referral.reason, balance(referrer)) == ("void", "self_phone", 0)
