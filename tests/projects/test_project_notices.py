"""Project changes reach the homeowner and the staff through the outbox, once each."""

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select

from app.core.extensions import db
from app.models import MaintenancePlan, Notice
from app.services.notices import maintenance
from app.services.projects import delays
from tests.projects.helpers import node_ids, owner_headers, set_status


def _notices(kind=None):
    query = select(Notice).order_by(Notice.id)
    if kind:
        query = query.filter_by(kind=kind)
    return list(db.session.scalars(query))


def test_node_start_acceptance_and_rejection_are_told_to_the_homeowner(site, mini):
    headers = owner_headers(site, mini)
    first = node_ids(site)[0]
    set_status(site, first, "in_progress")
    set_status(site, first, "pending_acceptance")
    url = f"/mini/v1/projects/{site.project['id']}/nodes/{first}"
    assert (
        mini.post(url + "/reject", json={"reason": "墙面不平"}, headers=headers).status_code == 200
    )
    site.client.post(
        f"/api/v1/projects/{site.project['id']}/nodes/{first}/rectification/close",
        json={"note": "已重新找平"},
        headers=site.pm_h,
    )
    assert mini.post(url + "/accept", headers=headers).status_code == 200

    kinds = [n.kind for n in _notices()]
    assert kinds == [
        "progress-update",
        "node-acceptance",
        "rectification",
        "node-acceptance",
        "node-accepted",
    ]
    assert all(n.customer_id == site.customer.id for n in _notices())
    rectify = _notices("rectification")[0]
    assert rectify.context["issue"] == "墙面不平"
    # Two rounds of 待验收 are two notices; the same round again is not a third.
    set_status(site, node_ids(site)[1], "in_progress")
    set_status(site, node_ids(site)[1], "not_started")
    set_status(site, node_ids(site)[1], "in_progress")
    assert len(_notices("progress-update")) == 2


def test_change_order_and_daily_log_notices(site):
    pid = site.project["id"]
    order = site.client.post(
        f"/api/v1/projects/{pid}/change-orders",
        json={"item": "主卧加装吊顶", "amount_fen": 350000},
        headers=site.sales_h,
    )
    assert order.status_code == 201, order.json
    [notice] = _notices("change-order")
    assert notice.context["title"] == "主卧加装吊顶" and notice.context["amount"] == "3500.00"


def test_completion_plans_maintenance_and_the_first_anniversary_is_sent(site, mini):
    with time_machine.travel(datetime(2025, 11, 22, 3, 0, tzinfo=UTC), tick=False):
        headers = owner_headers(site, mini)
        for node_id in node_ids(site):
            set_status(site, node_id, "in_progress")
            set_status(site, node_id, "pending_acceptance")
            url = f"/mini/v1/projects/{site.project['id']}/nodes/{node_id}/accept"
            assert mini.post(url, headers=headers).status_code == 200
    plan = db.session.scalars(select(MaintenancePlan)).one()
    assert (plan.completed_on, plan.next_due, plan.next_years) == (
        date(2025, 11, 22),
        date(2026, 11, 22),
        1,
    )
    with time_machine.travel(
        datetime(2026, 11, 22, 1, 0, tzinfo=UTC), tick=False
    ):  # 09:00 Shanghai
        maintenance.run_due(date(2026, 11, 22), datetime.now(UTC))
        db.session.commit()
    [notice] = _notices("maintenance-1y")
    assert notice.customer_id == site.customer.id


def test_delayed_node_alerts_the_pm_and_the_manager_once_a_day(site):
    first = node_ids(site)[0]
    set_status(site, first, "in_progress")
    day = date(2026, 4, 1)  # the first node was planned to end on 2026-03-16
    assert delays.flag(day) >= 1
    assert delays.flag(day) == 0
    db.session.commit()
    alerts = _notices("node-delayed")
    node_alerts = [a for a in alerts if a.context["node"] == "开工交底"]
    assert {a.staff_id for a in node_alerts} == {site.pm.id, site.manager.id}
    assert node_alerts[0].context["days_late"] == 16
