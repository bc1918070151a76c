"""The WeCom callback: URL check, app messages, customer-contact changes."""

from urllib.parse import urlencode

import pytest
import time_machine
from sqlalchemy import select

from app import create_app
from app.core.extensions import db
from app.core.wxprotocol import parse_xml
from app.models import CallbackEvent, ContactRelation, Customer, TimelineEvent
from tests import wxsign
from tests.conftest import env_for_tests

CONTACT_FIXTURES = {
    "work_external_contact_add.xml": "wecom_contact_added",
    "work_external_contact_add_half.xml": "wecom_contact_added_half",
    "work_external_contact_edit.xml": "wecom_contact_edited",
    "work_external_contact_del.xml": "wecom_contact_deleted_by_staff",
    "work_external_contact_del_follow_user.xml": "wecom_contact_deleted_by_customer",
    "work_external_contact_transfer_fail.xml": "wecom_contact_transfer_failed",
}
RAW_FIXTURES = (
    "work_text.xml",
    "work_image.xml",
    "work_event_subscribe.xml",
    "work_event_click.xml",
    "work_event_location.xml",
    "work_external_chat_create.xml",
    "work_external_chat_update.xml",
    "work_external_chat_dismiss.xml",
)


def post(client, xml, **kw):
    path, body = wxsign.work_post(xml, **kw)
    return client.post(path, data=body, content_type="text/xml")


def test_url_check_with_the_documented_sample(client):
    vector = wxsign.vectors()["work_official_qdg6ek"]["url_verify"]
    response = client.get("/wechat/work?" + vector["query_string"])
    assert response.status_code == 200
    assert response.data == b"1616140317555161061"  # no quotes, no BOM, no newline


def test_url_check_with_the_second_sample_account(ctx):
    vector = wxsign.vectors()["work_sample_ww1436"]
    app = create_app(
        env_for_tests(
            WECOM_TOKEN=vector["token"],
            WECOM_AES_KEY=vector["encoding_aes_key"],
            WECOM_CORP_ID=vector["receive_id"],
        )
    )
    check = vector["url_verify"]
    query = {k: check[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")}
    assert app.test_client().get("/wechat/work?" + urlencode(query)).data == b"1288432023552776189"


def test_url_check_with_a_changed_timestamp_is_refused(client):
    vector = wxsign.vectors()["work_official_qdg6ek"]["url_verify"]
    query = vector["query_string"].replace("timestamp=1409659589", "timestamp=1409659590")
    assert client.get("/wechat/work?" + query).status_code == 403


def test_documented_encrypted_post_is_received(client):
    vector = wxsign.vectors()["work_official_qdg6ek"]["post"]
    query = urlencode({k: vector[k] for k in ("msg_signature", "timestamp", "nonce")})
    with time_machine.travel(int(vector["timestamp"]) + 5, tick=False):  # when it was signed
        response = client.post("/wechat/work?" + query, data=vector["body"])
    assert response.status_code == 200 and response.data == b""
    [row] = db.session.scalars(select(CallbackEvent)).all()
    assert row.payload["Content"] == "hello" and row.payload["FromUserName"] == "mycreate"


def test_documented_post_with_a_changed_nonce_or_wrong_corp_stores_nothing(ctx):
    vector = wxsign.vectors()["work_official_qdg6ek"]["post"]
    query = {k: vector[k] for k in ("msg_signature", "timestamp", "nonce")}
    client = ctx.test_client()
    other_corp = create_app(env_for_tests(WECOM_CORP_ID="wwSOMEONEELSE"))
    with time_machine.travel(int(vector["timestamp"]) + 5, tick=False):  # when it was signed
        path = "/wechat/work?" + urlencode({**query, "nonce": "1"})
        bad = client.post(path, data=vector["body"])
        wrong = other_corp.test_client().post(
            "/wechat/work?" + urlencode(query), data=vector["body"]
        )
    assert bad.status_code == 403
    assert wrong.status_code == 400 and b"not ours" in wrong.data
    assert db.session.scalars(select(CallbackEvent)).all() == []


@pytest.mark.parametrize("name,kind", sorted(CONTACT_FIXTURES.items()))
def test_contact_changes_land_on_the_customer(client, name, kind):
    assert post(client, wxsign.fixture(name)).status_code == 200
    [event] = db.session.scalars(select(TimelineEvent).filter_by(kind=kind)).all()
    customer = db.session.get(Customer, event.customer_id)
    assert customer.identities[0].kind == "wecom_external_userid"
    assert event.payload["raw"] == parse_xml(wxsign.fixture(name))


@pytest.mark.parametrize("name", RAW_FIXTURES)
def test_app_messages_and_chat_changes_are_kept_raw(client, name):
    assert post(client, wxsign.fixture(name)).status_code == 200
    [row] = db.session.scalars(select(CallbackEvent)).all()
    assert row.source == "wecom" and row.payload == parse_xml(wxsign.fixture(name))


def test_adding_a_rep_makes_them_the_sales_rep_and_records_the_relationship(client, make_staff):
    rep = make_staff("张三", "sales", store="城东", wecom_userid="zhangsan")
    post(client, wxsign.fixture("work_external_contact_add.xml"))
    customer = db.session.scalars(select(Customer)).one()
    assert customer.owner_id == rep.id and customer.store_id == rep.store_id
    assert customer.source_channel == "wecom:teststate"
    relation = db.session.scalars(select(ContactRelation)).one()
    assert (relation.staff_id, relation.state, relation.ended_at) == (rep.id, "teststate", None)

    goodbye = wxsign.fixture("work_external_contact_del_follow_user.xml").replace(
        "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA", "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA"
    )
    post(client, goodbye)
    db.session.expire_all()
    relation = db.session.scalars(select(ContactRelation)).one()
    assert relation.ended_at is not None and relation.end_reason == "del_follow_user"


def test_existing_owner_is_not_replaced_by_a_second_rep(client, make_staff):
    first = make_staff("李四", "sales", wecom_userid="lisi")
    make_staff("张三", "sales", wecom_userid="zhangsan")
    add = wxsign.fixture("work_external_contact_add.xml")
    post(client, add.replace("[CDATA[zhangsan]]", "[CDATA[lisi]]"))
    post(client, add.replace("1403610513", "1403610999"))
    customer = db.session.scalars(select(Customer)).one()
    assert customer.owner_id == first.id
    assert len(db.session.scalars(select(ContactRelation)).all()) == 2


def test_contact_events_of_two_customers_in_one_second_are_not_merged(client):
    add = wxsign.fixture("work_external_contact_add.xml")
    post(client, add)
    post(client, add.replace("woAJ2GCAAAXtWyujaWJHDDGi0mAAAA", "woAJ2GCAAAXtWyujaWJHDDGi0mBBBB"))
    post(client, add)  # WeCom's retry of the first
    assert (
        len(db.session.scalars(select(TimelineEvent).filter_by(kind="wecom_contact_added")).all())
        == 2
    )


def test_transfer_deletion_is_recorded_as_transfer(client):
    add = wxsign.fixture("work_external_contact_add.xml").replace(
        "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA", "woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA"
    )
    post(client, add)
    post(client, wxsign.fixture("work_external_contact_del.xml"))
    relation = db.session.scalars(select(ContactRelation)).one()
    assert relation.end_reason == "transfer"
