"""Fixtures of the API tests: the project site and the mini program (tests/projects/helpers.py),
and a world with a row behind every path parameter of both APIs."""

import pytest

from app.core.extensions import db
from app.models import ProjectMember
from app.services.customers import customers
from app.services.notices import tasks
from app.services.referrals import redemptions
from tests.projects import helpers
from tests.projects.helpers import node_ids
from tests.referrals import helpers as referral_helpers
from tests.trace.helpers import make_batch, make_codes

mini, site, uploads = helpers.mini, helpers.site, helpers.uploads  # the fixtures, here too


@pytest.fixture
def admin_world(site, bearer):
    """An admin's headers, and real ids for every path parameter of /api/v1."""
    admin, headers = bearer("管理员", "admin")
    client, pid = site.client, site.project["id"]

    def made(response):
        assert response.status_code in (200, 201), response.json
        return response.json["id"]

    order = made(
        client.post(
            f"/api/v1/projects/{pid}/change-orders",
            json={"item": "加装插座", "amount_fen": 20000},
            headers=headers,
        )
    )
    auto_reply = made(
        client.post("/api/v1/auto-replies", json={"keyword": "地址", "reply": "x"}, headers=headers)
    )
    tag_rule = made(
        client.post(
            "/api/v1/tag-rules",
            json={"dimension": "风格", "value": "北欧", "words": ["北欧风"]},
            headers=headers,
        )
    )
    assign_rule = made(
        client.post(
            "/api/v1/assignment-rules",
            json={"name": "全部", "rep_ids": [site.sales.id]},
            headers=headers,
        )
    )
    template = client.get("/api/v1/node-templates", headers=headers).json["items"][0]["id"]
    client.post(
        f"/api/v1/customers/{site.customer.id}/tags", json={"tag": "风格:北欧"}, headers=headers
    )
    batch = make_batch(site)["id"]
    code = make_codes(site, batch, 1)[0]["code"]
    task = tasks.create("dormant_lead", "跟进", staff_id=admin.id, customer_id=site.customer.id)
    relative, _ = customers.find_or_create_by_identity("mini_openid", "oFamilyWorld", "wxmini")
    member = ProjectMember(project_id=pid, customer_id=relative.id)
    db.session.add(member)
    db.session.flush()
    referrer = referral_helpers.person("推荐人")
    referee, referral = referral_helpers.referred(referrer)
    referral_helpers.move(referee, "contract")
    redemption = redemptions.request(referrer, "窗帘", 100)
    db.session.commit()
    ids = {
        "customer_id": site.customer.id,
        "project_id": pid,
        "node_id": node_ids(site)[1],
        "task_id": task.id,
        "tag": "风格:北欧",
        "order_id": order,
        "batch_id": batch,
        "code": code,
        "member_id": member.id,
        "referral_id": referral.id,
        "redemption_id": redemption.id,
        "staff_id": site.sales.id,
    }

    def real(path: str, name: str):
        if name == "rule_id":
            if "/assignment-rules/" in path:
                return assign_rule
            return auto_reply if "/auto-replies/" in path else tag_rule
        if name == "node_id" and path.startswith("/api/v1/node-templates/"):
            return template
        return ids[name]

    return headers, real
