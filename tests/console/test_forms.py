"""The console's shared form layer (app/console/forms.py ConsoleForm, and the query-string
check of app/console/__init__.py): text a database cannot store (a NUL character) is a 400
with a message, on every form and page, and nothing is stored. PostgreSQL refuses such text
with an error (it was a 500); SQLite would keep it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from tests.console.helpers import PASSWORD, csrf_of, customer_of, post, project_for, sign_in, text

NUL = "a\x00b"


@pytest.fixture
def site(people):
    customer = customer_of(people["sales"], "张业主")
    project = project_for(customer, actor=people["manager"], pm=people["pm"])
    return customer, project


def _rows() -> dict[str, int]:
    """Row counts of every table but the audit log."""
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t))
        for t in db.metadata.sorted_tables
        if t.name != "audit_log"
    }


def _cases(customer, project):
    c, p, n = f"/console/customers/{customer.id}", f"/console/projects/{project.id}", None
    n = project.nodes[0].id
    return [
        (f"{c}/notes", {"text": NUL}),
        (f"{c}/tags", {"tag": "风格:" + NUL}),
        (f"{c}/tags/remove", {"tag": NUL}),
        (f"{c}/stage", {"stage": "measured", "reason": NUL}),
        (f"{c}/profile", {"city": NUL, "gender": "unknown", "owner_id": "0"}),
        (f"{c}/merge", {"other_id": "999", "reason": NUL}),
        (f"{c}/reply", {"text": "你好", "nonce": NUL}),
        (f"{c}/notice", {"kind": "rep-followup", "topic": NUL, "nonce": "n1"}),
        (f"{p}/logs", {"text": NUL, "node_id": "0"}),
        (f"{p}/reports", {"finding": NUL, "hazard": "low", "node_id": "0"}),
        (f"{p}/nodes/{n}", {"status": NUL}),
        (f"{p}/nodes/{n}/rectified", {"note": NUL}),
        (f"{p}/change-orders", {"item": NUL, "amount": "100"}),
        ("/console/password", {"current": NUL, "new": "x" * 10, "confirm": "x" * 10}),
        ("/console/admin/staff", {"name": NUL, "roles": "sales", "password": "p" * 10}),
        ("/console/admin/tag-rules", {"dimension": "风格", "value": NUL, "words": "a"}),
        ("/console/admin/auto-replies", {"keyword": NUL, "match": "contains", "reply": "r"}),
        ("/console/admin/node-templates", {"name": NUL}),
    ]


def test_a_nul_in_any_form_field_is_a_400_and_stores_nothing(client, people, site):
    sign_in(client, people["admin"].name)
    before = _rows()
    for url, data in _cases(*site):
        response = post(client, url, data)
        assert response.status_code == 400, (url, response.status_code)
        assert "不能包含空字符" in text(response), url
        assert _rows() == before, url


def test_a_nul_in_the_sign_in_form_is_a_400(client, people):
    token = csrf_of(client)
    for login, password in ((NUL, PASSWORD), ("李销售", NUL)):
        data = {"csrf_token": token, "login": login, "password": password}
        response = client.post("/console/login", data=data)
        assert response.status_code == 400 and "不能包含空字符" in text(response)


def test_a_nul_in_a_query_string_is_a_400(client, people, site):
    customer, project = site
    sign_in(client, people["admin"].name)
    for url in (
        "/console/customers?q=a%00b",
        "/console/customers?tag=%00",
        "/console/customers?source=x%00",
        f"/console/customers/{customer.id}?before=%00",
        f"/console/projects/{project.id}?before=%00",
        "/console/tasks?status=%00",
        "/console/admin/tag-rules?dimension=%00",
    ):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "不能包含空字符" in text(response), url
