"""口碑银行 at its edges: balances at the column's limit, and customer service reading
credits (money figures redacted, never a 500)."""

import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import CreditEntry
from tests.referrals.test_api import MP_APPID, _rewarded

INT_MAX = 2**31 - 1  # credit_entries.balance_after and credit_accounts.balance are INTEGER


@pytest.fixture
def app_mini(mini):
    mini.fake.add_app(MP_APPID, "mp-secret")
    return mini


def test_an_adjustment_past_the_largest_balance_is_refused_on_every_database(app_mini, bearer):
    """Repeated large adjustments once overflowed PostgreSQL's INTEGER (a 500) while SQLite
    took them: now both refuse with the field, and write nothing."""
    _, referrer = _rewarded(app_mini)
    _, admin = bearer("管理员", "admin")
    path = f"/api/v1/customers/{referrer.id}/credits/adjustments"
    answers = [
        app_mini.post(path, json={"amount": 10**8, "reason": "活动"}, headers=admin)
        for _ in range(22)
    ]
    assert [a.status_code for a in answers[:21]] == [201] * 21
    assert answers[21].status_code == 400
    assert "amount" in answers[21].json["error"]["fields"]
    credits = app_mini.get(f"/api/v1/customers/{referrer.id}/credits", headers=admin).json
    assert credits["balance"] == 2000 + 21 * 10**8 <= INT_MAX
    count = select(func.count()).select_from(CreditEntry)
    assert db.session.scalar(count.filter_by(customer_id=referrer.id)) == 22


def test_customer_service_reads_credits_and_redemptions_without_the_amounts(app_mini, bearer):
    """The credits page once failed its own response shape for 客服 (a 500): the money
    redaction turns `amount` into null, which the shape did not allow."""
    mine, referrer = _rewarded(app_mini)
    asked = app_mini.post(
        "/mini/v1/redemptions", json={"item": "窗帘", "amount": 100}, headers=mine
    )
    assert asked.status_code == 201
    _, service = bearer("郑客服", "service")
    credits = app_mini.get(f"/api/v1/customers/{referrer.id}/credits", headers=service)
    assert credits.status_code == 200, credits.json
    assert [(e["kind"], e["amount"]) for e in credits.json["items"]] == [("reward", None)]
    listed = app_mini.get("/api/v1/redemptions", headers=service)
    assert listed.status_code == 200
    assert [(r["item"], r["amount"]) for r in listed.json["items"]] == [("窗帘", None)]
