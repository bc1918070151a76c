"""The ledger under random sequences of referrals, stage changes, redemptions, approvals,
adjustments and reversals: the balance is always the sum of the entries, never negative,
and every entry's balance_after is the running sum."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from app.core.errors import Conflict
from app.core.extensions import db
from app.models import STAGE_CODES, CreditAccount, CreditEntry, Redemption, Staff
from app.services.referrals import attribution, redemptions
from tests.referrals.helpers import code_of, contacted, move, person


class Ledger(RuleBasedStateMachine):
    referees = Bundle("referees")
    asked = Bundle("redemptions")

    def __init__(self):
        super().__init__()
        self.referrers = [person(f"推荐人{i}") for i in range(2)]
        self.manager = db.session.scalars(select(Staff).filter_by(name="店长")).one()

    @rule(target=referees, who=st.integers(0, 1), contact=st.booleans())
    def refer(self, who, contact):
        referee = person("被推荐人")
        attribution.attribute(referee, code_of(self.referrers[who]), "mini")
        if contact:
            contacted(referee)
        return referee

    @rule(referee=referees, stage=st.sampled_from(STAGE_CODES))
    def change_stage(self, referee, stage):
        move(referee, stage)  # forwards signs and rewards; backwards reverses

    @rule(target=asked, who=st.integers(0, 1), amount=st.integers(1, 5000))
    def request(self, who, amount):
        try:
            return redemptions.request(self.referrers[who], "兑换", amount).id
        except Conflict:
            return None

    @rule(redemption_id=asked, approve=st.booleans())
    def decide(self, redemption_id, approve):
        if redemption_id is None:
            return
        try:
            with db.session.begin_nested():
                redemptions.decide(
                    db.session.get(Redemption, redemption_id), approve, "", self.manager
                )
        except Conflict:
            pass  # already decided, or the balance no longer covers it

    @rule(who=st.integers(0, 1), amount=st.integers(-3000, 3000))
    def adjust(self, who, amount):
        try:
            with db.session.begin_nested():
                redemptions.adjust(self.referrers[who], amount, "测试调整", self.manager)
        except Conflict:
            pass

    @invariant()
    def balance_is_the_sum_and_never_negative(self):
        for referrer in self.referrers:
            rows = db.session.scalars(
                select(CreditEntry).filter_by(customer_id=referrer.id).order_by(CreditEntry.id)
            ).all()
            running = 0
            for row in rows:
                running += row.amount
                assert row.balance_after == running >= 0
            account = db.session.get(CreditAccount, referrer.id)
            assert (account.balance if account else 0) == running


def test_the_ledger_always_adds_up(ctx, make_staff, monkeypatch):
    monkeypatch.setitem(ctx.config, "REFERRAL_COMPLETION_BONUS", 500)
    monkeypatch.setitem(ctx.config, "REFERRAL_SIGN_REWARD", 2000)
    make_staff("店长", "manager")
    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
