"""Sales endpoints at their edges: times past the calendar's end, and one store's manager
reaching into another store."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.core.extensions import db
from app.models import Customer, FollowUp, SalesRep


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


def test_a_manager_sets_the_availability_of_their_own_stores_reps_only(bearer):
    _, east = bearer("王店长", "manager", "城东旗舰店")
    west, _ = bearer("钱销售", "sales", "城西体验店")
    service, _ = bearer("郑客服", "service", "城东旗舰店")
    client = current_app.test_client()
    other_store = client.put(f"/api/v1/sales-reps/{west.id}", json={"off": True}, headers=east)
    assert other_store.status_code == 403
    not_a_rep = client.put(f"/api/v1/sales-reps/{service.id}", json={"off": True}, headers=east)
    assert not_a_rep.status_code == 400 and "staff_id" in not_a_rep.json["error"]["fields"]
    assert db.session.scalars(select(SalesRep)).all() == []
    _, admin = bearer("管理员", "admin")
    assert client.put(f"/api/v1/sales-reps/{west.id}", json={}, headers=admin).status_code == 200


def test_a_manager_assigns_to_their_own_stores_reps_only(bearer):
    manager, mh = bearer("王店长", "manager", "城东旗舰店")
    rep, _ = bearer("李销售", "sales", "城东旗舰店")
    west, _ = bearer("钱销售", "sales", "城西体验店")
    customer = _customer_of(rep)
    path = f"/api/v1/customers/{customer.id}/assign"
    client = current_app.test_client()
    refused = client.post(path, json={"staff_id": west.id}, headers=mh)
    assert refused.status_code == 400 and "staff_id" in refused.json["error"]["fields"]
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).owner_id == rep.id
    assert client.post(path, json={"staff_id": manager.id}, headers=mh).status_code == 200
