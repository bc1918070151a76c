"""/api/v1 sales endpoints: rules (admins and managers), reps, follow-ups, the pool."""

from __future__ import annotations

from flask import current_app

from app.core.extensions import db
from app.models import AssignRule, Lead
from app.models.types import utcnow
from app.services.sales import assignment, pool


def test_rules_are_for_admins_and_managers_and_bad_input_names_the_field(bearer, make_staff):
    manager, mh = bearer("王店长", "manager", "城东旗舰店")
    rep, rh = bearer("李销售", "sales", "城东旗舰店")
    body = {"name": "展会", "source": "mp_qr:expo", "tags": ["预算:高端"], "rep_ids": [rep.id]}
    client = current_app.test_client()
    assert client.post("/api/v1/assignment-rules", json=body, headers=rh).status_code == 403
    made = client.post("/api/v1/assignment-rules", json=body, headers=mh)
    assert made.status_code == 201 and made.json["rep_ids"] == [rep.id]
    bad = client.post("/api/v1/assignment-rules", json={**body, "rep_ids": [99999]}, headers=mh)
    assert bad.status_code == 400 and "rep_ids" in bad.json["error"]["fields"]
    bad = client.post("/api/v1/assignment-rules", json={**body, "tags": ["高端"]}, headers=mh)
    assert bad.status_code == 400 and "tags" in bad.json["error"]["fields"]
    assert db.session.query(AssignRule).count() == 1
    patched = client.patch(
        f"/api/v1/assignment-rules/{made.json['id']}", json={"active": False}, headers=mh
    )
    assert patched.status_code == 200 and patched.json["active"] is False
    listed = client.get("/api/v1/assignment-rules", headers=mh).json["items"]
    assert [r["name"] for r in listed] == ["展会"]
    rep_state = client.put(f"/api/v1/sales-reps/{rep.id}", json={"off": True}, headers=mh)
    assert rep_state.status_code == 200 and rep_state.json["off"] is True


def test_a_follow_up_through_the_api_and_the_due_list(bearer):
    rep, rh = bearer("李销售", "sales", "城东旗舰店")
    from app.models import Customer

    customer = Customer(name="周先生", owner_id=rep.id, store_id=rep.store_id)
    db.session.add(customer)
    db.session.commit()
    client = current_app.test_client()
    body = {"method": "上门", "content": "上门量房", "next_at": "2099-01-01T10:00:00"}
    made = client.post(f"/api/v1/customers/{customer.id}/followups", json=body, headers=rh)
    assert (
        made.status_code == 201 and made.json["next_at"] == "2099-01-01T02:00:00+00:00"
    )  # 10:00 in TIMEZONE
    bad = client.post(
        f"/api/v1/customers/{customer.id}/followups", json={**body, "method": "短信"}, headers=rh
    )
    assert bad.status_code == 400 and "method" in bad.json["error"]["fields"]
    assert client.get("/api/v1/followups/due", headers=rh).json["items"] == []


def test_claiming_through_the_api_one_wins_the_second_is_409(bearer):
    first, fh = bearer("李销售", "sales", "城东旗舰店")
    second, sh = bearer("赵销售", "sales", "城东旗舰店")
    from app.models import Customer

    customer = Customer(name="公海", owner_id=first.id, store_id=first.store_id)
    db.session.add(customer)
    db.session.flush()
    lead = assignment.assign(customer)
    pool.to_pool(lead, "超过 7 天没有跟进", utcnow())
    db.session.commit()
    client = current_app.test_client()
    listing = client.get("/api/v1/lead-pool", headers=sh).json
    assert [i["customer"]["id"] for i in listing["items"]] == [customer.id]
    assert client.get("/api/v1/lead-pool", headers=fh).json["items"][0]["claimable"] is False
    won = client.post(f"/api/v1/lead-pool/{customer.id}/claim", headers=sh)
    assert won.status_code == 200 and won.json["owner_id"] == second.id
    lost = client.post(f"/api/v1/lead-pool/{customer.id}/claim", headers=fh)
    assert lost.status_code == 409
    assert db.session.get(Lead, customer.id).owner_id == second.id
