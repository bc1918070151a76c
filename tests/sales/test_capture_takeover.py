"""A typed phone in the mini program's lead form is not proof of anything: it may not
merge the typist into another WeChat user's record (and so sign them in as that user,
credits included). The two homeowners are on the second app (`mini`), so that each
request has its own `g`."""

from __future__ import annotations

from sqlalchemy import select

from app.core.extensions import db
from app.models import Customer, CustomerIdentity, Redemption
from app.services.customers import customers
from app.services.referrals import ledger

VICTIM_PHONE = "13912345678"


def _customer_of(openid: str) -> Customer:
    query = select(CustomerIdentity).filter_by(kind="mini_openid", value=openid)
    return db.session.scalars(query).one().customer


def test_a_typed_phone_of_another_wechat_user_does_not_hand_over_their_record(mini):
    victim_h = mini.login("oVictim")
    victim = _customer_of("oVictim")
    customers.add_identity(victim, "phone", VICTIM_PHONE)
    ledger.post(victim.id, 5000, "adjustment", reference="测试", actor="test")
    db.session.commit()
    attacker_h = mini.login("oAttacker")
    attacker_id = _customer_of("oAttacker").id
    sent = mini.post("/mini/v1/leads", json={"phone": VICTIM_PHONE}, headers=attacker_h)
    assert sent.status_code == 201 and sent.json["customer_id"] == attacker_id
    assert mini.get("/mini/v1/credits", headers=attacker_h).json["balance"] == 0
    asked = mini.post(
        "/mini/v1/redemptions", json={"item": "窗帘", "amount": 5000}, headers=attacker_h
    )
    assert asked.status_code == 409
    db.session.expire_all()
    assert db.session.scalars(select(Redemption)).all() == []
    assert db.session.get(Customer, attacker_id).merged_into_id is None
    assert customers.find_by_identity("phone", VICTIM_PHONE).id == victim.id
    assert mini.get("/mini/v1/credits", headers=victim_h).json["balance"] == 5000
