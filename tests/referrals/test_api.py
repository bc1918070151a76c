"""口碑银行 through the mini program and the staff API."""

import base64

import pytest
from sqlalchemy import select

from app.core.extensions import db
from app.models import AuditLog, Customer, CustomerIdentity, CustomerValue
from app.services.customers import customers, phones
from tests.fakewechat import FAKE_PNG
from tests.referrals.helpers import contacted, move

MP_APPID = "wx2c2769f8efd9abc2"


@pytest.fixture
def app_mini(mini):
    mini.fake.add_app(MP_APPID, "mp-secret")
    return mini


def customer_of(openid: str) -> Customer:
    identity = db.session.scalars(
        select(CustomerIdentity).filter_by(kind="mini_openid", value=openid)
    ).one()
    return identity.customer


def share(app_mini, headers) -> dict:
    response = app_mini.get("/mini/v1/referral", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_my_code_comes_with_a_mini_program_code_and_an_official_account_qr(app_mini):
    headers = app_mini.login("oReferrer")
    card = share(app_mini, headers)
    assert card["scene"] == "r_" + card["code"] == card["wecom_state"]
    assert card["share_image"] == "data:image/png;base64," + base64.b64encode(FAKE_PNG).decode()
    assert card["mp_qr_url"].startswith("https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQFake")
    (wxa,) = app_mini.fake.requests("/wxa/getwxacodeunlimit")
    assert wxa["json"]["scene"] == card["scene"]
    (qr,) = app_mini.fake.requests("/cgi-bin/qrcode/create")
    assert qr["json"]["action_info"]["scene"]["scene_str"] == card["scene"]
    again = share(app_mini, headers)
    assert again["code"] == card["code"] and again["mp_qr_url"] == card["mp_qr_url"]
    assert app_mini.fake.count("/cgi-bin/qrcode/create") == 1  # the permanent QR is kept


def test_the_code_still_works_when_wechat_does_not(app_mini):
    app_mini.fake.fail_always("/wxa/getwxacodeunlimit", -1)
    app_mini.fake.fail_always("/cgi-bin/qrcode/create", -1)
    card = share(app_mini, app_mini.login("oReferrer"))
    assert card["code"] and card["share_image"] is None and card["mp_qr_url"] is None


def test_a_friend_enters_my_code_and_i_see_them_masked_with_their_step(app_mini, bearer):
    mine = app_mini.login("oReferrer")
    code = share(app_mini, mine)["code"]
    friend = app_mini.login("oFriend")
    claimed = app_mini.post("/mini/v1/referrals", json={"code": code.lower()}, headers=friend)
    assert claimed.status_code == 201, claimed.json
    assert claimed.json["status"] == "attributed"
    referee = customer_of("oFriend")
    referee.name = "张三丰"
    _, referee.phone_enc, referee.phone_hash = phones.seal("13812345678")
    contacted(referee)
    move(referee, "contract")
    db.session.commit()
    listed = app_mini.get("/mini/v1/referrals", headers=mine).json
    (item,) = listed["items"]
    assert (item["name"], item["phone"], item["step_label"]) == ("张**", "138****5678", "已签约")
    assert listed["next_cursor"] is None
    credits = app_mini.get("/mini/v1/credits?limit=1", headers=mine).json
    assert credits["balance"] == 2000
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in credits["items"]] == [
        ("reward", 2000, 2000)
    ]
    worth = db.session.get(CustomerValue, customer_of("oReferrer").id)  # recomputed after commit
    assert {r["input"]: r["text"] for r in worth.reasons}["referrals"] == "推荐签约 1 人"


def test_bad_or_unknown_codes_are_400_with_the_field(app_mini):
    friend = app_mini.login("oFriend")
    for body in ({"code": "??"}, {}, {"code": "ZZZZ9999"}):
        response = app_mini.post("/mini/v1/referrals", json=body, headers=friend)
        assert response.status_code == 400 and "code" in response.json["error"]["fields"]


def test_my_own_code_through_another_wechat_identity_is_refused(app_mini):
    """The referrer known by their official-account openid and unionid opens the mini
    program (same unionid): they are the same customer, and cannot refer themselves."""
    known, _ = customers.find_or_create_by_identity("mp_openid", "oMp1", MP_APPID)
    customers.add_identity(known, "unionid", "uSame")
    db.session.commit()
    code = share(app_mini, app_mini.login("oMiniKnown", unionid="uSame"))["code"]
    assert customer_of("oMiniKnown").id == known.id
    response = app_mini.post(
        "/mini/v1/referrals", json={"code": code}, headers=app_mini.login("oMiniKnown", "uSame")
    )
    assert response.status_code == 201
    assert (response.json["status"], response.json["reason_label"]) == (
        "not_attributed",
        "不能推荐自己",
    )


def _rewarded(app_mini) -> tuple[dict, Customer]:
    mine = app_mini.login("oReferrer")
    code = share(app_mini, mine)["code"]
    friend = app_mini.login("oFriend")
    assert (
        app_mini.post("/mini/v1/referrals", json={"code": code}, headers=friend).status_code == 201
    )
    referee = customer_of("oFriend")
    contacted(referee)
    move(referee, "contract")
    db.session.commit()
    return mine, customer_of("oReferrer")


def test_redemption_requested_then_approved_by_a_manager_only(app_mini, bearer):
    mine, referrer = _rewarded(app_mini)
    too_much = app_mini.post(
        "/mini/v1/redemptions", json={"item": "窗帘", "amount": 2001}, headers=mine
    )
    assert too_much.status_code == 409 and too_much.json["error"]["code"] == "insufficient_credits"
    asked = app_mini.post(
        "/mini/v1/redemptions", json={"item": "窗帘", "amount": 1500}, headers=mine
    )
    assert asked.status_code == 201 and asked.json["status"] == "requested"
    second = app_mini.post(
        "/mini/v1/redemptions", json={"item": "灯具", "amount": 600}, headers=mine
    )
    assert second.status_code == 409  # 1500 already asked for
    _, sales = bearer("李销售", "sales")
    _, admin = bearer("管理员", "admin")
    path = f"/api/v1/redemptions/{asked.json['id']}/decision"
    assert app_mini.post(path, json={"decision": "approve"}, headers=sales).status_code == 403
    approved = app_mini.post(path, json={"decision": "approve"}, headers=admin)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert app_mini.post(path, json={"decision": "approve"}, headers=admin).status_code == 409
    assert app_mini.get("/mini/v1/credits", headers=mine).json["balance"] == 500
    listed = app_mini.get("/api/v1/redemptions?status=approved", headers=admin).json
    assert [r["item"] for r in listed["items"]] == ["窗帘"]


def test_manual_adjustments_need_a_manager_and_a_reason_and_are_audited(app_mini, bearer):
    _, referrer = _rewarded(app_mini)
    _, sales = bearer("李销售", "sales")
    _, admin = bearer("管理员", "admin")
    path = f"/api/v1/customers/{referrer.id}/credits/adjustments"
    body = {"amount": -300, "reason": "重复发放"}
    assert app_mini.post(path, json=body, headers=sales).status_code == 403
    no_reason = app_mini.post(path, json={"amount": -300}, headers=admin)
    assert no_reason.status_code == 400 and "reason" in no_reason.json["error"]["fields"]
    done = app_mini.post(path, json=body, headers=admin)
    assert done.status_code == 201 and done.json["balance_after"] == 1700
    too_far = app_mini.post(path, json={"amount": -5000, "reason": "x"}, headers=admin)
    assert too_far.status_code == 409
    (audit,) = db.session.scalars(select(AuditLog).filter_by(action="credits.adjust")).all()
    assert audit.after["reason"] == "重复发放" and audit.after["balance"] == 1700
    credits = app_mini.get(f"/api/v1/customers/{referrer.id}/credits", headers=admin).json
    assert credits["balance"] == 1700 and [e["amount"] for e in credits["items"]] == [-300, 2000]


def test_staff_list_review_and_leaderboard(app_mini, bearer):
    mine = app_mini.login("oReferrer")
    code = share(app_mini, mine)["code"]
    friend = app_mini.login("oFriend")
    app_mini.post("/mini/v1/referrals", json={"code": code}, headers=friend)
    referee = customer_of("oFriend")
    move(referee, "contract")  # never contacted by staff: held
    db.session.commit()
    _, manager = bearer("店长", "manager")
    _, admin = bearer("管理员", "admin")
    held = app_mini.get("/api/v1/referrals?status=held", headers=admin).json["items"]
    assert [(r["referee_id"], r["reason_label"]) for r in held] == [
        (referee.id, "签约时员工从未联系过被推荐人")
    ]
    path = f"/api/v1/referrals/{held[0]['id']}/review"
    assert app_mini.post(path, json={"decision": "release"}, headers=manager).status_code == 404
    released = app_mini.post(
        path, json={"decision": "release", "note": "已电话核实"}, headers=admin
    )
    assert released.status_code == 200 and released.json["status"] == "attributed"
    assert app_mini.post(path, json={"decision": "reject"}, headers=admin).status_code == 409
    board = app_mini.get("/api/v1/referrals/leaderboard", headers=admin).json["items"]
    assert [(x["customer_id"], x["signed"], x["balance"]) for x in board] == [
        (customer_of("oReferrer").id, 1, 2000)
    ]


def test_the_routes_are_in_the_openapi_documents(app_mini):
    mini_paths = app_mini.get("/mini/v1/openapi.json").json["paths"]
    for path in (
        "/mini/v1/referral",
        "/mini/v1/referrals",
        "/mini/v1/credits",
        "/mini/v1/redemptions",
    ):
        assert path in mini_paths
    api_paths = app_mini.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/referrals/leaderboard" in api_paths
    assert "/api/v1/redemptions/{redemption_id}/decision" in api_paths
