"""Response SLA, follow-up reminders and the lead pool, with the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.core.errors import Conflict, Invalid, RateLimited
from app.core.extensions import db
from app.models import AuditLog, Customer, Lead, TimelineEvent
from app.services.sales import followups, pool, sla
from app.services.sales.followups import FollowUpIn
from jobs import sales as sales_jobs
from tests.sales.conftest import notices

# Thursday 2026-11-26 10:00 in Shanghai (default SLA hours 09:00-18:00, Monday-Friday).
THU_10 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def started(customer, when=THU_10) -> Lead:
    lead = db.session.get(Lead, customer.id)
    sla.start(lead, when)
    db.session.commit()
    return lead


def test_a_miss_alerts_the_rep_and_the_store_manager_once(team, rule, new_lead):
    rule()
    customer, _ = new_lead()
    lead = started(customer)
    assert lead.response_due_at == THU_10 + timedelta(minutes=15)
    assert sla.sweep(THU_10 + timedelta(minutes=14)) == 0
    assert sla.sweep(THU_10 + timedelta(minutes=16)) == 1
    assert sla.sweep(THU_10 + timedelta(minutes=30)) == 0
    db.session.commit()
    alerts = notices("response-overdue")
    assert {n.staff_id for n in alerts} == {team["rep1"].id, team["manager"].id}
    assert len(alerts) == 2
    # Stored unrendered by the set-based sweep; the sender renders it like this:
    from flask import current_app

    from app.services.notices import notice_templates, outbox

    context = outbox.render_context(alerts[0], None, alerts[0].staff)
    text = notice_templates.render("response-overdue", context, current_app.config)["text"]
    assert "回复超时" in text and customer.name in text and "16分钟" in text
    assert sla.state(lead, THU_10 + timedelta(minutes=20)).label == "超时 5 分钟"


def test_a_follow_up_in_time_meets_it_and_stores_the_response_time(team, rule, new_lead):
    rule()
    customer, _ = new_lead()
    lead = started(customer)
    assert sla.state(lead, THU_10 + timedelta(minutes=3)).label == "剩余 12 分钟"
    followups.log(
        team["rep1"],
        customer,
        FollowUpIn("电话", "已联系，约周六量房"),
        THU_10 + timedelta(minutes=9),
    )
    db.session.commit()
    assert lead.response_seconds == 540 and lead.response_work_minutes == 9
    assert sla.sweep(THU_10 + timedelta(hours=2)) == 0
    assert notices("response-overdue") == []


def test_the_owning_reps_wecom_event_meets_it_another_reps_does_not(team, rule, new_lead):
    rule()
    customer, _ = new_lead()
    lead = started(customer)
    other = TimelineEvent(
        customer_id=customer.id,
        kind="wecom_contact_added",
        channel="wecom",
        direction="inbound",
        actor_type="customer",
        actor_staff_id=team["rep2"].id,
        occurred_at=THU_10 + timedelta(minutes=2),
    )
    sla.on_event(other)
    assert lead.responded_at is None
    own = TimelineEvent(
        customer_id=customer.id,
        kind="wecom_contact_added",
        channel="wecom",
        direction="inbound",
        actor_type="customer",
        actor_staff_id=team["rep1"].id,
        occurred_at=THU_10 + timedelta(minutes=4),
    )
    sla.on_event(own)
    assert lead.responded_at == THU_10 + timedelta(minutes=4) and lead.response_due_at is None


def test_follow_up_input_is_checked_field_by_field(team, new_lead):
    customer, _ = new_lead()
    with pytest.raises(Invalid) as caught:
        followups.log(team["rep1"], customer, FollowUpIn("短信", "", "", THU_10), THU_10)
    assert set(caught.value.fields) == {"method", "content", "next_at"}


def test_a_next_time_reminds_the_rep_once_even_when_the_job_runs_twice(team, rule, new_lead):
    rule()
    customer, _ = new_lead()
    nxt = THU_10 + timedelta(days=1)
    followups.log(team["rep1"], customer, FollowUpIn("微信", "发了案例", "有兴趣", nxt), THU_10)
    db.session.commit()
    assert followups.remind_due(nxt - timedelta(minutes=1)) == 0
    assert [f.customer_id for f in followups.due_for(team["rep1"], nxt)] == [customer.id]
    for _ in range(2):
        followups.remind_due(nxt + timedelta(minutes=1))
        db.session.commit()
    rep_id = team["rep1"].id
    sales_jobs.sweep()  # the scheduled job too, twice (it ends its session: ids from here)
    sales_jobs.sweep()
    reminders = [
        n for n in notices("followup-due") if n.idem_key.startswith("followup-due:followup:")
    ]
    assert len(reminders) == 1 and reminders[0].staff_id == rep_id
    assert "跟进提醒" in reminders[0].payload["text"]


def test_no_follow_up_within_the_threshold_reminds_the_rep_once(team, rule, new_lead):
    rule()
    customer, lead = new_lead()
    assigned = lead.assigned_at
    assert followups.remind_first(assigned + timedelta(hours=23)) == 0
    assert followups.remind_first(assigned + timedelta(hours=25)) == 1
    assert followups.remind_first(assigned + timedelta(hours=26)) == 0
    db.session.commit()
    first = [n for n in notices("followup-due") if "first-followup" in n.idem_key]
    assert len(first) == 1 and first[0].staff_id == team["rep1"].id


def _idle_lead(team, rule, new_lead, days=8):
    rule(reps=[team["rep1"]])
    customer, lead = new_lead()
    now = lead.idle_since + timedelta(days=days)
    return customer, lead, now


def test_an_idle_lead_returns_to_the_store_pool_with_its_reason(team, rule, new_lead):
    customer, lead, now = _idle_lead(team, rule, new_lead)
    assert pool.return_idle(lead.idle_since + timedelta(days=6)) == 0
    assert pool.return_idle(now) == 1
    db.session.commit()
    assert lead.state == "pool" and lead.pool_reason == "超过 7 天没有跟进"
    assert db.session.get(Customer, customer.id).owner_id is None
    assert [x.customer_id for x in pool.pool_for(team["rep2"])] == [customer.id]
    assert pool.pool_for(team["west"]) == []
    event = db.session.query(TimelineEvent).filter_by(kind="lead_pool").one()
    assert event.payload["reason"] == "超过 7 天没有跟进"
    assert db.session.query(AuditLog).filter_by(action="lead.pool").count() == 1


def test_a_signed_customer_does_not_go_to_the_pool(team, rule, new_lead):
    customer, lead, now = _idle_lead(team, rule, new_lead)
    customer.stage = "contract"
    db.session.commit()
    assert pool.return_idle(now) == 0
    assert lead.state == "owned"


def test_claims_are_limited_per_day_and_the_previous_rep_waits(team, rule, new_lead, app):
    rule(reps=[team["rep1"]])
    made = [new_lead() for _ in range(3)]
    now = made[-1][1].idle_since + timedelta(days=8)
    pool.return_idle(now)
    db.session.commit()
    with pytest.raises(Conflict, match="暂时不能再领取"):
        pool.claim(team["rep1"], made[0][0].id, now)
    with pytest.raises(Exception, match="公海中没有这个客户"):
        pool.claim(team["west"], made[0][0].id, now)
    app.config["POOL_CLAIMS_PER_DAY"] = 2
    try:
        pool.claim(team["rep2"], made[0][0].id, now)
        pool.claim(team["rep2"], made[1][0].id, now)
        with pytest.raises(RateLimited):
            pool.claim(team["rep2"], made[2][0].id, now)
        assert pool.claims_left(team["rep3"], now) == 2
    finally:
        app.config["POOL_CLAIMS_PER_DAY"] = 5
    db.session.commit()
    assert db.session.get(Customer, made[0][0].id).owner_id == team["rep2"].id
    with pytest.raises(Conflict, match="已被其他同事领取"):
        pool.claim(team["rep3"], made[0][0].id, now)
    later = now + timedelta(days=31)
    assert pool.claim(team["rep1"], made[2][0].id, later).owner_id == team["rep1"].id


def test_a_merge_keeps_one_lead_and_no_sweep_names_the_merged_customer(team, rule, new_lead):
    """Two records of one person, both waiting for an answer: after the merge only the kept
    customer's lead remains, with the other's follow-ups, and a miss alerts once for it."""
    from app.models import FollowUp
    from app.services.customers import customers

    rule()
    older, _ = new_lead(name="张先生")
    newer, _ = new_lead(name="张先生(小程序)")
    started(older)
    started(newer)
    followups.log(team["rep2"], newer, FollowUpIn("微信", "发了案例"), THU_10)
    db.session.commit()
    customers.merge(older, newer, actor="test", reason="同一手机号")
    db.session.commit()
    assert db.session.get(Lead, newer.id) is None
    assert db.session.get(Lead, older.id) is not None
    assert {f.customer_id for f in db.session.query(FollowUp)} == {older.id}
    assert sla.sweep(THU_10 + timedelta(hours=3)) == 1
    db.session.commit()
    keys = {n.idem_key.split(":")[2] for n in notices("response-overdue")}
    assert keys == {str(older.id)}
