"""Channel choice and every WeChat error path, against the fake server."""

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.core.extensions import db
from app.models import CustomerIdentity, MessageConsent, Notice, Task, TimelineEvent
from app.services.notices import outbox, outbox_send
from tests.fixtures_outbox import MP_OPENID

SUB, TPL, CUSTOM = (f"/cgi-bin/message/{p}/send" for p in ("subscribe", "template", "custom"))
WECOM = "/cgi-bin/message/send"
CTX = {
    "project_id": 7,
    "project_name": "翠湖天地3栋1202",
    "node": "水电改造",
    "at": "2026-11-22T02:30:00+00:00",
}


def notify(customer, kind="node-acceptance", subject="node:1", **extra):
    """Create and commit: a due notice is sent in-process at the commit (no REDIS_URL)."""
    notice = outbox.notify_customer(kind, customer, subject, **{**CTX, **extra})
    notice_id = notice.id
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Notice, notice_id)


def resend(notice):
    """Make a rescheduled notice due and send it again."""
    notice.scheduled_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    outbox_send.send_batch([notice.id])
    db.session.expire_all()
    return db.session.get(Notice, notice.id)


def test_mini_subscribe_is_preferred_and_spends_one_subscription(octx, fake_wechat, make_customer):
    customer = make_customer(mini=2)
    notice = notify(customer)
    assert (notice.status, notice.channel) == ("sent", "mini")
    assert notice.msgid and notice.channel_reason.startswith("小程序订阅消息")
    sent = fake_wechat.sent_messages(SUB)
    assert len(sent) == 1 and sent[0]["body"]["page"] == "pages/project/detail?id=7"
    consent = db.session.scalars(
        select(MessageConsent).filter_by(template_id="tpl-wechat-mini-tpl-progress")
    ).one()
    assert consent.remaining == 1
    event = db.session.scalars(select(TimelineEvent).filter_by(kind="notice_sent")).one()
    assert (event.customer_id, event.channel, event.direction) == (customer.id, "mini", "outbound")


def test_template_message_for_a_follower_without_subscription(octx, fake_wechat, make_customer):
    notice = notify(make_customer(mini=0))
    assert (notice.status, notice.channel) == ("sent", "mp")
    assert "无剩余订阅次数" in notice.channel_reason
    body = fake_wechat.sent_messages(TPL)[0]["body"]
    assert body["client_msg_id"] == notice.idem_key == "node-acceptance:node:1"
    assert body["miniprogram"]["pagepath"] == "pages/project/detail?id=7"


def test_customer_service_message_only_within_48_hours(octx, fake_wechat, make_customer):
    recent = make_customer(
        mini=None, subscribed=False, inbound_at=datetime.now(UTC) - timedelta(hours=47)
    )
    assert notify(recent).channel == "custom"
    assert "翠湖天地" in fake_wechat.sent_messages(CUSTOM)[0]["body"]["text"]["content"]
    old = make_customer(
        "赵先生",
        mini=None,
        subscribed=False,
        n=2,
        inbound_at=datetime.now(UTC) - timedelta(hours=49),
    )
    assert notify(old, subject="node:2").status == "task"


def test_no_channel_makes_a_task_for_the_rep_visible_in_the_api(octx, make_customer, new_staff):
    rep, headers = new_staff("李销售")
    notice = notify(make_customer(mini=None, mp=False, owner=rep))
    assert (notice.status, notice.channel) == ("task", "task")
    assert "无小程序openid" in notice.channel_reason and "无公众号openid" in notice.channel_reason
    items = octx.test_client().get("/api/v1/tasks", headers=headers).get_json()["items"]
    assert (
        len(items) == 1 and "等待您验收" in items[0]["text"] and items[0]["notice_id"] == notice.id
    )
    assert db.session.scalars(select(TimelineEvent).filter_by(kind="notice_task")).one()
    done = octx.test_client().post(f"/api/v1/tasks/{items[0]['id']}/done", headers=headers)
    assert done.get_json()["status"] == "done"


def test_busy_is_retried_later_with_backoff(octx, fake_wechat, make_customer):
    fake_wechat.busy(TPL)
    notice = notify(make_customer(mini=0))
    assert (notice.status, notice.attempts) == ("pending", 1)
    assert notice.scheduled_at > datetime.now(UTC) + timedelta(seconds=20)
    assert "-1" in notice.last_error
    notice = resend(notice)
    assert (notice.status, notice.attempts, notice.channel) == ("sent", 2, "mp")


def test_http_errors_and_timeouts_are_transient(octx, fake_wechat, make_customer):
    fake_wechat.http_error(TPL, 502)
    notice = notify(make_customer(mini=0))
    assert notice.status == "pending" and notice.attempts == 1
    assert resend(notice).status == "sent"


def test_transient_errors_give_up_after_max_attempts(octx, fake_wechat, make_customer):
    octx.config["NOTICE_MAX_ATTEMPTS"] = 2
    try:
        fake_wechat.fail_always(TPL, -1)
        notice = resend(notify(make_customer(mini=0)))
        assert (notice.status, notice.attempts) == ("failed", 2)
    finally:
        octx.config["NOTICE_MAX_ATTEMPTS"] = 6


def test_token_errors_refresh_once_then_send(octx, fake_wechat, make_customer):
    fake_wechat.fail_next(TPL, 40001)
    assert notify(make_customer(mini=0)).status == "sent"
    fake_wechat.fail_next(TPL, 42001)
    assert notify(make_customer("赵先生", mini=0, n=2), subject="node:2").status == "sent"
    assert fake_wechat.count(TPL) == 4 and fake_wechat.count("/cgi-bin/token") == 3


def test_43101_refused_moves_to_the_next_channel(octx, fake_wechat, make_customer):
    customer = make_customer(mini=3)
    fake_wechat.fail_next(SUB, 43101)
    notice = notify(customer)
    assert (notice.status, notice.channel) == ("sent", "mp")
    assert notice.tried[0]["channel"] == "mini" and notice.tried[0]["errcode"] == 43101
    consent = db.session.scalars(
        select(MessageConsent).filter_by(template_id="tpl-wechat-mini-tpl-progress")
    ).one()
    assert consent.remaining == 0  # WeChat says none is left: believe it


def test_43004_not_following_moves_to_the_next_channel(octx, fake_wechat, make_customer):
    customer = make_customer(mini=0, inbound_at=datetime.now(UTC) - timedelta(hours=1))
    fake_wechat.fail_next(TPL, 43004)
    notice = notify(customer)
    assert (notice.status, notice.channel) == ("sent", "custom")
    identity = db.session.scalars(select(CustomerIdentity).filter_by(kind="mp_openid")).one()
    assert identity.subscribed is False


def test_47003_bad_data_moves_on_and_records_the_error(octx, fake_wechat, make_customer):
    fake_wechat.fail_next(SUB, 47003, errmsg="argument invalid! data.thing1.value invalid")
    notice = notify(make_customer(mini=1))
    assert (notice.status, notice.channel) == ("sent", "mp")
    assert "data.thing1.value" in notice.tried[0]["error"]


def test_45009_daily_quota_waits_until_0830_next_day(octx, fake_wechat, make_customer):
    octx.config["NOTICE_WINDOW_START"] = (8, 30)
    try:
        with time_machine.travel(
            datetime(2026, 11, 22, 6, 0, tzinfo=UTC), tick=False
        ):  # 14:00 local
            fake_wechat.fail_next(TPL, 45009)
            notice = notify(make_customer(mini=0))
        assert notice.status == "pending" and notice.attempts == 0
        assert notice.scheduled_at == datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 08:30 local
    finally:
        octx.config["NOTICE_WINDOW_START"] = (0, 0)


def test_every_channel_refused_ends_with_a_rep_task(octx, fake_wechat, make_customer, new_staff):
    rep, _ = new_staff("李销售")
    customer = make_customer(mini=1, owner=rep, inbound_at=datetime.now(UTC))
    for path, code in ((SUB, 43101), (TPL, 43004), (CUSTOM, 45015)):
        fake_wechat.fail_next(path, code)
    notice = notify(customer)
    assert (notice.status, notice.channel) == ("task", "task")
    assert [t["channel"] for t in notice.tried] == ["mini", "mp", "custom"]
    task = db.session.scalars(select(Task)).one()
    assert task.staff_id == rep.id and task.customer_id == customer.id


def test_staff_alert_goes_by_wecom_and_without_wecom_becomes_their_task(
    octx, fake_wechat, new_staff
):
    pm, _ = new_staff("周经理", roles="pm", wecom_userid="zhoujl")
    notice = outbox.notify_staff(
        "node-delayed",
        pm,
        "node:3:2026-11-22",
        project_id=7,
        project_name="翠湖天地",
        node="木工",
        planned_on="2026-11-20",
        days_late=2,
    )
    db.session.commit()
    db.session.refresh(notice)
    assert (notice.status, notice.channel) == ("sent", "wecom")
    body = fake_wechat.sent_messages(WECOM)[0]["body"]
    assert (
        body["touser"] == "zhoujl"
        and body["agentid"] == 1000002
        and "延期2天" in body["text"]["content"]
    )
    other, _ = new_staff("吴监理", roles="supervisor")
    second = outbox.notify_staff(
        "node-delayed",
        other,
        "node:3:2026-11-22",
        project_id=7,
        project_name="翠湖天地",
        node="木工",
        planned_on="2026-11-20",
        days_late=2,
    )
    db.session.commit()
    db.session.refresh(second)
    assert second.status == "task" and second.idem_key != notice.idem_key
    assert db.session.scalars(select(Task)).one().staff_id == other.id


def test_delivery_events_update_the_status(octx, fake_wechat, make_customer):
    from tests import wxsign

    first = notify(make_customer(mini=0))
    second = notify(make_customer("赵先生", mini=0, n=2), subject="node:2")
    first.msgid, second.msgid = "200163836", "200163840"
    db.session.commit()
    client = octx.test_client()
    for name in (
        "mp_event_templatesendjobfinish.xml",
        "mp_event_templatesendjobfinish_user_block.xml",
    ):
        path, body = wxsign.mp_plain(wxsign.fixture(name))
        assert client.post(path, data=body, content_type="text/xml").status_code == 200
    db.session.expire_all()
    assert (db.session.get(Notice, first.id).status, db.session.get(Notice, first.id).delivery) == (
        "delivered",
        "success",
    )
    assert (
        db.session.get(Notice, second.id).status,
        db.session.get(Notice, second.id).delivery,
    ) == ("failed", "failed:user block")


def test_subscribe_msg_sent_event_updates_a_mini_notice(octx, make_customer):
    from tests import wxsign

    notice = notify(make_customer(mini=1))
    notice.msgid = "1700827132819554304"
    db.session.commit()
    path, body = wxsign.mp_plain(wxsign.fixture("mp_event_subscribe_msg_sent.xml"))
    assert octx.test_client().post(path, data=body, content_type="text/xml").status_code == 200
    db.session.expire_all()
    assert db.session.get(Notice, notice.id).status == "delivered"


def test_mp_openid_of_the_fake_follower_is_used(octx, fake_wechat, make_customer):
    notify(make_customer(mini=0))
    assert fake_wechat.sent_messages(TPL)[0]["touser"] == MP_OPENID
