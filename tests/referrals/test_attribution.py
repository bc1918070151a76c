"""Attribution: who is credited with a new lead, and who is not (with the reason)."""

from datetime import timedelta

import pytest

from app.core.extensions import db
from app.models.types import utcnow
from app.services.customers import customers
from app.services.referrals import attribution
from tests.referrals.helpers import code_of, person


@pytest.fixture
def referrer(ctx):
    return person("王业主", phone="13800001111", unionid="uReferrer")


def test_a_new_lead_with_a_code_is_attributed_at_registered(referrer):
    referee = person("李四")
    referral = attribution.attribute(referee, code_of(referrer), "mini")
    assert (referral.status, referral.step, referral.referrer_id) == (
        "attributed",
        "registered",
        referrer.id,
    )
    assert referral.attributed_at is not None


def test_an_unknown_code_attributes_nothing(referrer):
    assert attribution.attribute(person("李四"), "NOPE2345", "mini") is None


@pytest.mark.parametrize(
    ("age", "status", "reason"),
    [
        (timedelta(days=90) - timedelta(minutes=1), "attributed", ""),
        (timedelta(days=90) + timedelta(minutes=1), "not_attributed", "outside_window"),
    ],
)
def test_the_attribution_window_edges(referrer, age, status, reason):
    """A lead first seen just inside the 90 days is attributed; just outside it is not."""
    now = utcnow()
    referee = person("李四", created_at=now - age)
    referral = attribution.attribute(referee, code_of(referrer), "mini", at=now)
    assert (referral.status, referral.reason) == (status, reason)


def test_the_window_is_a_setting(referrer, app, monkeypatch):
    monkeypatch.setitem(app.config, "REFERRAL_ATTRIBUTION_DAYS", 7)
    now = utcnow()
    referee = person("李四", created_at=now - timedelta(days=8))
    referral = attribution.attribute(referee, code_of(referrer), "mini", at=now)
    assert referral.reason == "outside_window"


def test_the_first_referral_wins(referrer):
    other = person("赵推荐")
    referee = person("李四")
    first = attribution.attribute(referee, code_of(referrer), "mp")
    second = attribution.attribute(referee, code_of(other), "mini")
    assert second.id == first.id and second.referrer_id == referrer.id


def test_someone_already_served_is_not_attributed(referrer):
    referral = attribution.attribute(person("李四", stage="measured"), code_of(referrer), "mini")
    assert (referral.status, referral.reason) == ("not_attributed", "existing_customer")


def test_nobody_refers_themselves(referrer):
    referral = attribution.attribute(referrer, code_of(referrer), "mini")
    assert (referral.status, referral.reason) == ("not_attributed", "self")


def test_self_referral_by_phone_is_refused(referrer):
    twin = person("王业主小号", phone="138 0000 1111")
    referral = attribution.attribute(twin, code_of(referrer), "mini")
    assert (referral.status, referral.reason) == ("not_attributed", "self_phone")


def test_a_refusal_is_recorded_once(referrer):
    first = attribution.attribute(referrer, code_of(referrer), "mini")
    again = attribution.attribute(referrer, code_of(referrer), "mp")
    assert again.id == first.id


def test_a_code_of_a_merged_away_customer_credits_the_kept_one(referrer):
    old = person("王业主旧档")
    code = code_of(old)
    customers.merge(referrer, old, actor="test")
    db.session.flush()
    referral = attribution.attribute(person("李四"), code, "mini")
    assert referral.referrer_id == referrer.id


def test_a_referral_loop_is_not_attributed(ctx):
    """A brought B, then A types B's code: A knew us first. Without this, A→B and B→A were
    both attributed and each signing paid the other; a longer ring (A→B→C→A) too."""
    a, b, c = person("甲"), person("乙"), person("丙")
    assert attribution.attribute(b, code_of(a), "mini").status == "attributed"
    assert attribution.attribute(c, code_of(b), "mini").status == "attributed"
    for referee, referrer in ((a, b), (a, c)):
        refused = attribution.attribute(referee, code_of(referrer), "mini")
        assert (refused.status, refused.reason) == ("not_attributed", "loop")
    assert attribution.live_for(a.id) is None
