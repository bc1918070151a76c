"""schemathesis drives every /mini/v1 operation from its OpenAPI document: no 500s, and every
answer matches the documented status codes, content types and schemas."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from app.core.extensions import db
from app.models import ProjectMember
from tests.projects.helpers import invite, node_ids, owner_headers, set_status

ENDS_SESSION = ("/mini/v1/logout", "/mini/v1/unbind")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


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
    }
    return {"headers": headers, "ids": ids}


def test_mini_api_conforms_to_its_openapi_document(mini, homeowner):
    """Each operation in turn (schemathesis' lazy pytest fixture does not run on pytest 9)."""
    schema = schemathesis.openapi.from_wsgi("/mini/v1/openapi.json", mini.application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 16
    logins = iter(range(10**6))
    assert {o.path for o in operations} >= set(ENDS_SESSION)
    for operation in operations:
        if operation.path in ENDS_SESSION:  # each case logs in afresh: the homeowner stays
            _fuzz(operation, homeowner["ids"], lambda: mini.login(f"oFuzz{next(logins)}"))
        else:
            _fuzz(operation, homeowner["ids"], lambda: homeowner["headers"])


def _fuzz(operation, ids, headers):
    @given(case=operation.as_strategy(), real=st.booleans())
    @settings(
        max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(case, real):
        if real and case.path_parameters:  # half the time, ids that exist
            case.path_parameters = {k: ids[k] for k in case.path_parameters}
        case.call_and_validate(headers=headers(), checks=CHECKS)

    run()


def test_the_document_lists_every_mini_route(mini):
    spec = mini.get("/mini/v1/openapi.json").json
    routes = {
        (rule.rule.replace("<int:", "{").replace(">", "}"), method.lower())
        for rule in mini.application.url_map.iter_rules()
        if rule.rule.startswith("/mini/v1/")
        and not rule.rule.endswith("openapi.json")
        and not rule.rule.startswith("/mini/v1/docs/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, m) for path, ops in spec["paths"].items() for m in ops}
    assert routes == documented
