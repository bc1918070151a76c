"""Decent hours, the marketing cap, staff alerts, idempotency, claims and recovery."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import Notice
from app.services.notices import outbox, outbox_send

CTX = {
    "project_id": 7,
    "project_name": "翠湖天地",
    "node": "油漆",
    "at": "2026-11-22T14:00:00+00:00",
}
LOCAL_2200 = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)  # 22:00 Asia/Shanghai
NEXT_0830 = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)


@pytest.fixture
def decent_hours(octx):
    octx.config.update(NOTICE_WINDOW_START=(8, 30), NOTICE_WINDOW_END=(21, 0))
    yield octx
    octx.config.update(NOTICE_WINDOW_START=(0, 0), NOTICE_WINDOW_END=(23, 59))


def test_quiet_hours_move_a_2200_notice_to_0830_next_day(decent_hours, fake_wechat, make_customer):
    customer = make_customer(mini=0)
    with time_machine.travel(LOCAL_2200, tick=False):
        notice = outbox.notify_customer("node-accepted", customer, "node:1", **CTX)
        db.session.commit()
        assert outbox.dispatch_due() == 0
    assert (notice.status, notice.scheduled_at) == ("pending", NEXT_0830)
    assert fake_wechat.count("/cgi-bin/message/template/send") == 0
    with time_machine.travel(NEXT_0830 + timedelta(seconds=5), tick=False):
        assert outbox.dispatch_due() == 1
    db.session.refresh(notice)
    assert notice.status == "sent"


def test_a_retry_that_falls_outside_the_window_waits_again(decent_hours, make_customer):
    customer = make_customer(mini=0)
    # Created that evening (a clock of its own, or today's date would make it due at once).
    with time_machine.travel(LOCAL_2200 - timedelta(minutes=2), tick=False):
        notice = outbox.create("node-accepted", "node:1", customer=customer, context=CTX)
    notice.status, notice.scheduled_at = (
        "pending",
        LOCAL_2200 - timedelta(minutes=1),
    )  # a retry's time
    db.session.commit()
    with time_machine.travel(LOCAL_2200, tick=False):
        outbox_send.send_batch([notice.id])
    db.session.refresh(notice)
    assert (notice.status, notice.scheduled_at, notice.attempts) == ("pending", NEXT_0830, 0)


def test_staff_alerts_are_never_held(decent_hours, fake_wechat, new_staff):
    pm, _ = new_staff("周经理", roles="pm", wecom_userid="zhoujl")
    with time_machine.travel(LOCAL_2200 + timedelta(hours=3), tick=False):  # 01:00 local
        notice = outbox.notify_staff(
            "response-overdue",
            pm,
            "customer:9:msg:1",
            customer_id=9,
            customer_name="王女士",
            minutes=35,
            excerpt="在吗",
        )
        db.session.commit()
    db.session.refresh(notice)
    assert notice.status == "sent" and fake_wechat.count("/cgi-bin/message/send") == 1


def test_urgent_customer_notice_is_not_held(decent_hours, make_customer):
    with time_machine.travel(LOCAL_2200, tick=False):
        notice = outbox.create(
            "rectification",
            "node:1",
            customer=make_customer(mini=0),
            urgent=True,
            context={**CTX, "issue": "漏水", "due_on": "2026-11-23"},
        )
        assert notice.scheduled_at == LOCAL_2200


def test_marketing_cap_moves_the_second_greeting_to_the_next_day(decent_hours, make_customer):
    customer = make_customer(mini=0)
    at = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 09:00 local
    first = outbox.create("birthday", "customer:1:2026", customer=customer, at=at)
    second = outbox.create("birthday", "customer:1:2026b", customer=customer, at=at)
    third = outbox.create("birthday", "customer:1:2026c", customer=customer, at=at)
    assert first.scheduled_at == at
    assert second.scheduled_at == NEXT_0830
    assert third.scheduled_at == NEXT_0830 + timedelta(days=1)
    other = outbox.create("node-accepted", "node:1", customer=customer, context=CTX, at=at)
    assert other.scheduled_at == at  # service notices are not marketing


def test_marketing_cap_is_a_setting(decent_hours, make_customer):
    decent_hours.config["MARKETING_PER_DAY"] = 2
    try:
        customer = make_customer(mini=0)
        at = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
        times = [
            outbox.create("birthday", f"customer:1:{i}", customer=customer, at=at).scheduled_at
            for i in range(3)
        ]
        assert times == [at, at, NEXT_0830]
    finally:
        decent_hours.config["MARKETING_PER_DAY"] = 1


def test_the_idempotency_key_prevents_a_second_row(octx, make_customer):
    customer = make_customer(mini=0)
    first = outbox.notify_customer("node-accepted", customer, "node:1", **CTX)
    db.session.commit()
    again = outbox.notify_customer("node-accepted", customer, "node:1", **CTX)
    db.session.commit()
    assert again.id == first.id and first.idem_key == "node-accepted:node:1"
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 1


def test_a_claimed_row_is_not_claimed_again(octx, make_customer):
    customer = make_customer(mini=0)
    notice = outbox.create(
        "node-accepted",
        "node:1",
        customer=customer,
        context=CTX,
        at=datetime.now(UTC) + timedelta(hours=1),
    )
    notice.scheduled_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    now = datetime.now(UTC)
    assert [n.id for n in outbox_send.claim([notice.id], now)] == [notice.id]
    assert outbox_send.claim([notice.id], now) == []


def test_recovery_re_dispatches_rows_stuck_in_sending(octx, fake_wechat, make_customer):
    notice = outbox.create(
        "node-accepted",
        "node:1",
        customer=make_customer(mini=0),
        context=CTX,
        at=datetime.now(UTC) + timedelta(hours=1),
    )
    notice.scheduled_at = datetime.now(UTC) - timedelta(minutes=10)
    notice.status, notice.attempts = "sending", 1
    notice.locked_at = datetime.now(UTC) - timedelta(minutes=2)
    db.session.commit()
    assert outbox.dispatch_due() == 0  # 2 minutes is not stuck yet (NOTICE_STUCK_MINUTES=5)
    notice.locked_at = datetime.now(UTC) - timedelta(minutes=6)
    db.session.commit()
    assert outbox.dispatch_due() == 1
    db.session.refresh(notice)
    assert (notice.status, notice.attempts) == ("sent", 2)
    assert fake_wechat.count("/cgi-bin/message/template/send") == 1


def test_a_row_that_keeps_killing_workers_is_failed(octx, make_customer):
    notice = outbox.create(
        "node-accepted",
        "node:1",
        customer=make_customer(mini=0),
        context=CTX,
        at=datetime.now(UTC) + timedelta(hours=1),
    )
    notice.status, notice.attempts, notice.locked_at = (
        "sending",
        6,
        datetime.now(UTC) - timedelta(hours=1),
    )
    db.session.commit()
    outbox.dispatch_due()
    db.session.refresh(notice)
    assert notice.status == "failed" and "中断" in notice.last_error
