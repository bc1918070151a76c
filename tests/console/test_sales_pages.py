"""Sales in the console: follow-ups, the task list, the pool, assignment rules, SLA state."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from app.core.extensions import db
from app.models import AssignRule, FollowUp, Lead, SalesRep
from app.models.types import utcnow
from app.services.sales import assignment, pool, sla
from tests.console.helpers import customer_of, post, second_browser, sign_in, text


def test_a_rep_logs_a_follow_up_and_sees_it_due_on_the_task_list(client, people):
    customer = customer_of(people["sales"])
    sign_in(client, "李销售")
    page = f"/console/customers/{customer.id}"
    soon = (utcnow() + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M")  # an hour ahead in UTC+8
    answer = post(
        client,
        f"{page}/followups",
        {"method": "电话", "content": "约了周六量房", "result": "有意向", "next_at": soon},
        page=page,
    )
    assert answer.status_code == 302
    row = db.session.query(FollowUp).one()
    assert row.staff_id == people["sales"].id and row.next_at is not None
    shown = text(client.get(page))
    assert "约了周六量房" in shown and "跟进 · 电话" in shown  # the form's list and the timeline
    assert "约了周六量房" in text(client.get(page + "?kind=sales"))
    bad = post(client, f"{page}/followups", {"method": "电话", "content": ""}, page=page)
    assert bad.status_code == 400 and "此项不能为空" in text(bad)
    past = post(
        client,
        f"{page}/followups",
        {"method": "电话", "content": "x", "next_at": "2020-01-01T09:00"},
        page=page,
    )
    assert past.status_code == 400 and "下次跟进时间必须晚于现在" in text(past)
    assert db.session.query(FollowUp).count() == 1


def test_overdue_follow_ups_show_on_the_task_list_only_for_their_rep(client, people):
    customer = customer_of(people["sales"], name="陈先生")
    db.session.add(
        FollowUp(
            customer_id=customer.id,
            staff_id=people["sales"].id,
            method="微信",
            content="发报价",
            next_at=utcnow() - timedelta(hours=2),
        )
    )
    db.session.commit()
    sign_in(client, "李销售")
    page = text(client.get("/console/tasks"))
    assert "陈先生" in page and "已逾期" in page
    other = second_browser(client.application)
    sign_in(other, "赵销售")
    theirs = other.get("/console/tasks")
    assert theirs.status_code == 200 and "陈先生" not in text(theirs)


def test_the_pool_page_claims_once_and_tells_the_second_rep(client, people):
    customer = customer_of(people["sales2"], name="公海客户")
    lead = assignment.assign(customer)
    pooled = datetime(2026, 11, 30, 16, 5, tzinfo=UTC)  # 2026-12-01 00:05 in Shanghai
    pool.to_pool(lead, "超过 7 天没有跟进", pooled)
    db.session.commit()
    sign_in(client, "李销售")
    listing = text(client.get("/console/pool"))
    assert "公海客户" in listing and "超过 7 天没有跟进" in listing
    assert "2026-12-01 00:05" in listing  # when it came back, in TIMEZONE
    answer = post(client, f"/console/pool/{customer.id}/claim", page="/console/pool")
    assert answer.status_code == 302 and f"/customers/{customer.id}" in answer.location
    assert db.session.get(Lead, customer.id).owner_id == people["sales"].id
    second = second_browser(client.application)
    sign_in(second, "钱销售")  # another store: not in their pool
    theirs = second.get("/console/pool")
    assert theirs.status_code == 200 and "公海客户" not in text(theirs)


def test_managers_edit_assignment_rules_and_reps_reps_may_not(client, people):
    sign_in(client, "王店长")
    page = "/console/admin/assign-rules"
    answer = post(
        client,
        page,
        {
            "name": "展会二维码",
            "position": "1",
            "store_id": "0",
            "source": "mp_qr:expo",
            "rep_ids": [str(people["sales"].id), str(people["sales2"].id)],
            "active": "y",
        },
        page=page,
    )
    assert answer.status_code == 302, text(answer)
    rule = db.session.query(AssignRule).one()
    assert rule.rep_ids == [people["sales"].id, people["sales2"].id] and rule.source == "mp_qr:expo"
    assert "展会二维码" in text(client.get(page))
    empty = post(client, page, {"name": "", "store_id": "0"}, page=page)
    assert empty.status_code == 400
    answer = post(
        client,
        f"/console/admin/sales-reps/{people['sales2'].id}",
        {"off": "y", "daily_cap": "3"},
        page=page,
    )
    assert answer.status_code == 302
    rep = db.session.get(SalesRep, people["sales2"].id)
    assert rep.off and rep.daily_cap == 3
    rep_client = second_browser(client.application)
    sign_in(rep_client, "李销售")
    assert rep_client.get(page).status_code == 403


def test_the_sla_state_shows_on_the_list_and_the_customer_page(client, people):
    customer = customer_of(people["sales"], name="等回复")
    lead = assignment.assign(customer)
    sla.start(lead, utcnow() - timedelta(days=3))
    db.session.commit()
    sign_in(client, "李销售")
    assert "超时" in text(client.get("/console/customers"))
    assert "首次响应：超时" in text(client.get(f"/console/customers/{customer.id}"))


def test_a_manager_giving_a_customer_to_another_rep_on_the_profile_tells_that_rep_once(
    client, people
):
    from app.models import LeadMove, Notice, TimelineEvent

    customer = customer_of(people["sales"], "冯先生")
    sign_in(client, "王店长")
    page = f"/console/customers/{customer.id}"
    for _ in range(2):  # the same change saved twice: the second changes nothing
        version = re.search(
            r'id="version" name="version" type="hidden" value="([^"]*)"', text(client.get(page))
        ).group(1)
        form = {"version": version, "name": "冯先生", "gender": "unknown"}
        form["owner_id"] = str(people["sales2"].id)
        assert post(client, f"{page}/profile", form, page=page).status_code == 302
    db.session.expire_all()
    lead = db.session.get(Lead, customer.id)
    assert (lead.owner_id, lead.state) == (people["sales2"].id, "owned")
    assert lead.followup_due_at is not None  # the new rep owes a first follow-up
    move = db.session.query(LeadMove).filter_by(customer_id=customer.id).one()
    assert (move.kind, move.from_staff_id) == ("manual", people["sales"].id)
    told = db.session.query(Notice).filter_by(kind="lead-assigned").all()
    assert [n.staff_id for n in told] == [people["sales2"].id]
    kinds = [e.kind for e in db.session.query(TimelineEvent).filter_by(customer_id=customer.id)]
    assert "lead_manual" in kinds
    assert "指定负责人" in text(client.get(page))
