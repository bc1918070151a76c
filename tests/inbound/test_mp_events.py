"""Official-account events: which name a QR scene, how menu and system events are named,
and that the system is no customer (issue 12, items 3 and 4)."""

import pytest
from sqlalchemy import select

from app.core.extensions import db
from app.core.wxprotocol import parse_xml
from app.models import CustomerIdentity
from tests import wxsign
from tests.inbound.callback_helpers import (
    BUILD,
    MODES,
    callback_events,
    customers,
    mp_event,
    post,
    timeline,
)

FOLLOW_KEYS = [
    "last_trade_no_4008123456202611301234567890",  # a follow after a WeChat Pay purchase
    "wxcard_p1Pj9jr90_SQRaVqYI239Ka1erkI",
    "SCENE_WITHOUT_PREFIX",
    "qrscene_",  # the prefix and no scene
    "qrscene_" + "s" * 65,  # longer than any scene WeChat makes (64)
    "",
]


@pytest.mark.parametrize("mode", MODES)
def test_a_follow_names_a_qr_scene_only_with_the_qrscene_prefix(client, mode):
    for n, event_key in enumerate(FOLLOW_KEYS):
        xml = mp_event("subscribe", openid=f"oPAY{n}", EventKey=event_key)
        assert post(client, BUILD[mode](xml)).status_code == 200, event_key
    assert [c.source_channel for c in customers()] == ["mp"] * len(FOLLOW_KEYS)
    follows = timeline("follow")
    assert not any("scene" in f.payload for f in follows)
    assert [f.payload["raw"]["EventKey"] for f in follows] == FOLLOW_KEYS  # kept as sent


@pytest.mark.parametrize(
    "event,key,scene", [("subscribe", "qrscene_123", "123"), ("SCAN", "42", "42")]
)
def test_a_qr_follow_and_a_scan_name_the_scene(client, event, key, scene):
    assert (
        post(client, wxsign.mp_safe(mp_event(event, EventKey=key, Ticket="T"))).status_code == 200
    )
    assert customers()[0].source_channel == f"mp_qr:{scene}"
    assert timeline()[0].payload["scene"] == scene


@pytest.mark.parametrize("event", ["CLICK", "VIEW", "view_miniprogram", "LOCATION"])
def test_other_events_with_a_qrscene_looking_key_name_no_scene(client, event):
    post(client, wxsign.mp_safe(mp_event(event, openid="oMENU", EventKey="qrscene_9")))
    assert customers()[0].source_channel == "mp"
    assert "scene" not in timeline()[0].payload


MENU_EVENTS = {
    "mp_event_scancode_push.xml": (
        "menu_scan",
        {"scan_type": "qrcode", "scan_result": "1", "event_key": "6"},
    ),
    "mp_event_scancode_waitmsg.xml": ("menu_scan", {"scan_type": "qrcode", "scan_result": "2"}),
    "mp_event_pic_sysphoto.xml": (
        "menu_photo",
        {"pic_count": "1", "pic_md5s": ["1b5f7c23b5bf75682a53e7b6d163e185"]},
    ),
    "mp_event_pic_photo_or_album.xml": (
        "menu_photo",
        {"pic_count": "1", "pic_md5s": ["5a75aaca956d97be686719218f275c6b"]},
    ),
    "mp_event_pic_weixin.xml": (
        "menu_photo",
        {"pic_count": "1", "pic_md5s": ["5a75aaca956d97be686719218f275c6b"]},
    ),
    "mp_event_location_select.xml": (
        "menu_location",
        {
            "latitude": "23",
            "longitude": "113",
            "scale": "15",
            "label": " 广州市海珠区客村艺苑路 106号",
        },
    ),
    "mp_event_view_miniprogram.xml": (
        "menu_miniprogram",
        {"event_key": "pages/index/index", "menu_id": "MENUID"},
    ),
    "mp_event_location.xml": (
        "location_report",
        {"latitude": "23.137466", "longitude": "113.352425", "precision": "119.385040"},
    ),
}


@pytest.mark.parametrize(
    "event,fields,kind,summary",
    [
        ("kf_create_session", {"KfAccount": "test1@test"}, "cs_session_opened", "kf_account"),
        ("kf_close_session", {"KfAccount": "test1@test"}, "cs_session_closed", "kf_account"),
        (
            "kf_switch_session",
            {"FromKfAccount": "test1@test", "ToKfAccount": "test2@test"},
            "cs_session_transferred",
            "to_kf_account",
        ),
    ],
)
def test_customer_service_session_events_are_named(client, event, fields, kind, summary):
    """多客服会话状态通知事件: the customer's session with a 客服 account."""
    assert post(client, wxsign.mp_safe(mp_event(event, **fields))).data == b"success"
    [stored] = timeline()
    assert stored.kind == kind and stored.payload[summary].endswith("@test")


@pytest.mark.parametrize("mode", MODES)
def test_menu_events_are_named_on_the_timeline_with_their_nested_fields(client, mode):
    for name in MENU_EVENTS:
        assert post(client, BUILD[mode](wxsign.fixture(name))).data == b"success", name
    stored = {(e.payload["raw"]["Event"], e.occurred_at): e for e in timeline()}
    assert len(stored) == len(MENU_EVENTS)
    for name, (kind, fields) in MENU_EVENTS.items():
        raw = parse_xml(wxsign.fixture(name))
        event = next(e for e in stored.values() if e.payload["raw"] == raw)  # nothing lost
        assert event.kind == kind, name
        assert {k: event.payload.get(k) for k in fields} == fields, name


def test_a_scan_from_the_menu_opens_the_48_hour_window(client):
    post(client, wxsign.mp_safe(wxsign.fixture("mp_event_scancode_push.xml")))
    identity = db.session.scalars(select(CustomerIdentity)).one()
    assert identity.last_inbound_at is not None and identity.subscribed is True


SYSTEM_EVENTS = [
    "mp_event_masssendjobfinish.xml",
    "mp_event_publishjobfinish.xml",
    "mp_event_qualification_verify_success.xml",
]


@pytest.mark.parametrize("mode", MODES)
def test_a_report_from_the_system_belongs_to_no_customer(client, mode):
    for name in SYSTEM_EVENTS:
        delivery = BUILD[mode](wxsign.fixture(name))
        for _ in range(2):  # and its retry is kept once
            assert post(client, delivery).data == b"success", name
    assert customers() == [] and timeline() == []  # no lead, no timeline
    rows = callback_events()
    assert [row.payload for row in rows] == [parse_xml(wxsign.fixture(n)) for n in SYSTEM_EVENTS]
    assert {row.source for row in rows} == {"mp"}


OTHER_SYSTEM_EVENTS = [
    "annual_renew",
    "verify_expired",
    "naming_verify_fail",
    "card_pass_check",
    "card_not_pass_check",
    "poi_check_notify",
    "card_sku_remind",
]


def test_other_system_notifications_create_no_customer(client):
    for event in OTHER_SYSTEM_EVENTS:
        assert post(client, wxsign.mp_safe(mp_event(event, openid="oSYSTEM"))).status_code == 200
    assert customers() == [] and len(callback_events()) == len(OTHER_SYSTEM_EVENTS)


def test_a_broadcast_report_leaves_a_known_customer_alone(client):
    """The report's sender may even look like an openid we know: it still is no message."""
    xml = wxsign.fixture("mp_event_masssendjobfinish.xml")
    sender = parse_xml(xml)["FromUserName"]
    post(client, wxsign.mp_safe(mp_event("subscribe", openid=sender)))
    post(client, wxsign.mp_safe(xml))
    assert [e.kind for e in timeline()] == ["follow"]
    assert len(customers()) == 1 and len(callback_events()) == 1
