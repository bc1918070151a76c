"""Anniversary maintenance plans, the daily pass, birthdays and dormant leads."""

from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import Customer, MaintenancePlan, Notice, ServiceTicket, Task, TimelineEvent
from app.services.notices import maintenance, outbox, tasks
from jobs.notices import daily_customer_pass

AT_0900 = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 2026-11-22 09:00 Asia/Shanghai


def notices(kind=None):
    query = select(Notice).order_by(Notice.id)
    return db.session.scalars(query.filter_by(kind=kind) if kind else query).all()


def test_plan_starts_at_the_first_anniversary(octx, make_customer):
    plan = maintenance.plan_for_completion(make_customer().id, 501, date(2025, 11, 22))
    assert (plan.next_due, plan.next_years) == (date(2026, 11, 22), 1)
    again = maintenance.plan_for_completion(plan.customer_id, 501, date(2025, 11, 22))
    assert again.id == plan.id
    assert maintenance.anniversary(date(2024, 2, 29), 1) == date(2025, 2, 28)


def test_one_year_notice_on_the_anniversary_at_0900_not_the_day_before(
    octx, fake_wechat, make_customer
):
    customer_id = make_customer(mini=0).id
    maintenance.plan_for_completion(customer_id, 501, date(2025, 11, 22))
    db.session.commit()
    with time_machine.travel(AT_0900 - timedelta(days=1), tick=False):
        daily_customer_pass()
    assert notices() == []
    with time_machine.travel(AT_0900, tick=False):
        result = daily_customer_pass()
    assert result["maintenance"] == 1
    (notice,) = notices()
    assert (notice.kind, notice.idem_key) == ("maintenance-1y", "maintenance-1y:project:501")
    assert notice.scheduled_at == AT_0900 and notice.customer_id == customer_id
    assert notice.status == "sent" and "水电线路、墙面开裂检查" in notice.payload["text"]
    assert "2025年11月22日竣工" in notice.payload["text"]
    body = fake_wechat.sent_messages("/cgi-bin/message/template/send")[0]["body"]
    assert body["data"]["thing2"]["value"] == "水电线路、墙面开裂检查"
    assert db.session.scalars(select(TimelineEvent).filter_by(kind="notice_sent")).one()
    plan = db.session.scalars(select(MaintenancePlan)).one()
    assert (plan.next_years, plan.next_due) == (3, date(2028, 11, 22))


def test_a_missed_day_is_caught_up_once(octx, make_customer):
    maintenance.plan_for_completion(make_customer().id, 501, date(2025, 11, 22))
    db.session.commit()
    with time_machine.travel(
        AT_0900 + timedelta(days=1), tick=False
    ):  # the scheduler was down on the 22nd
        assert maintenance.run_due(date(2026, 11, 23), datetime.now(UTC)) == 1
        assert maintenance.run_due(date(2026, 11, 23), datetime.now(UTC)) == 0
    assert len(notices("maintenance-1y")) == 1


def test_three_then_five_years_then_done_with_an_inspection_ticket(octx, make_customer):
    customer = make_customer()
    maintenance.plan_for_completion(customer.id, 501, date(2021, 11, 22))
    db.session.commit()
    now = datetime.now(UTC)
    for day in (date(2022, 11, 22), date(2024, 11, 22), date(2026, 11, 22), date(2031, 1, 1)):
        maintenance.run_due(day, now)
    db.session.commit()
    assert [n.kind for n in notices()] == ["maintenance-1y", "maintenance-3y", "maintenance-5y"]
    assert [n.context["years"] for n in notices()] == [1, 3, 5]
    ticket = db.session.scalars(select(ServiceTicket)).one()
    assert (ticket.kind, ticket.project_id, ticket.customer_id) == ("检测", 501, customer.id)
    plan = db.session.scalars(select(MaintenancePlan)).one()
    assert (plan.next_years, plan.next_due) == (None, None)


def test_only_due_plans_are_touched(octx, make_customer):
    customer = make_customer()
    for project, done in ((1, date(2025, 11, 22)), (2, date(2025, 11, 23)), (3, date(2025, 6, 1))):
        maintenance.plan_for_completion(customer.id, project, done)
    db.session.commit()
    assert maintenance.run_due(date(2026, 11, 22), datetime.now(UTC)) == 2
    assert sorted(n.idem_key for n in notices()) == [
        "maintenance-1y:project:1",
        "maintenance-1y:project:3",
    ]


def test_birthday_greeting_once_per_year(octx, fake_wechat, make_customer):
    make_customer("寿星", mini=0, birthday=date(1980, 11, 22))
    make_customer("别人", mini=0, n=2, birthday=date(1980, 11, 23))
    with time_machine.travel(AT_0900, tick=False):
        assert daily_customer_pass()["birthdays"] == 1
        daily_customer_pass()
    (notice,) = notices("birthday")
    assert notice.idem_key.endswith(":2026") and notice.marketing and notice.status == "sent"
    assert "寿星，生日快乐" in fake_wechat.sent_messages()[0]["body"]["data"]["thing1"]["value"]


def test_dormant_lead_gets_one_task_per_dormancy(octx, make_customer, new_staff):
    rep, _ = new_staff()
    now = datetime.now(UTC)
    sleepy = make_customer("沉睡客户", owner=rep, created_at=now - timedelta(days=40))
    make_customer("活跃客户", owner=rep, n=2, created_at=now - timedelta(days=40))
    db.session.add(
        TimelineEvent(customer_id=sleepy.id, kind="message", occurred_at=now - timedelta(days=31))
    )
    active = db.session.scalars(select(Customer).filter_by(name="活跃客户")).one()
    db.session.add(
        TimelineEvent(customer_id=active.id, kind="message", occurred_at=now - timedelta(days=2))
    )
    db.session.commit()
    assert tasks.dormant_leads(now) == 1
    tasks.dormant_leads(now + timedelta(days=1))
    db.session.commit()
    (task,) = db.session.scalars(select(Task)).all()
    assert task.customer_id == sleepy.id and task.staff_id == rep.id and "31天" in task.title


def test_merged_customer_notices_follow(octx, make_customer):
    source, target = make_customer("甲"), make_customer("乙", n=2)
    maintenance.plan_for_completion(source.id, 9, date(2025, 1, 1))
    outbox.on_merge(source.id, target.id)
    db.session.commit()
    assert (
        db.session.scalar(
            select(func.count()).select_from(MaintenancePlan).filter_by(customer_id=target.id)
        )
        == 1
    )
