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


def test_a_managers_assignment_rules_stay_in_their_own_store(bearer):
    """One store's manager may not route leads of every store (or another store's) to
    anyone, nor hand their own leads to another store's reps."""
    manager, east = bearer("王店长", "manager", "城东旗舰店")
    rep, _ = bearer("李销售", "sales", "城东旗舰店")
    west_rep, _ = bearer("钱销售", "sales", "城西体验店")
    _, west = bearer("赵店长", "manager", "城西体验店")
    _, admin = bearer("管理员", "admin")
    client = current_app.test_client()
    path = "/api/v1/assignment-rules"
    body = {"name": "展会", "source": "mp_qr:expo", "rep_ids": [rep.id]}
    made = client.post(path, json=body, headers=east)
    assert made.status_code == 201 and made.json["store_id"] == manager.store_id
    other = {**body, "store_id": west_rep.store_id}
    refused = client.post(path, json=other, headers=east)
    assert refused.status_code == 400 and "store_id" in refused.json["error"]["fields"]
    refused = client.post(path, json={**body, "rep_ids": [west_rep.id]}, headers=east)
    assert refused.status_code == 400 and "rep_ids" in refused.json["error"]["fields"]
    widened = client.patch(f"{path}/{made.json['id']}", json={"store_id": None}, headers=east)
    assert widened.status_code == 400 and "store_id" in widened.json["error"]["fields"]
    taken = client.patch(f"{path}/{made.json['id']}", json={"active": False}, headers=west)
    assert taken.status_code == 403
    every_store = client.post(path, json={**body, "name": "全公司"}, headers=admin)
    assert every_store.status_code == 201 and every_store.json["store_id"] is None
    assert (
        client.patch(f"{path}/{every_store.json['id']}", json={}, headers=east).status_code == 403
    )
    rows = {r["name"]: r for r in client.get(path, headers=admin).json["items"]}
    assert rows["展会"]["active"] is True and rows["展会"]["store_id"] == manager.store_id
    assert len(rows) == 2


def test_a_manager_without_a_store_may_not_write_every_stores_rules(bearer):
    """A storeless manager's rule would have been scoped to 'no store', that is every store."""
    rep, _ = bearer("李销售", "sales", "城东旗舰店")
    loose, _ = bearer("吴销售", "sales")
    _, storeless = bearer("孙店长", "manager")
    _, admin = bearer("管理员", "admin")
    client = current_app.test_client()
    path = "/api/v1/assignment-rules"
    for reps in ([rep.id], [loose.id]):
        body = {"name": "全公司", "rep_ids": reps}
        assert client.post(path, json=body, headers=storeless).status_code == 403
    every_store = client.post(path, json={"name": "全公司", "rep_ids": [rep.id]}, headers=admin)
    rule_path = f"{path}/{every_store.json['id']}"
    assert (
        client.patch(rule_path, json={"rep_ids": [loose.id]}, headers=storeless).status_code == 403
    )
    assert (
        client.put(
            f"/api/v1/sales-reps/{loose.id}", json={"off": True}, headers=storeless
        ).status_code
        == 403
    )
    assert db.session.scalars(select(SalesRep)).all() == []
    rows = client.get(path, headers=admin).json["items"]
    assert [r["rep_ids"] for r in rows] == [[rep.id]]


def test_a_rule_cannot_be_emptied_of_reps(bearer):
    _, admin = bearer("管理员", "admin")
    rep, _ = bearer("李销售", "sales", "城东旗舰店")
    client = current_app.test_client()
    body = {"name": "展会", "source": "mp_qr:expo", "rep_ids": [rep.id]}
    made = client.post("/api/v1/assignment-rules", json=body, headers=admin).json
    emptied = client.patch(
        f"/api/v1/assignment-rules/{made['id']}", json={"rep_ids": []}, headers=admin
    )
    assert emptied.status_code == 400 and "rep_ids" in emptied.json["error"]["fields"]
    listed = client.get("/api/v1/assignment-rules", headers=admin).json["items"]
    assert listed[0]["rep_ids"] == [rep.id]
