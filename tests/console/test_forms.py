"""The console's shared form layer (app/console/forms.py ConsoleForm, and the query-string
check of app/console/__init__.py): text a database cannot store (a NUL character) is a 400
with a message, on every form and page, and nothing is stored. PostgreSQL refuses such text
with an error (it was a 500); SQLite would keep it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.models.types import utcnow
from tests.console.helpers import (
    PASSWORD,
    csrf_of,
    customer_of,
    nonce_of,
    post,
    project_for,
    sign_in,
    text,
)

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


# ---- numbers: ASCII digits only


@pytest.mark.parametrize(
    "amount", ["１２３", "١٢٣", "۱۲۳", "१२३", "12３", "１２.５", "1e3", "Infinity", "½", "²"]
)
def test_a_change_order_amount_is_ascii_digits_only(client, people, site, amount):
    _, project = site
    sign_in(client, people["pm"].name)
    before = _rows()
    url = f"/console/projects/{project.id}/change-orders"
    response = post(client, url, {"item": "加装地暖", "amount": amount})
    assert response.status_code == 400 and "半角数字" in text(response)
    assert _rows() == before


@pytest.mark.parametrize(("amount", "fen"), [("6800", 680_000), ("-1,200.5", -120_050)])
def test_a_change_order_amount_in_yuan_is_stored_in_fen(client, people, site, amount, fen):
    from app.models import ChangeOrder

    _, project = site
    sign_in(client, people["pm"].name)
    url = f"/console/projects/{project.id}/change-orders"
    assert post(client, url, {"item": "加装地暖", "amount": amount}).status_code == 302
    assert db.session.scalars(select(ChangeOrder.amount_fen)).all() == [fen]


def test_other_console_numbers_are_ascii_digits_only(client, people, site):
    customer, project = site
    sign_in(client, people["admin"].name)
    cases = [
        (f"/console/customers/{customer.id}/merge", {"other_id": "１２", "reason": "重复"}),
        ("/console/admin/auto-replies", {"keyword": "k", "reply": "r", "priority": "١٠"}),
        ("/console/admin/node-templates", {"name": "收口", "position": "３"}),
        (f"/console/projects/{project.id}/logs", {"text": "今日施工", "node_id": "１"}),
    ]
    before = _rows()
    for url, data in cases:
        response = post(client, url, data)
        assert response.status_code == 400, url
        assert "半角数字" in text(response) or "选项无效" in text(response), url
    assert _rows() == before
    # A filter of the list given in other digits is no filter, not an error.
    assert client.get("/console/customers?owner_id=²&idle_days=３").status_code == 200


# ---- create forms: posted twice, created once


def _replay(client, page: str, action: str, data: dict, **kwargs):
    """The same form (one nonce) posted twice, as a double click or back+resubmit would."""
    data = {**data, "nonce": nonce_of(client, page, action)}
    first = post(client, action, dict(data), **kwargs)
    second = post(client, action, dict(data), **kwargs)
    return first, second


def test_a_create_form_posted_twice_creates_once(client, people, site):
    from app.models import ChangeOrder, ProgressEntry, TimelineEvent

    customer, project = site
    sign_in(client, people["admin"].name)
    c, p = f"/console/customers/{customer.id}", f"/console/projects/{project.id}"
    cases = [
        (c, f"{c}/notes", {"text": "客户想要环保材料"}, TimelineEvent, "note"),
        (p, f"{p}/logs", {"text": "今日施工", "node_id": "0"}, ProgressEntry, "log"),
        (p, f"{p}/reports", {"finding": "防水不足", "hazard": "low", "node_id": "0"}, None, "qc"),
        (p, f"{p}/change-orders", {"item": "加装地暖", "amount": "6800"}, ChangeOrder, None),
    ]
    for page, action, data, _, _ in cases:
        before = _rows()
        first, second = _replay(client, page, action, data)
        assert first.status_code == second.status_code == 302, action
        assert second.headers["Location"] == first.headers["Location"]
        after = _rows()
        assert after != before, action  # the first created something
        assert "没有重复创建" in text(client.get(second.headers["Location"])), action
    notes = db.session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "note")).all()
    assert len(notes) == 1
    kinds = sorted(db.session.scalars(select(ProgressEntry.kind)).all())
    assert kinds == ["log", "qc"]
    assert db.session.scalar(select(func.count()).select_from(ChangeOrder)) == 1


def test_a_refused_create_form_can_be_corrected_and_sent_with_its_nonce(client, people, site):
    from app.models import ChangeOrder

    _, project = site
    sign_in(client, people["pm"].name)
    p = f"/console/projects/{project.id}"
    nonce = nonce_of(client, p, f"{p}/change-orders")
    refused = post(client, f"{p}/change-orders", {"item": "地暖", "amount": "１", "nonce": nonce})
    assert refused.status_code == 400
    sent = post(client, f"{p}/change-orders", {"item": "地暖", "amount": "1", "nonce": nonce})
    assert sent.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ChangeOrder)) == 1


def test_a_create_form_without_its_nonce_is_refused(client, people, site):
    customer, _ = site
    sign_in(client, people["sales"].name)
    response = post(client, f"/console/customers/{customer.id}/notes", {"text": "x", "nonce": ""})
    assert response.status_code == 400 and "页面已过期" in text(response)


def test_a_create_form_open_past_the_retention_is_refused_as_stale(client, people, site):
    from app.services.desk import submissions

    customer, _ = site
    sign_in(client, people["admin"].name)
    before = _rows()
    issued = utcnow() - submissions.RETENTION - timedelta(minutes=1)
    for nonce in (submissions.new_nonce(issued), "no-time-in-it", "zz.abc"):
        response = post(
            client, f"/console/customers/{customer.id}/notes", {"text": "旧页面", "nonce": nonce}
        )
        assert response.status_code == 400, nonce
        assert "页面已过期，请刷新页面后重试" in text(response)
    assert _rows() == before


def test_the_nightly_prune_forgets_only_nonces_past_the_retention(people):
    from app.models import FormSubmission
    from app.services.desk import submissions
    from jobs.desk import prune_form_nonces

    now, staff = utcnow(), people["sales"]
    for n, age in enumerate([timedelta(days=31), timedelta(days=40), timedelta(days=29)]):
        db.session.add(FormSubmission(nonce=f"n{n}", staff_id=staff.id, form="note"))
        db.session.flush()
        db.session.get(FormSubmission, f"n{n}").created_at = now - age
    db.session.commit()
    assert prune_form_nonces() == 2
    assert db.session.scalars(select(FormSubmission.nonce)).all() == ["n2"]
    assert submissions.is_fresh(submissions.new_nonce(now - timedelta(days=29)), now)
