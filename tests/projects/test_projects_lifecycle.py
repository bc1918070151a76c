"""Signing, the node template, and the customer moving 签约 → 施工 → 竣工 with timeline events."""

from sqlalchemy import select

from app.core.extensions import db
from app.models import AuditLog, Customer, TimelineEvent
from app.services.customers import stages
from tests.projects.helpers import node_ids, owner_headers, set_status, sign


def _events(customer_id, kind):
    query = select(TimelineEvent).filter_by(customer_id=customer_id, kind=kind)
    return list(db.session.scalars(query.order_by(TimelineEvent.id)))


def test_signing_creates_the_project_with_the_default_nodes_and_moves_to_contract(site):
    project = site.project
    assert [n["name"] for n in project["nodes"]] == [
        "开工交底",
        "水电改造",
        "水电验收",
        "泥瓦",
        "木工",
        "油漆",
        "安装",
        "竣工验收",
    ]
    assert all(
        n["status"] == "not_started" and n["status_label"] == "未开始" for n in project["nodes"]
    )
    assert project["nodes"][0]["planned_start"] == "2026-03-10"
    assert project["nodes"][0]["planned_end"] == "2026-03-16"
    assert project["nodes"][1]["planned_start"] == "2026-03-17"
    assert project["budget"] == {
        "contract_fen": 18_800_000,
        "approved_changes_fen": 0,
        "total_fen": 18_800_000,
    }
    assert project["progress"]["text"] == "0/8"
    customer = db.session.get(Customer, site.customer.id)
    assert customer.stage == "contract" and customer.stage_label == "签约"
    [changed] = _events(customer.id, "stage_changed")
    assert changed.payload["from"] == "lead" and changed.payload["to_label"] == "签约"
    assert _events(customer.id, "project_signed")
    assert db.session.scalars(select(AuditLog).filter_by(action="customer.stage")).one()


def test_first_node_started_moves_to_construction_once(site):
    first, second = node_ids(site)[:2]
    response = set_status(site, first, "in_progress")
    assert response.status_code == 200 and response.json["status_label"] == "进行中"
    assert response.json["actual_start"] is not None
    set_status(site, first, "pending_acceptance")
    set_status(site, second, "in_progress")
    db.session.expire_all()
    assert db.session.get(Customer, site.customer.id).stage == "construction"
    moves = [e.payload["to"] for e in _events(site.customer.id, "stage_changed")]
    assert moves == ["contract", "construction"]


def test_whole_lifecycle_to_completed_through_the_mini_program(site, mini):
    headers = owner_headers(site, mini)
    pid = site.project["id"]
    for node_id in node_ids(site):
        assert set_status(site, node_id, "in_progress").status_code == 200
        assert set_status(site, node_id, "pending_acceptance").status_code == 200
        url = f"/mini/v1/projects/{pid}/nodes/{node_id}/accept"
        accepted = mini.post(url, headers=headers)
        assert accepted.status_code == 200 and accepted.json["status_label"] == "已验收"
        assert accepted.json["accepted_at"] and accepted.json["accepted_by_customer_id"]
    detail = mini.get(f"/mini/v1/projects/{pid}", headers=headers).json
    assert detail["status"] == "completed" and detail["actual_completion"]
    assert detail["progress"]["text"] == "8/8"
    db.session.expire_all()
    assert db.session.get(Customer, site.customer.id).stage == "completed"
    moves = [e.payload["to_label"] for e in _events(site.customer.id, "stage_changed")]
    assert moves == ["签约", "施工", "竣工"]
    assert len(_events(site.customer.id, "node_accepted")) == 8


def test_stages_never_move_backwards_automatically(ctx):
    customer = Customer(name="老客户", stage="completed")
    db.session.add(customer)
    db.session.flush()
    assert stages.change_stage(customer, "contract", "system", "第二份合同") is False
    assert customer.stage == "completed"
    assert stages.change_stage(customer, "after_sales", "system", "进入售后") is True
    assert stages.change_stage(customer, "design", "cli", "手动回退", allow_backwards=True)
    assert customer.stage == "design"


def test_a_completed_customer_signing_again_stays_completed(site):
    db.session.get(Customer, site.customer.id).stage = "completed"
    db.session.commit()
    sign(site, address="第二套房")
    db.session.expire_all()
    assert db.session.get(Customer, site.customer.id).stage == "completed"


def test_edited_template_is_copied_by_the_next_project(site):
    h = site.manager_h
    items = site.client.get("/api/v1/node-templates", headers=h).json["items"]
    assert len(items) == 8
    last = items[-1]["id"]
    assert (
        site.client.patch(
            f"/api/v1/node-templates/{items[1]['id']}", json={"active": False}, headers=h
        ).status_code
        == 200
    )
    added = site.client.post(
        "/api/v1/node-templates",
        json={"name": "软装", "position": 7, "duration_days": 3},
        headers=h,
    )
    assert added.status_code == 201
    assert (
        site.client.patch(
            f"/api/v1/node-templates/{last}", json={"position": 99}, headers=h
        ).status_code
        == 200
    )
    names = [n["name"] for n in sign(site)["nodes"]]
    assert "水电改造" not in names and "软装" in names and names[-1] == "竣工验收"
    assert (
        site.client.post(
            "/api/v1/node-templates", json={"name": "x"}, headers=site.pm_h
        ).status_code
        == 403
    )
    bad = site.client.post("/api/v1/node-templates", json={"duration_days": 0}, headers=h)
    assert bad.status_code == 400 and set(bad.json["error"]["fields"]) == {"name", "duration_days"}


def test_signing_validates_every_field_in_chinese(site):
    response = site.client.post(
        "/api/v1/projects",
        json={"customer_id": site.customer.id, "contract_amount_fen": -5, "planned_start": "3月"},
        headers=site.sales_h,
    )
    assert response.status_code == 400
    fields = response.json["error"]["fields"]
    assert fields["address"] == "地址不能为空"
    assert "contract_amount_fen" in fields and "YYYY-MM-DD" in fields["planned_start"]
    wrong_role = {
        "customer_id": site.customer.id,
        "address": "x",
        "contract_amount_fen": 1,
        "pm_id": site.sales.id,
    }
    response = site.client.post("/api/v1/projects", json=wrong_role, headers=site.sales_h)
    assert response.status_code == 400 and "pm_id" in response.json["error"]["fields"]
