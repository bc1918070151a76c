"""Dedupe keys tell different deliveries apart and only retries together (issue 12, item 2).

A key names every field that tells two deliveries apart: the sender and the MsgId for a
message, every field for an event. A retry (the same fields, re-encrypted or not) lands on
the row already there, on the one-statement path (PostgreSQL, SQLite's known sender) and
the full path alike; so does a retry of a delivery stored under the previous key format.
"""

import pytest
from sqlalchemy import select

from app.core.extensions import db
from app.core.wxprotocol import parse_xml
from app.models import CallbackEvent, TimelineEvent
from app.services.customers import customers as customer_service
from app.services.customers import timeline as timeline_service
from app.services.inbound.wechat_events import message_payload
from tests import wxsign
from tests.inbound.callback_helpers import (
    BUILD,
    MODES,
    callback_events,
    customers,
    mp_event,
    mp_text,
    post,
    timeline,
)

MP_APPID, CORP = wxsign.MP["appid"], wxsign.WORK["corp"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("known", [False, True], ids=["first contacts", "known senders"])
def test_two_customers_messages_with_one_msgid_are_both_stored(client, mode, known):
    if known:  # both already wrote once: the one-statement path stores the collision
        for n, openid in enumerate(("oAAA", "oBBB")):
            post(client, BUILD[mode](mp_text("你好", msg_id=f"10{n}", openid=openid)))
    for openid, content in (("oAAA", "想问报价"), ("oBBB", "想约量房")):
        delivery = BUILD[mode](mp_text(content, msg_id="6054768590064713728", openid=openid))
        for _ in range(2):  # and each one's retry
            assert post(client, delivery).data == b"success"
    stored = {(e.payload["raw"]["FromUserName"], e.payload["content"]) for e in timeline("message")}
    assert {("oAAA", "想问报价"), ("oBBB", "想约量房")} <= stored
    assert len(timeline("message")) == (4 if known else 2)


def test_a_retry_reencrypted_is_the_same_delivery(client):
    xml = mp_text("你好", msg_id="42")
    for delivery in (wxsign.mp_safe(xml), wxsign.mp_safe(xml, nonce="n2"), wxsign.mp_plain(xml)):
        assert post(client, delivery).status_code == 200
    assert len(timeline("message")) == 1


@pytest.mark.parametrize("mode", MODES)
def test_two_events_of_one_customer_in_one_second_differing_in_any_field_are_both_kept(
    client, mode
):
    for latitude in ("23.137466", "23.140000"):
        xml = mp_event("LOCATION", Latitude=latitude, Longitude="113.352425", Precision="119")
        for _ in range(2):
            assert post(client, BUILD[mode](xml)).status_code == 200
    kept = sorted(e.payload["raw"]["Latitude"] for e in timeline("location_report"))
    assert kept == ["23.137466", "23.140000"]


def _wecom_event(event: str, **fields: str) -> str:
    extra = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return (
        f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]>"
        "</FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]>"
        f"</MsgType><Event><![CDATA[{event}]]></Event>{extra}</xml>"
    )


@pytest.mark.parametrize(
    "first,second",
    [
        (
            _wecom_event("change_contact", ChangeType="update_user", UserID="zhangsan"),
            _wecom_event("change_contact", ChangeType="update_user", UserID="lisi"),
        ),
        (
            _wecom_event("change_contact", ChangeType="create_party", Id="2", Name="城东店"),
            _wecom_event("change_contact", ChangeType="create_party", Id="3", Name="城西店"),
        ),
        (
            _wecom_event("change_external_tag", Id="et1", TagType="tag", ChangeType="create"),
            _wecom_event("change_external_tag", Id="et2", TagType="tag", ChangeType="create"),
        ),
        (
            _wecom_event(
                "change_external_chat", ChatId="wr1", ChangeType="update", UpdateDetail="add_member"
            ),
            _wecom_event(
                "change_external_chat", ChatId="wr2", ChangeType="update", UpdateDetail="add_member"
            ),
        ),
    ],
    ids=["update_user", "create_party", "external_tag", "external_chat"],
)
def test_two_wecom_events_in_one_second_for_different_subjects_are_both_kept(client, first, second):
    for xml in (first, second, first):  # the last is WeCom's retry of the first
        path, body = wxsign.work_post(xml)
        assert client.post(path, data=body).status_code == 200
    assert [row.payload for row in callback_events()] == [parse_xml(first), parse_xml(second)]


def test_two_contact_changes_of_one_pair_in_one_second_differing_in_state_are_both_kept(client):
    add = wxsign.fixture("work_external_contact_add.xml")
    for xml in (add, add.replace("teststate", "otherstate"), add):
        path, body = wxsign.work_post(xml)
        assert client.post(path, data=body).status_code == 200
    assert len(timeline("wecom_contact_added")) == 2


# Rows stored before this release carry the previous key format; a retry of one of them,
# arriving just after the deploy, must find it.
def _legacy_message(openid: str, msg_id: str, content: str) -> str:
    xml = mp_text(content, msg_id=msg_id, openid=openid)
    customer, _ = customer_service.find_or_create_by_identity("mp_openid", openid, MP_APPID)
    timeline_service.record_once(
        customer,
        "message",
        channel="mp",
        direction="inbound",
        actor_type="customer",
        payload=message_payload(parse_xml(xml)),
        dedupe_key=f"mp:{MP_APPID}:msg:{msg_id}",  # the format before issue 12
    )
    db.session.commit()
    return xml


@pytest.mark.parametrize("mode", MODES)
def test_a_retry_of_a_message_stored_under_the_old_key_is_not_stored_again(client, mode):
    xml = _legacy_message("oOLD", "880001", "部署前的消息")
    for _ in range(2):
        assert post(client, BUILD[mode](xml)).data == b"success"
    assert [e.payload["content"] for e in timeline("message")] == ["部署前的消息"]


@pytest.mark.parametrize("mode", MODES)
def test_another_customers_message_with_an_old_rows_msgid_is_stored(client, mode):
    _legacy_message("oOLD", "880001", "部署前的消息")
    post(client, BUILD[mode](mp_text("你好", msg_id="1", openid="oNEW")))  # known sender too
    for openid in ("oNEW", "oSTRANGER"):
        xml = mp_text(f"{openid} 的消息", msg_id="880001", openid=openid)
        assert post(client, BUILD[mode](xml)).data == b"success"
    contents = [e.payload["content"] for e in timeline("message")]
    assert contents == ["部署前的消息", "你好", "oNEW 的消息", "oSTRANGER 的消息"]
    stranger = [c for c in customers() if c.identities[0].value == "oSTRANGER"]
    message = timeline("message")[-1]
    assert message.customer_id == stranger[0].id and message.payload.get("first_contact")


def test_a_retry_of_an_event_stored_under_the_old_key_is_not_stored_again(client):
    xml = mp_event("CLICK", openid="oOLD", EventKey="MENU_QUOTE")
    customer, _ = customer_service.find_or_create_by_identity("mp_openid", "oOLD", MP_APPID)
    timeline_service.record_once(
        customer,
        "menu_click",
        channel="mp",
        direction="inbound",
        payload=message_payload(parse_xml(xml)),
        dedupe_key=f"mp:{MP_APPID}:evt:oOLD:1700000000:CLICK:MENU_QUOTE:",
    )
    db.session.commit()
    assert post(client, wxsign.mp_safe(xml)).status_code == 200
    assert len(timeline("menu_click")) == 1


def test_a_retry_of_wecom_callbacks_stored_under_the_old_keys_is_not_stored_again(client):
    update = _wecom_event("change_contact", ChangeType="update_user", UserID="zhangsan")
    db.session.add(
        CallbackEvent(
            source="wecom",
            kind="event:change_contact",
            payload=parse_xml(update),
            dedupe_key=f"wecom:{CORP}:change_contact:sys:1403610513:change_contact:update_user:::",
        )
    )
    db.session.commit()
    add = wxsign.fixture("work_external_contact_add.xml")
    path, body = wxsign.work_post(add)
    assert client.post(path, data=body).status_code == 200
    legacy = (
        f"wecom:{CORP}:change_external_contact:add_external_contact:zhangsan:"
        "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA:1403610513"
    )
    stored = db.session.scalars(select(TimelineEvent)).one()
    stored.dedupe_key = legacy  # as the previous release stored it
    db.session.commit()
    for xml in (update, add):
        path, body = wxsign.work_post(xml)
        assert client.post(path, data=body).status_code == 200
    assert len(callback_events()) == 1 and len(timeline("wecom_contact_added")) == 1
