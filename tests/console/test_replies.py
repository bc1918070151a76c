"""Replying from the customer page: inside WeChat's 48-hour window, outside it, failures."""

from __future__ import annotations

import re
from datetime import timedelta

from app.core.extensions import db
from app.models import AuditLog, Notice, TimelineEvent
from app.models.types import utcnow
from tests.console.helpers import customer_of, mp_identity, post, sign_in, text

OPENID = "oConsoleReply0000000000001"


def _nonce(page: str) -> str:
    return re.search(r'id="nonce" name="nonce" type="hidden" value="([^"]+)"', page).group(1)


def _outbound(customer) -> list[TimelineEvent]:
    return (
        db.session.query(TimelineEvent)
        .filter_by(customer_id=customer.id, kind="message", direction="outbound")
        .all()
    )


def test_a_reply_inside_the_window_is_sent_once_and_shown_at_once(client, people, wx):
    customer = customer_of(people["sales"], "王女士")
    mp_identity(customer, OPENID, utcnow() - timedelta(hours=47))
    sign_in(client, "李销售")
    page = text(client.get(f"/console/customers/{customer.id}"))
    assert "48 小时内可以直接回复" in page
    form = {"nonce": _nonce(page), "text": "您好，周六上午可以上门量房"}
    assert post(client, f"/console/customers/{customer.id}/reply", form).status_code == 302
    assert post(client, f"/console/customers/{customer.id}/reply", form).status_code == 302
    sent = wx.sent_messages("/cgi-bin/message/custom/send")
    assert len(sent) == 1  # the same form twice sends once
    assert (
        sent[0]["touser"] == OPENID
        and sent[0]["body"]["text"]["content"] == "您好，周六上午可以上门量房"
    )
    assert len(_outbound(customer)) == 1
    assert "您好，周六上午可以上门量房" in text(client.get(f"/console/customers/{customer.id}"))


def test_outside_the_window_the_page_says_why_and_offers_templates(client, people, wx):
    customer = customer_of(people["sales"], "王女士")
    mp_identity(customer, OPENID, utcnow() - timedelta(hours=49))
    sign_in(client, "李销售")
    page = text(client.get(f"/console/customers/{customer.id}"))
    assert "超过 48 小时没有给公众号发消息" in page and "通知模板：顾问回访" in page
    assert f'action="/console/customers/{customer.id}/reply"' not in page
    response = post(
        client, f"/console/customers/{customer.id}/reply", {"nonce": "n1", "text": "在吗"}
    )
    assert response.status_code == 409 and "不允许再发送客服消息" in text(response)
    assert wx.count("/cgi-bin/message/custom/send") == 0

    form = {
        "nonce": "abc",
        "kind": "rep-followup",
        "topic": "这个主题实在太长了超过了二十个字的限制啊啊",
        "note": "",
    }
    response = post(client, f"/console/customers/{customer.id}/notice", form)
    assert response.status_code == 400 and "不能超过 20 个字" in text(response)
    form["topic"] = "量房时间确认"
    assert post(client, f"/console/customers/{customer.id}/notice", form).status_code == 302
    assert post(client, f"/console/customers/{customer.id}/notice", form).status_code == 302
    notices = db.session.query(Notice).filter_by(customer_id=customer.id, kind="rep-followup").all()
    assert len(notices) == 1 and "量房时间确认" in notices[0].payload["text"]


def test_without_an_official_account_identity_there_is_nothing_to_reply_to(client, people, wx):
    customer = customer_of(people["sales"], "企业微信客户")
    sign_in(client, "李销售")
    assert "请在企业微信中联系" in text(client.get(f"/console/customers/{customer.id}"))


def test_a_refusal_is_explained_in_chinese_and_nothing_is_kept(client, people, wx):
    customer = customer_of(people["sales"], "王女士")
    mp_identity(customer, OPENID, utcnow() - timedelta(hours=1))
    wx.silence(OPENID)  # WeChat says 45015: the window closed on its side
    sign_in(client, "李销售")
    form = {"nonce": "n-45015", "text": "您好"}
    response = post(client, f"/console/customers/{customer.id}/reply", form)
    assert response.status_code == 502
    assert "微信不再允许发送客服消息" in text(response) and "45015" in text(response)
    assert "您好</textarea>" in text(response)  # what was typed stays
    assert _outbound(customer) == []
    wx.reset()
    wx.fail_next("/cgi-bin/message/custom/send", 43004)
    response = post(
        client, f"/console/customers/{customer.id}/reply", {"nonce": "n2", "text": "您好"}
    )
    assert "客户已取消关注公众号" in text(response) and "43004" in text(response)
    assert db.session.query(AuditLog).filter_by(action="customer.reply_failed").count() == 2


def test_another_reps_customer_cannot_be_replied_to(client, people, wx):
    customer = customer_of(people["sales2"], "别人的客户")
    mp_identity(customer, OPENID, utcnow())
    sign_in(client, "李销售")
    response = post(client, f"/console/customers/{customer.id}/reply", {"nonce": "x", "text": "hi"})
    assert response.status_code == 404 and wx.count("/cgi-bin/message/custom/send") == 0
