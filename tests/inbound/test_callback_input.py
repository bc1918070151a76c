"""What a callback body may hold (issue 12, items 1, 5 and 7).

1. Characters XML 1.0 cannot carry (C0 controls, U+FFFE/U+FFFF), which WeChat does deliver
   inside a customer's text: the message is stored once, without them.
5. Hostile structure (a tag inside a text field, deep nesting, over-long identifiers): a
   clean 400 and nothing stored; only a real database failure answers 503.
7. A message or event type we do not know is stored raw and answered `success`.
"""

import pytest
from sqlalchemy.exc import DataError, OperationalError

from app.core.wxprotocol import parse_xml
from tests import wxsign
from tests.inbound.callback_helpers import (
    BUILD,
    MODES,
    callback_events,
    customers,
    mp_event,
    mp_text,
    post,
    stored_rows,
    timeline,
)

# Every class of character XML 1.0 forbids: NUL, the other C0 controls but TAB/LF/CR,
# and the two non-characters.
ILLEGAL = ["\x1d", "\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1f", "\ufffe", "\uffff"]


@pytest.mark.parametrize("mode", MODES)
def test_a_control_character_in_a_customers_text_is_dropped_and_the_message_stored_once(
    client, mode
):
    for n, char in enumerate(ILLEGAL):
        delivery = BUILD[mode](mp_text(f"你好{char}想问下报价", msg_id=f"50{n}"))
        for _ in range(2):  # WeChat's retry lands on the same row
            response = post(client, delivery)
            assert response.status_code == 200, f"U+{ord(char):04X}: {response.data}"
    messages = timeline("message")
    assert len(messages) == len(ILLEGAL)
    for message in messages:
        assert message.payload["content"] == "你好想问下报价"
        assert message.payload["raw"]["Content"] == "你好想问下报价"


REFERENCES = ["&#29;", "&#x1d;", "&#x1D;", "&#0;", "&#xFFFE;", "&#65535;", "&#xD800;"]


@pytest.mark.parametrize("mode", MODES)
def test_a_character_reference_to_a_control_character_is_dropped_too(client, mode):
    for n, reference in enumerate(REFERENCES):
        xml = mp_text("x", msg_id=f"60{n}").replace("<![CDATA[x]]>", f"你好{reference}想问")
        assert post(client, BUILD[mode](xml)).status_code == 200, reference
    assert [m.payload["content"] for m in timeline("message")] == ["你好想问"] * len(REFERENCES)


def test_legal_whitespace_and_references_are_kept(client):
    xml = mp_text("x").replace("<![CDATA[x]]>", "第一行&#10;第二行\t&#x4F60;&amp;&lt;b&gt;")
    assert post(client, wxsign.mp_plain(xml)).status_code == 200
    assert timeline("message")[0].payload["content"] == "第一行\n第二行\t你&<b>"


def test_a_reference_typed_inside_cdata_is_the_customers_text(client):
    xml = mp_text("网页里写作&#29;和&amp;")  # in CDATA: literal text, not references
    assert post(client, wxsign.mp_safe(xml)).status_code == 200
    assert timeline("message")[0].payload["content"] == "网页里写作&#29;和&amp;"


def test_a_control_character_in_a_wecom_message_is_dropped(client):
    xml = wxsign.fixture("work_text.xml").replace("this is a test", "请\x1d回电")
    path, body = wxsign.work_post(xml)
    assert client.post(path, data=body).status_code == 200
    [row] = callback_events()
    assert row.payload["Content"] == "请回电"


@pytest.mark.parametrize(
    "body",
    [
        b'<!DOCTYPE xml [<!ENTITY x "\x1d">]><xml><FromUserName>&x;</FromUserName></xml>',
        b'<!DOCTYPE xml SYSTEM "file:///etc/passwd"><xml><Content>\x1d</Content></xml>',
    ],
)
def test_doctype_and_entities_are_still_refused(client, body):
    response = post(client, wxsign.mp_plain(body.decode()))
    assert response.status_code == 400 and b"hostile" in response.data
    assert stored_rows() == 0


def test_many_unclosed_cdata_sections_are_refused_at_once(client):
    """Found by a probe: the sanitising step took time quadratic in the number of unclosed
    CDATA sections (144 KB: 18 s), before any signature was checked. It is linear now, so a
    body of 400 KB answers 400 as promptly as any malformed one, in every mode."""
    hostile = "<xml><Encrypt>&#65;</Encrypt>" + "<![CDATA[" * 45_000
    assert (
        post(
            client,
            ("/wechat/mp?encrypt_type=aes&msg_signature=x&timestamp=1&nonce=1", hostile.encode()),
        ).status_code
        == 400
    )
    path = "/wechat/work?msg_signature=x&timestamp=1&nonce=1"
    assert client.post(path, data=hostile.encode()).status_code == 400
    assert stored_rows() == 0


def test_references_are_dropped_outside_cdata_only_and_an_unclosed_section_kept_whole():
    from app.core.wxprotocol import _drop_illegal_refs

    body = b"a&#29;<![CDATA[b&#29;]]>c&#x1d;<![CDATA[d&#29;"
    assert _drop_illegal_refs(body) == b"a<![CDATA[b&#29;]]>c<![CDATA[d&#29;"


def _deep(depth: int) -> str:
    return "<Extra>" + "<a>" * depth + "x" + "</a>" * depth + "</Extra>"


HOSTILE = {
    # A tag inside a field WeChat documents as text.
    "tag in Content": mp_text("x").replace("<![CDATA[x]]>", "<b>hi</b>"),
    "tag in FromUserName": mp_text("hi").replace("<![CDATA[oCUST]]>", "<a>oCUST</a>"),
    "tag in MsgId": mp_text("hi").replace("<MsgId>5001", "<MsgId><n>5001</n>"),
    "tag in MsgType": mp_text("hi").replace("<![CDATA[text]]>", "<t>text</t>"),
    "tag in CreateTime": mp_text("hi").replace("1700000000", "<t>1700000000</t>"),
    "tag in Event": mp_event("x").replace("<![CDATA[x]]>", "<e>CLICK</e>"),
    "tag in EventKey": mp_event("subscribe", EventKey="<k>qrscene_1</k>"),
    "tag in a nested text field": mp_event(
        "scancode_push", ScanCodeInfo="<ScanType>qrcode</ScanType><ScanResult><u/></ScanResult>"
    ),
    "FromUserName twice": mp_text("hi").replace(
        "</FromUserName>", "</FromUserName><FromUserName>oOTHER</FromUserName>"
    ),
    # Depth: WeChat's deepest documented structure is 5 levels under <xml>.
    "nested 20 deep": mp_text("hi").replace("</xml>", _deep(20) + "</xml>"),
    "nested 500 deep": mp_text("hi").replace("</xml>", _deep(500) + "</xml>"),
    "nested 5000 deep": mp_text("hi").replace("</xml>", _deep(5000) + "</xml>"),
    "nested 500 deep in an unknown event": mp_event("brand_new_event").replace(
        "</xml>", _deep(500) + "</xml>"
    ),
    # Identifiers longer than WeChat ever makes them.
    "FromUserName of 201 characters": mp_text("hi", openid="o" * 201),
    "FromUserName of 65 characters": mp_text("hi", openid="o" * 65),
    "ToUserName of 300 characters": mp_text("hi").replace("gh_test", "g" * 300),
    "MsgId of 300 digits": mp_text("hi", msg_id="9" * 300),
    "CreateTime of 300 digits": mp_text("hi", at=int("1" * 300)),
    "MsgType of 300 characters": mp_text("hi").replace("[text]", "[" + "t" * 300 + "]"),
    "Event of 300 characters": mp_event("e" * 300),
    "EventKey of 5000 characters": mp_event("CLICK", EventKey="k" * 5000),
    # Identifiers that are blank or padded (an empty identity downstream; found by a probe).
    "FromUserName of one space": mp_text("hi", openid=" "),
    "FromUserName padded": mp_text("hi", openid=" oCUST"),
}


@pytest.mark.parametrize("mode", MODES)
def test_hostile_structure_is_a_clean_400_and_stores_nothing(client, mode):
    answers = {name: post(client, BUILD[mode](xml)).status_code for name, xml in HOSTILE.items()}
    assert answers == dict.fromkeys(HOSTILE, 400)
    assert stored_rows() == 0


def _contact_change(**fields: str) -> str:
    xml = wxsign.fixture("work_external_contact_add.xml")
    for field, value in fields.items():
        start, end = xml.index(f"<{field}>"), xml.index(f"</{field}>")
        xml = xml[:start] + f"<{field}><![CDATA[{value}]]>" + xml[end:]
    return xml


HOSTILE_WECOM = {
    "UserID": _contact_change(UserID="u" * 300),
    "ExternalUserID": _contact_change(ExternalUserID="w" * 300),
    "State": _contact_change(State="s" * 300),
    "ChangeType": _contact_change(ChangeType="c" * 300),
    "tag in text": wxsign.fixture("work_external_contact_add.xml").replace(
        "<WelcomeCode>", "<WelcomeCode><x>1</x>"
    ),
    "deep": wxsign.fixture("work_text.xml").replace("</xml>", _deep(500) + "</xml>"),
    "tag in Content": wxsign.fixture("work_text.xml").replace(
        "<![CDATA[this is a test]]>", "<b>bold</b>"
    ),
}


def test_hostile_wecom_callbacks_are_a_clean_400(client):
    answers = {}
    for name, xml in HOSTILE_WECOM.items():
        path, body = wxsign.work_post(xml)
        answers[name] = client.post(path, data=body).status_code
    assert answers == dict.fromkeys(HOSTILE_WECOM, 400)
    assert stored_rows() == 0


def test_documented_lengths_are_accepted(client):
    """The longest documented values: a 64-character QR scene, a 1,024-character menu URL."""
    scene = "s" * 64
    for xml in (
        mp_event("subscribe", EventKey=f"qrscene_{scene}"),
        mp_event("VIEW", openid="oVIEW", EventKey="https://example.com/?" + "q" * 1000),
        mp_text("很长的消息" * 2000, openid="o" * 64),
    ):
        assert post(client, wxsign.mp_safe(xml)).status_code == 200
    assert len(timeline()) == 3
    assert customers()[0].source_channel == f"mp_qr:{scene}"


def test_parse_bounds_depth_without_recursing(client):
    """A body of nothing but nesting (up to the 1 MiB limit) is refused, not a crash."""
    body = "<xml>" + "<a>" * 140_000 + "</a>" * 140_000 + "</xml>"
    response = post(client, wxsign.mp_plain(body))
    assert response.status_code == 400 and b"deep" in response.data


@pytest.mark.parametrize(
    "error", [DataError("INSERT", {}, Exception("value too long for type character varying"))]
)
def test_a_value_the_database_refuses_is_not_a_false_503(client, monkeypatch, error):
    """503 tells WeChat to retry and the operator that the database is down: only for that."""
    from app.services.inbound import hot_ingest, ingest

    def refuse(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(hot_ingest, "store_message", refuse)
    monkeypatch.setattr(ingest.timeline, "record_once", refuse)
    response = post(client, wxsign.mp_plain(mp_text("hi")))
    assert response.status_code == 400
    assert stored_rows() == 0


def test_a_real_database_failure_is_still_503(client, monkeypatch):
    from app.services.inbound import hot_ingest

    def down(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(hot_ingest, "store_message", down)
    assert post(client, wxsign.mp_plain(mp_text("hi"))).status_code == 503


UNKNOWN = {
    "message type": (
        "<xml><ToUserName>gh_test</ToUserName><FromUserName>oCUST</FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType>miniprogrampage</MsgType>"
        "<Title>报价单</Title><AppId>wx123</AppId><PagePath>pages/quote</PagePath>"
        "<ThumbMediaId>m1</ThumbMediaId><MsgId>7777</MsgId></xml>"
    ),
    "event": mp_event("brand_new_event", Foo="bar", Nested="<Item><Id>1</Id></Item>"),
    "event with a list": mp_event(
        "user_get_card", CardId="p1", List="<Id>1</Id></List><List><Id>2</Id>"
    ),
}


@pytest.mark.parametrize("mode", MODES)
def test_an_unknown_type_is_stored_raw_and_answered_success(client, mode):
    for name, xml in UNKNOWN.items():
        delivery = BUILD[mode](xml.replace("oCUST", f"o{name.replace(' ', '_')}"))
        for _ in range(2):
            response = post(client, delivery)
            assert (response.status_code, response.data) == (200, b"success"), name
    stored = [event.payload["raw"] for event in timeline("wechat_unknown")]
    expected = [
        parse_xml(xml.replace("oCUST", f"o{name.replace(' ', '_')}"))
        for name, xml in UNKNOWN.items()
    ]
    assert stored == expected


def test_two_unknown_events_of_one_customer_in_one_second_are_both_kept(client):
    """Nothing about an event we do not know says which fields tell two apart: all do."""
    for card in ("pCARD1", "pCARD2"):
        xml = mp_event("user_get_card", CardId=card, UserCardCode="12312312")
        assert post(client, wxsign.mp_safe(xml)).status_code == 200
    cards = sorted(e.payload["raw"]["CardId"] for e in timeline("wechat_unknown"))
    assert cards == ["pCARD1", "pCARD2"]


def test_an_unknown_wecom_event_is_kept_raw(client):
    xml = (
        "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><FromUserName><![CDATA[sys]]>"
        "</FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[brand_new_wecom_event]]></Event><Whatever><A>1</A></Whatever></xml>"
    )
    path, body = wxsign.work_post(xml)
    assert client.post(path, data=body).status_code == 200
    [row] = callback_events()
    assert row.payload == parse_xml(xml)
