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
