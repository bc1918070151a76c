"""客户价值: high, normal or low from what is known, with reasons; kept up to date; filterable."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core import hooks
from app.core.extensions import db
from app.models import Customer, CustomerValue, Project, TimelineEvent
from app.models.types import utcnow
from app.services.customers import customers, stages, timeline
from app.services.projects import projects
from app.services.tagging import tagging
from app.services.value import inputs, value
from jobs import value as value_jobs


def make_customer(name="张先生", stage="lead") -> Customer:
    customer = Customer(name=name, stage=stage)
    db.session.add(customer)
    db.session.flush()
    return customer


def write(customer: Customer, text="在吗", days_ago=1) -> TimelineEvent:
    """An inbound message the customer sent `days_ago` days ago."""
    return timeline.record(
        customer,
        "message",
        channel="mp",
        direction="inbound",
        payload={"msg_type": "text", "content": text},
        occurred_at=utcnow() - timedelta(days=days_ago),
    )


def say(customer: Customer, text: str) -> TimelineEvent:
    """An inbound message, tagged as enrichment would."""
    event = write(customer, text)
    tagging.tag_message(customer, text, event)
    return event


def reasons(row: CustomerValue) -> dict[str, int]:
    return {r["input"]: r["points"] for r in row.reasons}


# ---------- the rule ----------


def test_a_silent_lead_is_low_and_says_why(ctx):
    row = value.recompute(make_customer().id)
    assert (row.level, row.score) == ("low", -1)
    assert row.reasons == [
        {
            "input": "engagement",
            "points": -1,
            "text": "近90天没有消息",
            "evidence": {"inbound_events": 0, "last_inbound_at": None},
        }
    ]


def test_a_lead_who_writes_now_and_then_is_normal(ctx):
    customer = make_customer()
    for _ in range(3):
        write(customer)
    write(customer, days_ago=120)  # outside the 90 days: not counted
    row = value.recompute(customer.id)
    assert (row.level, row.score, reasons(row)) == ("normal", 1, {"engagement": 1})
    assert row.reasons[0]["text"] == "近90天 3 条消息"


def test_a_high_budget_engaged_measured_customer_is_high_with_the_tag_as_evidence(ctx):
    customer = make_customer(stage="measured")
    event = say(customer, "新房全屋装修，预算50万")
    for _ in range(9):
        write(customer)
    row = value.recompute(customer.id)
    assert (row.level, row.score) == ("high", 5)
    assert reasons(row) == {"budget": 2, "stage": 1, "engagement": 2}
    budget = next(r for r in row.reasons if r["input"] == "budget")
    assert budget["text"] == "预算:高端（50万）"
    assert budget["evidence"]["evidence"]["event_id"] == event.id
    assert budget["evidence"]["evidence"]["words"] == ["50万"]


def test_a_small_budget_gone_silent_is_low(ctx):
    customer = make_customer()
    say(customer, "预算5万").occurred_at = utcnow() - timedelta(days=200)
    row = value.recompute(customer.id)
    assert (row.level, row.score, reasons(row)) == ("low", -2, {"budget": -1, "engagement": -1})


@pytest.mark.parametrize(
    ("amount_fen", "points", "level"),
    [(5_000_000, 1, "normal"), (20_000_000, 2, "normal"), (30_000_000, 3, "high")],
)
def test_the_contract_amount_counts_by_size(ctx, amount_fen, points, level):
    customer = make_customer(stage="contract")
    db.session.add(Project(customer_id=customer.id, contract_amount_fen=amount_fen))
    row = value.recompute(customer.id)
    # signed (+2), the contract, silent (-1)
    assert reasons(row) == {"contract": points, "stage": 2, "engagement": -1}
    assert row.level == level
    contract = next(r for r in row.reasons if r["input"] == "contract")
    assert contract["evidence"]["amount_fen"] == amount_fen


def test_a_person_s_budget_tier_counts_before_the_machine_s(ctx, make_staff):
    customer = make_customer()
    say(customer, "预算8万")
    tagging.add_manual_tag(customer, "预算:高端", make_staff("王店长", "manager"))
    row = db.session.get(CustomerValue, customer.id)
    budget = next(r for r in row.reasons if r["input"] == "budget")
    assert (budget["points"], budget["evidence"]["source"]) == (2, "manual")


@pytest.mark.parametrize(
    ("count", "points", "text"), [(1, 2, "推荐签约 1 人"), (3, 3, "推荐签约 3 人（VIP）")]
)
def test_signed_referrals_count_once_wired(ctx, monkeypatch, count, points, text):
    monkeypatch.setattr(inputs, "signed_referral_counts", lambda ids: dict.fromkeys(ids, count))
    row = value.recompute(make_customer().id)
    referral = next(r for r in row.reasons if r["input"] == "referrals")
    assert (referral["points"], referral["text"]) == (points, text)


def test_a_customer_who_referred_nobody_gets_no_referral_points(ctx):
    customer = make_customer()
    assert inputs.signed_referral_count(customer.id) == 0
    assert "referrals" not in reasons(value.recompute(customer.id))


# ---------- kept up to date ----------


def test_the_hooks_are_declared():
    assert value.on_event in hooks.installed("event_enriched")
    assert value.on_stage_changed in hooks.installed("stage_changed")
    assert value.on_tags_changed in hooks.installed("customer_tags_changed")
    assert value.on_merge in hooks.installed("customers_merged")


def test_a_stage_change_recomputes_and_a_new_level_is_a_timeline_event(ctx):
    customer = make_customer()
    for _ in range(3):
        write(customer)
    say(customer, "预算25万")  # 中端 +1, 4 messages +1
    assert db.session.get(CustomerValue, customer.id).level == "normal"
    db.session.add(Project(customer_id=customer.id, contract_amount_fen=25_000_000))
    stages.change_stage(customer, "contract", "test", "签约")
    row = db.session.get(CustomerValue, customer.id)
    assert (row.level, row.score) == ("high", 6)
    changed = db.session.scalars(
        select(TimelineEvent).filter_by(customer_id=customer.id, kind="value_changed")
    ).one()
    assert changed.payload["from"] == "normal" and changed.payload["to"] == "high"
    assert changed.payload["to_label"] == "高价值" and changed.payload["reasons"] == row.reasons


def test_signing_a_project_counts_its_contract(ctx, make_staff):
    sales = make_staff("李销售", "admin")
    customer = make_customer()
    projects.create(customer, sales, {"contract_amount_fen": 18_800_000})
    row = db.session.get(CustomerValue, customer.id)
    assert reasons(row)["contract"] == 2 and reasons(row)["stage"] == 2


def test_a_message_through_the_callback_assesses_the_customer(client):
    from tests.tagging.test_tagging_service import send

    customer_id = send(client, "别墅装修，预算两百万").customer_id
    row = db.session.get(CustomerValue, customer_id)
    assert reasons(row)["budget"] == 2


def test_removing_the_budget_tag_recomputes(ctx, make_staff):
    customer = make_customer()
    say(customer, "预算5万")
    assert reasons(db.session.get(CustomerValue, customer.id))["budget"] == -1
    tagging.remove_tag(customer, "预算:经济", make_staff("王店长", "manager"))
    assert "budget" not in reasons(db.session.get(CustomerValue, customer.id))


def test_a_merge_keeps_one_value_assessed_on_everything(ctx):
    kept, gone = make_customer("甲"), make_customer("乙")
    say(gone, "预算50万")
    value.recompute(kept.id)
    customers.merge(kept, gone)
    assert db.session.get(CustomerValue, gone.id) is None
    assert reasons(db.session.get(CustomerValue, kept.id))["budget"] == 2


def test_the_nightly_pass_sees_the_window_move(ctx):
    customer, never = make_customer("甲"), make_customer("乙")
    for _ in range(10):
        write(customer, days_ago=80)
    value.recompute(customer.id)
    assert db.session.get(CustomerValue, customer.id).level == "normal"  # active: +2
    assert value.recompute_due(utcnow()) == 1  # only the one never assessed
    assert db.session.get(CustomerValue, never.id).level == "low"
    later = utcnow() + timedelta(days=11)  # the ten messages are now 91 days old
    assert value.due_ids(later) == [customer.id]
    value.recompute_due(later)
    row = db.session.get(CustomerValue, customer.id)
    assert (row.level, reasons(row)) == ("low", {"engagement": -1})
    assert value.due_ids(later) == []


def test_the_nightly_job_commits_every_batch(ctx):
    ids = [make_customer(f"客户{i}").id for i in range(3)]
    db.session.commit()
    assert value_jobs.recompute_due() == 3
    db.session.remove()
    assert sorted(db.session.scalars(select(CustomerValue.customer_id)).all()) == ids


def test_the_cli_assesses_customers_not_yet_assessed(ctx):
    make_customer()
    db.session.commit()
    result = ctx.test_cli_runner().invoke(args=["value", "recompute", "--batch", "1"])
    assert result.exit_code == 0 and "1 位客户" in result.output


# ---------- shown and filterable ----------


def _customer_with_level(level_text: str) -> int:
    customer = make_customer(level_text)
    if level_text == "high":
        db.session.add(Project(customer_id=customer.id, contract_amount_fen=40_000_000))
        customer.stage = "construction"
        for _ in range(10):
            write(customer)
    elif level_text == "normal":
        for _ in range(3):
            write(customer)
    value.recompute(customer.id)
    return customer.id


def test_the_staff_api_filters_by_value(client, bearer):
    _, headers = bearer("管理员", "admin")
    ids = {level: _customer_with_level(level) for level in ("high", "normal", "low")}
    make_customer("未评估")
    db.session.commit()
    for level, customer_id in ids.items():
        body = client.get(f"/api/v1/customers?value={level}", headers=headers).get_json()
        assert [c["id"] for c in body["items"]] == [customer_id]
    everyone = client.get("/api/v1/customers", headers=headers).get_json()
    assert len(everyone["items"]) == 4


def test_an_unknown_value_is_a_clear_400(client, bearer):
    _, headers = bearer("管理员", "admin")
    response = client.get("/api/v1/customers?value=vip", headers=headers)
    assert response.status_code == 400
    assert "value" in response.get_json()["error"]["fields"]


def test_a_rep_filtering_by_value_sees_only_their_own(client, bearer):
    rep, headers = bearer("李销售", "sales")
    mine, theirs = _customer_with_level("high"), _customer_with_level("high")
    db.session.get(Customer, mine).owner_id = rep.id
    db.session.commit()
    body = client.get("/api/v1/customers?value=high", headers=headers).get_json()
    assert [c["id"] for c in body["items"]] == [mine] and theirs != mine


def test_the_detail_shows_the_value_in_the_label_with_its_reasons(client, bearer):
    _, headers = bearer("管理员", "admin")
    customer_id = _customer_with_level("high")
    db.session.commit()
    body = client.get(f"/api/v1/customers/{customer_id}", headers=headers).get_json()
    assert body["label"] == "高价值-施工"
    assert body["value"]["level"] == "high" and body["value"]["label"] == "高价值"
    assert {r["input"] for r in body["value"]["reasons"]} == {"contract", "stage", "engagement"}
