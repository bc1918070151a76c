"""schemathesis drives every /mini/v1 operation from its OpenAPI document: no 500s, and every
answer matches the documented status codes, content types and schemas."""

import pytest
from sqlalchemy import select

from app.core.extensions import db
from app.models import ProjectMember
from tests.conformance import check_document
from tests.projects.helpers import invite, node_ids, owner_headers, set_status
from tests.trace.helpers import make_batch, make_codes

ENDS_SESSION = ("/mini/v1/logout", "/mini/v1/unbind")


@pytest.fixture
def homeowner(site, mini):
    """A bound homeowner whose project has a node waiting for acceptance and a change order."""
    headers = owner_headers(site, mini)
    node = node_ids(site)[0]
    set_status(site, node, "in_progress")
    set_status(site, node, "pending_acceptance")
    order = site.client.post(
        f"/api/v1/projects/{site.project['id']}/change-orders",
        json={"item": "加装插座", "amount_fen": 20000},
        headers=site.pm_h,
    )
    family = mini.login("oFamilyFuzz")
    code = invite(site, kind="family", project_id=site.project["id"])
    assert mini.post("/mini/v1/bind", json={"invite_code": code}, headers=family).status_code == 200
    ids = {
        "project_id": site.project["id"],
        "node_id": node,
        "order_id": order.json["id"],
        "member_id": db.session.scalars(select(ProjectMember.id)).one(),
        "code": make_codes(site, make_batch(site)["id"], 1)[0]["code"],  # a trace code
    }
    return {"headers": headers, "ids": ids}


def test_mini_api_conforms_to_its_openapi_document(mini, homeowner):
    ids = homeowner["ids"]
    logins = iter(range(10**6))

    def headers(path: str) -> dict:
        if path in ENDS_SESSION:  # each case logs in afresh: the homeowner stays
            return mini.login(f"oFuzz{next(logins)}")
        return homeowner["headers"]

    url = "/mini/v1/openapi.json"
    count = check_document(mini.application, url, headers, lambda _path, name: ids[name], 12)
    assert count == 23  # 17, the referral routes (issue 14) and POST /mini/v1/leads (issue 16)
