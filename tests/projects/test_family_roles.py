"""家属: a family member sees the project, never decides change orders, and accepts nodes
only while the owner allows it; only the owner manages that (issue 12, item 13; product.md)."""

from __future__ import annotations

from sqlalchemy import select

from app.core.extensions import db
from app.models import AuditLog, ChangeOrder, ProjectMember, ProjectNode
from tests.projects.helpers import invite, node_ids, owner_headers, set_status


def _family(site, mini, openid="oFamily01"):
    headers = mini.login(openid)
    code = invite(site, kind="family", project_id=site.project["id"])
    assert (
        mini.post("/mini/v1/bind", json={"invite_code": code}, headers=headers).status_code == 200
    )
    return headers


def _order(site) -> int:
    response = site.client.post(
        f"/api/v1/projects/{site.project['id']}/change-orders",
        json={"item": "主卧加装吊顶", "amount_fen": 680_000},
        headers=site.pm_h,
    )
    assert response.status_code == 201
    return response.json["id"]


def _waiting_node(site) -> int:
    node = node_ids(site)[0]
    set_status(site, node, "in_progress")
    set_status(site, node, "pending_acceptance")
    return node


def test_a_family_member_never_approves_or_rejects_a_change_order(site, mini):
    owner = owner_headers(site, mini)
    family = _family(site, mini)
    order = _order(site)
    for action, body in (("approve", {}), ("reject", {"reason": "太贵"})):
        url = f"/mini/v1/change-orders/{order}/{action}"
        refused = mini.post(url, json=body, headers=family)
        assert refused.status_code == 403, action
        assert refused.json["error"]["message"] == "预算调整涉及费用，只有业主本人可以同意或拒绝"
    assert db.session.get(ChangeOrder, order).status == "proposed"
    detail = mini.get(f"/mini/v1/projects/{site.project['id']}", headers=family).json
    assert [o["id"] for o in detail["change_orders"]] == [order]  # they still see it
    approved = mini.post(f"/mini/v1/change-orders/{order}/approve", json={}, headers=owner)
    assert approved.status_code == 200 and approved.json["change_order"]["status"] == "approved"


def test_a_family_member_accepts_nodes_only_while_the_owner_allows_it(site, mini):
    owner = owner_headers(site, mini)
    family = _family(site, mini)
    pid, node = site.project["id"], _waiting_node(site)
    accept = f"/mini/v1/projects/{pid}/nodes/{node}/accept"
    reject = f"/mini/v1/projects/{pid}/nodes/{node}/reject"
    refused = mini.post(accept, headers=family)
    assert refused.status_code == 403 and "业主" in refused.json["error"]["message"]
    assert mini.post(reject, json={"reason": "墙面不平"}, headers=family).status_code == 403
    assert db.session.get(ProjectNode, node).status == "pending_acceptance"

    [member] = mini.get(f"/mini/v1/projects/{pid}/members", headers=owner).json["items"]
    assert member["can_accept"] is False and member["role"] == "family"
    url = f"/mini/v1/projects/{pid}/members/{member['id']}"
    allowed = mini.patch(url, json={"can_accept": True}, headers=owner)
    assert allowed.status_code == 200 and allowed.json["can_accept"] is True
    accepted = mini.post(accept, headers=family)
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    assert db.session.get(ProjectNode, node).accepted_by_customer_id == member["customer_id"]

    assert mini.patch(url, json={"can_accept": False}, headers=owner).status_code == 200
    second = node_ids(site)[1]
    set_status(site, second, "in_progress")
    set_status(site, second, "pending_acceptance")
    again = f"/mini/v1/projects/{pid}/nodes/{second}/accept"
    assert mini.post(again, headers=family).status_code == 403
    assert mini.post(again, headers=owner).status_code == 200
    changes = db.session.scalars(select(AuditLog).filter_by(action="project_member.can_accept"))
    assert [a.after["can_accept"] for a in changes] == [True, False]


def test_only_the_owner_manages_family_members(site, mini):
    owner_headers(site, mini)
    family = _family(site, mini)
    pid = site.project["id"]
    member = db.session.scalars(select(ProjectMember)).one()
    url = f"/mini/v1/projects/{pid}/members/{member.id}"
    assert mini.get(f"/mini/v1/projects/{pid}/members", headers=family).status_code == 403
    assert mini.patch(url, json={"can_accept": True}, headers=family).status_code == 403
    stranger = mini.login("oStranger")
    assert mini.get(f"/mini/v1/projects/{pid}/members", headers=stranger).status_code == 404
    assert mini.patch(url, json={"can_accept": True}, headers=stranger).status_code == 404
    db.session.expire_all()
    assert db.session.get(ProjectMember, member.id).can_accept is False
    bad = mini.patch(url, json={"can_accept": "maybe"}, headers=family)
    assert bad.status_code == 400


def test_the_owner_decides_as_before(site, mini):
    owner = owner_headers(site, mini)
    pid, node = site.project["id"], _waiting_node(site)
    url = f"/mini/v1/projects/{pid}/nodes/{node}/reject"
    rejected = mini.post(url, json={"reason": "踢脚线有缝"}, headers=owner)
    assert rejected.status_code == 200 and rejected.json["status"] == "rectifying"
    order = _order(site)
    refused = mini.post(f"/mini/v1/change-orders/{order}/reject", json={}, headers=owner)
    assert refused.status_code == 200 and refused.json["change_order"]["status"] == "rejected"
    assert mini.get(f"/mini/v1/projects/{pid}/members", headers=owner).json == {"items": []}
