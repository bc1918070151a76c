from sqlalchemy import select

from app.core.extensions import db
from app.core.wxprotocol import parse_xml
from app.models import AuditLog
from tests import wxsign


def _text(content, msg_id):
    return (
        "<xml><ToUserName>gh</ToUserName><FromUserName>oC</FromUserName><CreateTime>1700000000</CreateTime>"
        f"<MsgType>text</MsgType><Content>{content}</Content><MsgId>{msg_id}</MsgId></xml>"
    )


def test_manager_adds_a_keyword_reply_that_answers_the_next_message(client, bearer):
    _, headers = bearer("王店长", "manager", store="城东")
    created = client.post(
        "/api/v1/auto-replies",
        json={"keyword": "营业时间", "reply": "每天 9:00-18:00"},
        headers=headers,
    )
    assert created.status_code == 201 and created.json["match"] == "contains"
    path, body = wxsign.mp_plain(_text("你们营业时间是几点", "1"))
    assert parse_xml(client.post(path, data=body).data)["Content"] == "每天 9:00-18:00"

    rule_id = created.json["id"]
    client.patch(f"/api/v1/auto-replies/{rule_id}", json={"active": False}, headers=headers)
    path, body = wxsign.mp_plain(_text("营业时间？", "2"))
    assert client.post(path, data=body).data == b"success"
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.action.like("auto_reply.%"))
    ).all()
    assert sorted(actions) == ["auto_reply.create", "auto_reply.update"]


def test_bad_rule_gets_field_messages_and_sales_gets_403(client, bearer):
    _, manager = bearer("王店长", "manager")
    bad = client.post(
        "/api/v1/auto-replies", json={"keyword": "", "match": "regex"}, headers=manager
    )
    assert bad.status_code == 400
    assert set(bad.json["error"]["fields"]) == {"keyword", "reply", "match"}
    _, sales = bearer("李销售", "sales")
    assert (
        client.post(
            "/api/v1/auto-replies", json={"keyword": "a", "reply": "b"}, headers=sales
        ).status_code
        == 403
    )
    assert client.get("/api/v1/auto-replies", headers=manager).json["items"] == []
