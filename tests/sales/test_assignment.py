"""Lead assignment: rules in order, round-robin, the off list and caps, WeCom bindings."""

from __future__ import annotations

from collections import Counter

from app.core.extensions import db
from app.models import AuditLog, Customer, LeadMove, Task, TimelineEvent
from app.services.sales import assignment, rules
from tests.sales.conftest import notices


def owners(leads) -> list[int]:
    return [lead.owner_id for _, lead in leads]


def test_round_robin_takes_turns_and_the_rep_hears_of_it(team, rule, new_lead):
    rule()
    got = owners([new_lead() for _ in range(8)])
    reps = [team[f"rep{i}"].id for i in range(1, 5)]
    assert got == reps + reps
    sent = notices("lead-assigned")
    assert [n.staff_id for n in sent] == got
    assert "已分配给您" in sent[0].payload["text"]


def test_the_chosen_rep_and_rule_are_in_the_timeline_and_the_audit(team, rule, new_lead):
    row = rule(name="东区规则")
    customer, lead = new_lead()
    event = (
        db.session.query(TimelineEvent).filter_by(customer_id=customer.id, kind="lead_assign").one()
    )
    assert event.payload["staff_name"] == "销售1" and event.payload["rule_name"] == "东区规则"
    audit = (
        db.session.query(AuditLog).filter_by(action="lead.assign", entity_id=str(customer.id)).one()
    )
    assert audit.after["rule_id"] == row.id
    assert db.session.get(Customer, customer.id).store.name == "城东旗舰店"


def test_rules_are_tried_in_order_and_match_source_city_and_tags(team, rule, new_lead):
    rule(name="兜底", position=100)
    rule(reps=[team["rep4"]], name="展会二维码", position=1, source="mp_qr:expo")
    rule(reps=[team["rep3"]], name="上海", position=2, city="上海")
    _, expo = new_lead(source_channel="mp_qr:expo")
    _, other_qr = new_lead(source_channel="mp_qr:street", city="杭州")
    _, shanghai = new_lead(city="上海")
    assert expo.owner_id == team["rep4"].id
    assert shanghai.owner_id == team["rep3"].id
    assert other_qr.owner_id == team["rep1"].id  # the catch-all


def test_a_tag_rule_needs_every_tag(team, rule, new_lead):
    from app.services.tagging import tagging

    rule(name="兜底", position=100, reps=[team["rep1"]])
    rule(name="高端", position=1, reps=[team["rep2"]], tags=["预算:高端"])
    rich = Customer(name="高先生", source_channel="mp")
    db.session.add(rich)
    db.session.flush()
    tagging.add_manual_tag(rich, "预算:高端", team["manager"])
    assert assignment.assign(rich).owner_id == team["rep2"].id
    _, plain = new_lead()
    assert plain.owner_id == team["rep1"].id


def test_off_inactive_and_capped_reps_are_skipped(team, rule, new_lead):
    rule()
    rules.set_rep(team["rep2"], team["manager"], off=True, daily_cap=None)
    rules.set_rep(team["rep3"], team["manager"], off=False, daily_cap=1)
    team["rep4"].active = False
    db.session.commit()
    got = owners([new_lead() for _ in range(4)])
    r1, r3 = team["rep1"].id, team["rep3"].id
    assert got == [r1, r3, r1, r1]


def test_no_rule_or_no_free_rep_is_a_task_for_the_store_manager(team, rule, new_lead):
    rule(reps=[team["rep1"]], store_id=team["rep1"].store_id)
    customer, lead = new_lead(store_id=team["manager"].store_id)
    assert lead.owner_id == team["rep1"].id
    rules.set_rep(team["rep1"], team["manager"], off=True, daily_cap=None)
    db.session.commit()
    customer, lead = new_lead(store_id=team["manager"].store_id)
    assert lead.owner_id is None and lead.state == "unassigned"
    task = db.session.query(Task).filter_by(kind="lead-unassigned").one()
    assert task.staff_id == team["manager"].id and task.customer_id == customer.id


def test_a_rep_bound_through_wecom_keeps_the_customer(team, rule, new_lead):
    rule()
    customer, lead = new_lead(owner_id=team["rep3"].id)
    assert lead.owner_id == team["rep3"].id
    assert db.session.query(LeadMove).filter_by(customer_id=customer.id).one().kind == "bound"
    assert notices("lead-assigned") == []
    _, nxt = new_lead()
    assert nxt.owner_id == team["rep1"].id  # the rule's turn did not move


def test_assigning_again_changes_nothing(team, rule, new_lead):
    rule()
    customer, lead = new_lead()
    assignment.assign(customer)
    db.session.commit()
    assert db.session.query(LeadMove).count() == 1
    assert Counter(n.kind for n in notices("lead-assigned")) == {"lead-assigned": 1}
