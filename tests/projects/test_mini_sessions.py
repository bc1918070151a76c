"""Mini-program session tokens: opaque, revocable by logout, unbind and staff, and the
homeowner's hot pages still read in one statement (issue 12, item 12)."""

from __future__ import annotations

import base64
import binascii
import contextlib
from datetime import timedelta

import time_machine
from sqlalchemy import event, select

from app.core.extensions import db
from app.models import AuditLog, CustomerIdentity, MiniSession, TimelineEvent
from app.models.types import utcnow
from tests.projects.helpers import invite, owner_headers


def _token(headers: dict) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _decodings(token: str) -> list[bytes]:
    out = []
    for part in token.split("."):
        with contextlib.suppress(binascii.Error, ValueError):
            out.append(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return out


def test_the_token_says_nothing_and_only_its_hash_is_kept(mini):
    headers = mini.login("oOpaque01")
    token = _token(headers)
    assert "oOpaque01" not in token and len(token) == 43
    assert not any(b"oOpaque01" in raw or b'"o"' in raw for raw in _decodings(token))
    stored = db.session.scalars(select(MiniSession)).one()
    assert stored.token_hash != token and len(stored.token_hash) == 64
    identity = db.session.get(CustomerIdentity, stored.identity_id)
    assert identity.value == "oOpaque01"
    assert stored.expires_at - stored.created_at == timedelta(days=7)


def test_logout_ends_this_session_at_once_and_no_other(mini):
    phone, tablet = mini.login("oTwoDevices"), mini.login("oTwoDevices")
    assert mini.post("/mini/v1/logout", headers=phone).status_code == 204
    refused = mini.get("/mini/v1/me", headers=phone)
    assert (
        refused.status_code == 401 and refused.json["error"]["message"] == "登录已过期，请重新登录"
    )
    assert mini.get("/mini/v1/me", headers=tablet).status_code == 200
    assert mini.post("/mini/v1/logout", headers=phone).status_code == 401


def test_staff_end_every_session_of_their_customer(site, mini, bearer):
    phone = owner_headers(site, mini)
    tablet = mini.login("oOwner0001")
    project = site.project["id"]
    assert mini.get(f"/mini/v1/projects/{project}", headers=tablet).status_code == 200
    _, other_store = bearer("外店销售", "sales", "城西店")
    url = f"/api/v1/customers/{site.customer.id}/mini-sessions/revoke"
    assert site.client.post(url, headers=other_store).status_code == 404
    assert mini.get("/mini/v1/me", headers=phone).status_code == 200  # a refusal ends nothing
    revoked = site.client.post(url, headers=site.sales_h)
    assert revoked.status_code == 200 and revoked.json == {"ended": 2}
    for headers in (phone, tablet):
        assert mini.get("/mini/v1/me", headers=headers).status_code == 401
        assert mini.get(f"/mini/v1/projects/{project}", headers=headers).status_code == 401
        assert mini.get(f"/mini/v1/projects/{project}/feed", headers=headers).status_code == 401
    audit = db.session.scalars(select(AuditLog).filter_by(action="mini_session.revoke")).one()
    assert audit.actor_staff_id == site.sales.id and audit.after == {"ended": 2}
    assert mini.get("/mini/v1/me", headers=mini.login("oOwner0001")).json["bound"] is True


def test_unbind_leaves_the_record_and_ends_every_session_of_this_wechat(site, mini):
    headers = owner_headers(site, mini)
    other_device = mini.login("oOwner0001")
    project = site.project["id"]
    assert mini.post("/mini/v1/unbind", headers=headers).status_code == 204
    for dead in (headers, other_device):
        assert mini.get("/mini/v1/me", headers=dead).status_code == 401
    again = mini.login("oOwner0001")
    me = mini.get("/mini/v1/me", headers=again).json
    assert me["bound"] is False and me["customer_id"] != site.customer.id
    assert mini.get(f"/mini/v1/projects/{project}", headers=again).status_code == 404
    kinds = db.session.scalars(
        select(TimelineEvent.kind).filter_by(customer_id=site.customer.id)
    ).all()
    assert "mini_unbound" in kinds


def test_a_family_member_who_unbinds_no_longer_sees_the_project(site, mini):
    owner_headers(site, mini)
    family = mini.login("oFamilyLeaves")
    code = invite(site, kind="family", project_id=site.project["id"])
    assert mini.post("/mini/v1/bind", json={"invite_code": code}, headers=family).status_code == 200
    assert mini.post("/mini/v1/unbind", headers=family).status_code == 204
    again = mini.login("oFamilyLeaves")
    assert mini.get("/mini/v1/projects", headers=again).json["items"] == []


def test_sessions_expire_after_their_time(mini):
    headers = mini.login("oExpires")
    with time_machine.travel(utcnow() + timedelta(days=7, seconds=1), tick=False):
        assert mini.get("/mini/v1/me", headers=headers).status_code == 401
        fresh = mini.login("oExpires")  # the expired row is cleared on the way
        assert mini.get("/mini/v1/me", headers=fresh).status_code == 200
        assert len(db.session.scalars(select(MiniSession)).all()) == 1


def test_the_hot_pages_authenticate_inside_their_own_query(site, mini):
    """The project page and the feed fold the session lookup into the statements they run
    anyway: no statement of their own for the token (and none at all outside the prebuilt
    reads on PostgreSQL, where those run on the driver)."""
    headers = owner_headers(site, mini)
    project = site.project["id"]
    log = {"text": "今天完成水电开槽"}
    posted = site.client.post(f"/api/v1/projects/{project}/logs", data=log, headers=site.pm_h)
    assert posted.status_code == 201
    with mini.application.app_context():  # the mini program's app has its own engine
        engine = db.engine
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        page = mini.get(f"/mini/v1/projects/{project}", headers=headers)
        page_statements, seen[:] = list(seen), []
        feed = mini.get(f"/mini/v1/projects/{project}/feed", headers=headers)
        feed_statements = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert page.status_code == 200 and len(feed.json["items"]) == 1
    expected = (4, 1) if engine.dialect.name == "sqlite" else (0, 0)  # page: +materials
    assert (len(page_statements), len(feed_statements)) == expected
    assert all("mini_sessions" in s for s in page_statements[:1] + feed_statements)
