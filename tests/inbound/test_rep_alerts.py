"""A customer with a rep writes on the official account: the rep hears of it once, in WeCom."""

from sqlalchemy import select

from app.core.extensions import db
from app.models import Notice
from app.services.customers import customers
from tests import wxsign


def _text(content: str, msg_id: str, openid: str = "oOWNED") -> str:
    return (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>1700000000</CreateTime>"
        f"<MsgType>text</MsgType><Content>{content}</Content><MsgId>{msg_id}</MsgId></xml>"
    )


def test_owner_rep_is_alerted_once_per_message_with_the_text(client, make_staff):
    rep = make_staff("李销售", "sales", wecom_userid="lixiaoshou")
    customers.find_or_create_by_identity(
        "mp_openid", "oOWNED", "wx2c2769f8efd9abc2", name="张女士", owner_id=rep.id
    )
    db.session.commit()
    path, body = wxsign.mp_plain(_text("预算20万，什么时候能来量房？", "501"))
    for _ in range(3):  # WeChat's retries
        assert client.post(path, data=body).status_code == 200
    [alert] = db.session.scalars(select(Notice).filter_by(kind="customer-message")).all()
    assert alert.staff_id == rep.id and alert.audience == "staff"
    assert alert.context["summary"] == "预算20万，什么时候能来量房？"
    assert alert.context["customer_name"] == "张女士"


def test_no_alert_without_a_rep_and_placeholders_for_media(client, make_staff):
    path, body = wxsign.mp_plain(_text("在吗", "601", openid="oNOBODY"))
    client.post(path, data=body)
    assert db.session.scalars(select(Notice).filter_by(kind="customer-message")).all() == []

    rep = make_staff("赵销售", "sales", wecom_userid="zhao")
    customers.find_or_create_by_identity(
        "mp_openid", "fromUser", "wx2c2769f8efd9abc2", owner_id=rep.id
    )
    db.session.commit()
    path, body = wxsign.mp_plain(wxsign.fixture("mp_image.xml"))
    client.post(path, data=body)
    [alert] = db.session.scalars(select(Notice).filter_by(kind="customer-message")).all()
    assert alert.context["summary"] == "[图片]"
