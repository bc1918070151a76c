"""Mini-program login (code2Session), session tokens, binding by invite code and by phone."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from app import create_app
from app.core.extensions import db
from app.models import Customer, CustomerIdentity, ProjectMember
from app.models.types import utcnow
from app.services.customers import customers
from tests.conftest import env_for_tests
from tests.fakewechat import add_phone_code
from tests.projects.helpers import MINI_APPID, invite, owner_headers


def test_login_gives_our_own_token_and_never_the_session_key(mini):
    mini.fake.add_js_code("c1", openid="oMini1", session_key="SECRET-SESSION-KEY")
    response = mini.post("/mini/v1/login", json={"code": "c1"})
    assert response.status_code == 200
    assert "SECRET-SESSION-KEY" not in response.get_data(as_text=True)
    assert response.json["first_login"] is True and response.json["expires_in"] == 7 * 86400
    me = mini.get("/mini/v1/me", headers={"Authorization": f"Bearer {response.json['token']}"})
    assert me.status_code == 200 and me.json["bound"] is False
    identity = db.session.scalars(select(CustomerIdentity).filter_by(kind="mini_openid")).one()
    assert (identity.value, identity.app_id) == ("oMini1", MINI_APPID)


def test_login_errors_are_clear(mini):
    fake = mini.fake
    unknown = mini.post("/mini/v1/login", json={"code": "never-issued"})
    assert unknown.status_code == 400 and "重新进入" in unknown.json["error"]["message"]
    fake.add_js_code("once", openid="oOnce")
    assert mini.post("/mini/v1/login", json={"code": "once"}).status_code == 200
    reused = mini.post("/mini/v1/login", json={"code": "once"})
    assert reused.status_code == 400 and reused.json["error"]["code"] == "invalid_code"
    fake.fail_next("/sns/jscode2session", 45011)
    assert mini.post("/mini/v1/login", json={"code": "x"}).status_code == 429
    fake.busy("/sns/jscode2session")
    assert mini.post("/mini/v1/login", json={"code": "x"}).status_code == 502
    fake.http_error("/sns/jscode2session", 500)
    assert mini.post("/mini/v1/login", json={"code": "x"}).status_code == 502
    empty = mini.post("/mini/v1/login", json={})
    assert (
        empty.status_code == 400
        and empty.json["error"]["fields"]["code"] == "登录凭证 code不能为空"
    )


def test_expired_or_forged_tokens_are_401(mini):
    headers = mini.login("oExpire")
    assert mini.get("/mini/v1/me", headers=headers).status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=8), tick=False):
        assert mini.get("/mini/v1/me", headers=headers).status_code == 401
    forged = {"Authorization": headers["Authorization"][:-4] + "AAAA"}
    assert mini.get("/mini/v1/me", headers=forged).status_code == 401
    assert mini.get("/mini/v1/projects").status_code == 401


def test_unionid_links_the_mini_user_to_the_known_customer(mini):
    known, _ = customers.find_or_create_by_identity(
        "mp_openid", "oMP1", "wxmp", name="公众号老客户"
    )
    customers.add_identity(known, "unionid", "uSHARED")
    db.session.commit()
    headers = mini.login("oMiniU", unionid="uSHARED")
    assert mini.get("/mini/v1/me", headers=headers).json["customer_id"] == known.id


def test_bind_by_owner_invite_merges_into_the_reps_customer(site, mini):
    headers = owner_headers(site, mini)
    me = mini.get("/mini/v1/me", headers=headers).json
    assert me["customer_id"] == site.customer.id and me["bound"] is True
    assert me["project_ids"] == [site.project["id"]]
    code = invite(site)
    again = mini.login("oSomeoneElse")
    assert mini.post("/mini/v1/bind", json={"invite_code": code}, headers=again).status_code == 200
    reuse = mini.post("/mini/v1/bind", json={"invite_code": code}, headers=mini.login("oThird"))
    assert reuse.status_code == 400 and "邀请码" in reuse.json["error"]["fields"]["invite_code"]


def test_family_invite_adds_a_second_user_to_the_project(site, mini):
    owner = owner_headers(site, mini)
    code = invite(site, kind="family", project_id=site.project["id"])
    family = mini.login("oFamily")
    response = mini.post("/mini/v1/bind", json={"invite_code": code.lower()}, headers=family)
    assert response.status_code == 200 and response.json["customer_id"] != site.customer.id
    projects = mini.get("/mini/v1/projects", headers=family).json["items"]
    assert [p["id"] for p in projects] == [site.project["id"]]
    assert db.session.scalars(select(ProjectMember)).one().role == "family"
    assert mini.get("/mini/v1/projects", headers=owner).json["items"][0]["id"] == site.project["id"]
    bad = site.client.post(
        f"/api/v1/customers/{site.customer.id}/invites",
        json={"kind": "family"},
        headers=site.sales_h,
    )
    assert bad.status_code == 400 and "project_id" in bad.json["error"]["fields"]


def test_bind_by_phone_matches_the_customer_by_phone_hash(site, mini):
    customer = db.session.get(Customer, site.customer.id)
    customers.apply_profile(customer, {"phone": "13812345678"})
    db.session.commit()
    headers = mini.login("oPhone")
    add_phone_code(mini.fake, "pc1", "13812345678")
    response = mini.post("/mini/v1/bind", json={"phone_code": "pc1"}, headers=headers)
    assert response.status_code == 200 and response.json["customer_id"] == site.customer.id
    add_phone_code(mini.fake, "pc2", "13900000000")
    unknown = mini.post("/mini/v1/bind", json={"phone_code": "pc2"}, headers=mini.login("oP2"))
    assert unknown.status_code == 404 and "邀请码" in unknown.json["error"]["message"]
    bad = mini.post("/mini/v1/bind", json={"phone_code": "never"}, headers=mini.login("oP3"))
    assert bad.status_code == 400
    assert mini.post("/mini/v1/bind", json={}, headers=headers).status_code == 400


def test_login_without_the_mini_program_configured_is_a_clear_502(ctx, fake_wechat, caplog):
    """`make run` has no WECHAT_MINI_APPID: the mini program says WeChat is unavailable
    (it was a 500 with a traceback, the client being built outside the error mapping)."""
    app = create_app(env_for_tests(WECHAT_API_BASE=fake_wechat.url, WECHAT_MINI_APPID=""))
    response = app.test_client().post("/mini/v1/login", json={"code": "c1"})
    assert response.status_code == 502
    assert response.json["error"]["message"] == "微信服务暂时不可用，请稍后再试"
    assert not [r for r in caplog.records if r.exc_info]
