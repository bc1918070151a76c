"""schemathesis drives every /mini/v1 operation from its OpenAPI document: no 500s, and every
answer matches the documented status codes, content types and schemas."""

import pytest

from tests.conformance import check_document
from tests.projects.helpers import node_ids, owner_headers, set_status
from tests.trace.helpers import make_batch, make_codes


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
    ids = {"project_id": site.project["id"], "node_id": node, "order_id": order.json["id"]}
    ids["code"] = make_codes(site, make_batch(site)["id"], 1)[0]["code"]  # a trace code
    return {"headers": headers, "ids": ids}


def test_mini_api_conforms_to_its_openapi_document(mini, homeowner):
    ids = homeowner["ids"]
    url = "/mini/v1/openapi.json"
    count = check_document(
        mini.application, url, homeowner["headers"], lambda _path, name: ids[name], 12
    )
    assert count == 13
