"""Sales endpoints at their edges: times past the calendar's end."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.core.extensions import db
from app.models import Customer, FollowUp


def _customer_of(rep) -> Customer:
    customer = Customer(name="周先生", owner_id=rep.id, store_id=rep.store_id)
    db.session.add(customer)
    db.session.commit()
    return customer


def test_a_next_time_at_the_end_of_the_calendar_is_400_not_500(bearer):
    """9999-12-31 23:59 at UTC-12 is past datetime's range in UTC: storing it was a 500."""
    rep, rh = bearer("李销售", "sales", "城东旗舰店")
    customer = _customer_of(rep)
    path = f"/api/v1/customers/{customer.id}/followups"
    for next_at in ("9999-12-31T23:59:00-12:00", "9999-12-31T23:59:00", 12345678901234):
        body = {"method": "上门", "content": "量房", "next_at": next_at}
        answer = current_app.test_client().post(path, json=body, headers=rh)
        assert answer.status_code == 400, (next_at, answer.json)
        assert "next_at" in answer.json["error"]["fields"]
    assert db.session.scalars(select(FollowUp)).all() == []
