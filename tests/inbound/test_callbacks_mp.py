"""The official-account callback, driven the way WeChat drives it."""

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from app.core.extensions import db
from app.core.wxprotocol import parse_xml
from app.models import AutoReplyRule, Customer, CustomerIdentity, MessageConsent, TimelineEvent
from tests import wxsign

MP_FIXTURES = {
    "mp_text.xml": "message",
    "mp_text_with_msgdataid.xml": "message",
    "mp_image.xml": "message",
    "mp_voice.xml": "message",
    "mp_voice_recognition.xml": "message",
    "mp_video.xml": "message",
    "mp_shortvideo.xml": "message",
    "mp_location.xml": "message",
    "mp_link.xml": "message",
    "mp_event_subscribe.xml": "follow",
    "mp_event_subscribe_qrscene.xml": "follow",
    "mp_event_unsubscribe.xml": "unfollow",
    "mp_event_scan.xml": "qr_scan",
    "mp_event_location.xml": "location_report",
    "mp_event_click.xml": "menu_click",
    "mp_event_view.xml": "menu_view",
    "mp_event_templatesendjobfinish.xml": "notice_delivery",
    "mp_event_templatesendjobfinish_user_block.xml": "notice_delivery",
    "mp_event_templatesendjobfinish_system_failed.xml": "notice_delivery",
    "mp_event_subscribe_msg_popup.xml": "consent_popup",
    "mp_event_subscribe_msg_popup_single.xml": "consent_popup",
    "mp_event_subscribe_msg_change.xml": "consent_change",
    "mp_event_subscribe_msg_change_doc.xml": "consent_change",
    "mp_event_subscribe_msg_sent.xml": "notice_delivery",
}


def events(kind=None):
    query = select(TimelineEvent)
    if kind:
        query = query.filter_by(kind=kind)
    return db.session.scalars(query.order_by(TimelineEvent.id)).all()


def post(client, path_body):
    path, body = path_body
    return client.post(path, data=body, content_type="text/xml")


def test_url_check_answers_echostr_verbatim(client):
    ts, nonce = "1714036504", "1514711492"
    query = {
        "signature": wxsign.sha1_sorted("spamtest", ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "echostr": "4375120948345356249",
    }
    response = client.get("/wechat/mp?" + urlencode(query))
    assert response.status_code == 200 and response.data == b"4375120948345356249"
    query["nonce"] = "1514711493"
    assert client.get("/wechat/mp?" + urlencode(query)).status_code == 403


@pytest.mark.parametrize("name,kind", sorted(MP_FIXTURES.items()))
@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_every_documented_sample_is_stored_once(client, name, kind, mode):
    xml = wxsign.fixture(name)
    build = wxsign.mp_plain if mode == "plain" else wxsign.mp_safe
    response = post(client, build(xml))
    assert response.status_code == 200 and response.data == b"success"
    stored = events(kind)
    assert len(stored) == 1
    sender = parse_xml(xml)["FromUserName"]
    identity = db.session.scalars(
        select(CustomerIdentity).filter_by(kind="mp_openid", value=sender)
    ).one()
    assert stored[0].customer_id == identity.customer_id
    assert stored[0].payload["raw"] == parse_xml(xml)  # nothing the customer sent is lost


def test_official_compatibility_mode_vector_replays_verbatim(client):
    vector = wxsign.vectors()["mp_official_spamtest"]["post"]
    query = "/wechat/mp?" + urlencode(vector["query"])
    with time_machine.travel(int(vector["query"]["timestamp"]) + 5, tick=False):
        response = client.post(query, data=vector["body"], content_type="text/xml")
    assert response.status_code == 200
    [event] = events("message")
    assert event.payload["content"] == "abcdteT"
    assert event.payload["raw"]["MsgId"] == "6054768590064713728"


def test_same_message_three_times_is_one_event(client):
    request = wxsign.mp_safe(wxsign.fixture("mp_text.xml"))
    for _ in range(3):
        assert post(client, request).data == b"success"
    assert len(events("message")) == 1
    assert db.session.scalar(select(func.count(Customer.id))) == 1


def test_voice_keeps_recognition_text(client):
    post(client, wxsign.mp_plain(wxsign.fixture("mp_voice_recognition.xml")))
    assert events("message")[0].payload["recognition"] == "腾讯微信团队"


def test_qr_scene_names_the_channel_of_a_first_contact(client):
    post(client, wxsign.mp_plain(wxsign.fixture("mp_event_subscribe_qrscene.xml")))
    customer = db.session.scalars(select(Customer)).one()
    assert customer.source_channel == "mp_qr:123123"
    assert events("follow")[0].payload["scene"] == "123123"


def test_scan_by_follower_keeps_raw_scene(client):
    post(client, wxsign.mp_plain(wxsign.fixture("mp_event_scan.xml")))
    assert events("qr_scan")[0].payload["scene"] == "SCENE_VALUE"


def test_follow_state_and_48h_window_are_tracked(client):
    post(client, wxsign.mp_plain(wxsign.fixture("mp_text.xml")))
    identity = db.session.scalars(select(CustomerIdentity)).one()
    assert identity.subscribed is True and identity.last_inbound_at is not None
    unsubscribe = wxsign.fixture("mp_event_unsubscribe.xml").replace(
        "[CDATA[FromUser]]", "[CDATA[fromUser]]"
    )
    post(client, wxsign.mp_plain(unsubscribe))
    db.session.expire_all()
    assert db.session.scalars(select(CustomerIdentity)).one().subscribed is False


def test_consent_events_record_templates(client):
    post(client, wxsign.mp_plain(wxsign.fixture("mp_event_subscribe_msg_popup.xml")))
    consents = {
        c.template_id[:4]: (c.status, c.remaining)
        for c in db.session.scalars(select(MessageConsent))
    }
    assert consents == {"VRR0": ("accept", 1), "9nLI": ("reject", 0)}
    post(client, wxsign.mp_plain(wxsign.fixture("mp_event_subscribe_msg_change_doc.xml")))
    db.session.expire_all()
    changed = db.session.scalars(
        select(MessageConsent).filter_by(template_id="VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc")
    ).one()
    assert changed.status == "reject"


def test_unknown_type_is_stored_with_raw_fields(client):
    xml = (
        "<xml><ToUserName>gh</ToUserName><FromUserName>oNEW</FromUserName><CreateTime>1700000000</CreateTime>"
        "<MsgType>event</MsgType><Event>brand_new_event</Event><Foo>bar</Foo></xml>"
    )
    assert post(client, wxsign.mp_plain(xml)).status_code == 200
    [event] = events("wechat_unknown")
    assert event.payload["raw"]["Foo"] == "bar"


def _text(content: str, msg_id: str = "9001") -> str:
    return (
        "<xml><ToUserName>gh_test</ToUserName><FromUserName>oCUST</FromUserName>"
        f"<CreateTime>1700000000</CreateTime><MsgType>text</MsgType><Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def test_keyword_reply_in_safe_mode_is_encrypted_and_recorded_once(client):
    db.session.add(
        AutoReplyRule(keyword="地址", match="contains", reply="展厅地址：杭州市上城区XX路1号")
    )
    db.session.commit()
    request = wxsign.mp_safe(_text("请问你们展厅地址在哪"))
    for _ in range(2):  # a WeChat retry gets the same answer
        response = post(client, request)
        envelope = parse_xml(response.data)
        token = wxsign.MP["token"]
        assert envelope["MsgSignature"] == wxsign.sha1_sorted(
            token, envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]
        )
        plain, appid = wxsign.decrypt(envelope["Encrypt"], wxsign.MP["key"])
        assert appid == wxsign.MP["appid"]
        reply = parse_xml(plain)
        assert (
            reply["Content"] == "展厅地址：杭州市上城区XX路1号" and reply["ToUserName"] == "oCUST"
        )
    [outbound] = events("auto_reply")
    assert outbound.direction == "outbound" and outbound.payload["content"].startswith("展厅地址")


def test_exact_keyword_only_matches_whole_message(client):
    db.session.add(AutoReplyRule(keyword="报价", match="exact", reply="请留下面积和户型"))
    db.session.commit()
    assert b"<Content><![CDATA[" in post(client, wxsign.mp_plain(_text("报价", "1"))).data
    assert post(client, wxsign.mp_plain(_text("想要一个报价", "2"))).data == b"success"


def test_off_hours_reply_is_sent_once_per_evening(ctx):
    from app import create_app
    from tests.conftest import env_for_tests

    shop = create_app(env_for_tests(WORK_START="09:00", WORK_END="18:00", WORK_DAYS="1,2,3,4,5,6"))
    client = shop.test_client()
    shanghai = ZoneInfo("Asia/Shanghai")
    with time_machine.travel(
        datetime(2026, 11, 20, 22, 0, tzinfo=shanghai), tick=False
    ):  # Friday night
        first = post(client, wxsign.mp_plain(_text("在吗", "11")))
        assert (
            parse_xml(first.data)["Content"] == "您好，已收到您的消息，顾问会在上班后第一时间联系您"
        )
        assert post(client, wxsign.mp_plain(_text("还在吗", "12"))).data == b"success"
    with time_machine.travel(
        datetime(2026, 11, 21, 10, 0, tzinfo=shanghai), tick=False
    ):  # Saturday 10:00
        assert post(client, wxsign.mp_plain(_text("早上好", "13"))).data == b"success"
    with time_machine.travel(
        datetime(2026, 11, 22, 10, 0, tzinfo=shanghai), tick=False
    ):  # Sunday: closed
        assert b"CDATA" in post(client, wxsign.mp_plain(_text("周日有人吗", "14"))).data
    assert len(events("auto_reply")) == 2
