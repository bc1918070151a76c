"""Lead capture: the mini program's form and the public web page."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.core.extensions import db
from app.models import Customer, CustomerIdentity, Lead, TimelineEvent
from app.services.customers import customers, mini_auth
from tests.sales.conftest import notices

FORM = {
    "name": "刘女士",
    "phone": "13912345678",
    "community": "翠湖花园",
    "area": "120",
    "budget": "35万",
    "style": "现代简约",
    "note": "老房翻新，想下周量房",
    "consent": "1",
}


def _mini_headers(openid="oMINI1"):
    identity, _ = customers.find_or_create_identity("mini_openid", openid, "wxminiapp000001")
    token = mini_auth.open_session(identity)
    db.session.commit()
    return identity.customer_id, {"Authorization": f"Bearer {token}"}


def test_mini_lead_updates_the_homeowner_tags_the_note_and_assigns(client, team, rule):
    rule(reps=[team["rep3"]])
    cid, headers = _mini_headers()
    body = {k: v for k, v in FORM.items() if k != "consent"}
    first = client.post("/mini/v1/leads", json=body, headers=headers)
    assert first.status_code == 201, first.json
    assert first.json == {"customer_id": cid, "duplicate": False}
    again = client.post("/mini/v1/leads", json=body, headers=headers)
    assert again.json == {"customer_id": cid, "duplicate": True}
    customer = db.session.get(Customer, cid)
    assert customer.name == "刘女士" and customer.community == "翠湖花园"
    assert customer.owner_id == team["rep3"].id
    assert customers.find_by_identity("phone", "13912345678").id == cid
    [event] = db.session.scalars(select(TimelineEvent).filter_by(kind="lead_form")).all()
    assert event.payload["budget"] == "35万" and "phone" not in event.payload
    tags = {t.tag.label for t in customer_tags(cid)}
    assert any(t.startswith("预算:") for t in tags), tags
    assert db.session.get(Lead, cid).first_inbound_at is not None
    assert len(notices("lead-assigned")) == 1


def customer_tags(cid):
    from app.models import CustomerTag

    return db.session.scalars(select(CustomerTag).filter_by(customer_id=cid)).all()


def test_mini_lead_with_a_phone_known_on_another_record_is_one_customer(client, team, rule):
    rule()
    older, _ = customers.find_or_create_by_identity("phone", "13912345678", name="刘女士")
    db.session.commit()
    cid, headers = _mini_headers("oMINI2")
    answer = client.post("/mini/v1/leads", json={"phone": "13912345678"}, headers=headers)
    assert answer.status_code == 201 and answer.json["customer_id"] == older.id
    assert db.session.get(Customer, cid).merged_into_id == older.id


def test_mini_lead_bad_input_is_a_400_naming_the_field_and_changes_nothing(client, team):
    cid, headers = _mini_headers("oMINI3")
    answer = client.post("/mini/v1/leads", json={"phone": "12345"}, headers=headers)
    assert answer.status_code == 400 and "phone" in answer.json["error"]["fields"]
    answer = client.post("/mini/v1/leads", json={"kind": "loan"}, headers=headers)
    assert answer.status_code == 400 and "kind" in answer.json["error"]["fields"]
    assert db.session.scalars(select(TimelineEvent).filter_by(kind="lead_form")).all() == []


def _token(client, url="/forms/lead?c=menu"):
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "我同意" in html and "<script" not in html and "http" not in html.split("<body>")[1]
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def test_the_web_form_creates_a_customer_by_phone_once(client, team, rule):
    rule(reps=[team["rep2"]], source="form")
    token = _token(client)
    for _ in range(2):  # a double submission is one lead
        answer = client.post("/forms/lead?c=menu", data={**FORM, "token": token})
        assert answer.status_code == 200 and "提交成功" in answer.get_data(as_text=True)
    customer = db.session.scalars(select(Customer)).one()
    assert customer.source_channel == "form:menu" and customer.owner_id == team["rep2"].id
    assert db.session.scalars(select(CustomerIdentity.kind)).all() == ["phone"]
    assert len(db.session.scalars(select(TimelineEvent).filter_by(kind="lead_form")).all()) == 1


def test_the_web_form_refuses_without_consent_a_stale_token_or_a_filled_honeypot(client, team):
    token = _token(client)
    no_consent = {k: v for k, v in FORM.items() if k != "consent"}
    answer = client.post("/forms/lead", data={**no_consent, "token": token})
    assert answer.status_code == 400 and "请阅读并同意" in answer.get_data(as_text=True)
    assert client.post("/forms/lead", data={**FORM, "token": "forged"}).status_code == 400
    robot = client.post("/forms/lead", data={**FORM, "token": token, "website": "x"})
    assert robot.status_code == 400
    assert (
        client.post("/forms/lead", data={**FORM, "phone": "123", "token": token}).status_code == 400
    )
    assert db.session.scalars(select(Customer)).all() == []


def test_the_web_form_is_rate_limited_per_client(client, team, app):
    token = _token(client)
    app.config["LEAD_FORM_LIMIT"] = "2/minute"
    try:
        codes = [
            client.post(
                "/forms/lead", data={**FORM, "phone": f"1391234567{i}", "token": token}
            ).status_code
            for i in range(3)
        ]
    finally:
        app.config["LEAD_FORM_LIMIT"] = "5/10minute;30/day"
    assert codes == [200, 200, 429]
