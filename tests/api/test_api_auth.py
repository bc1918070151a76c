from app.core.extensions import db
from app.services.customers import customers
from app.services.customers import staff as staff_service


def test_me_answers_who_the_token_belongs_to(client, bearer):
    member, headers = bearer("李销售", "sales", store="城东旗舰店")
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    assert response.json["name"] == "李销售"
    assert response.json["roles"] == ["sales"] and response.json["store"] == "城东旗舰店"


def test_missing_wrong_or_revoked_token_gets_401_envelope(client, bearer):
    member, headers = bearer()
    for bad in ({}, {"Authorization": "Bearer zx_nope"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/me", headers=bad)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"
        assert response.json["error"]["message"]
        assert response.json["request_id"] == response.headers["X-Request-ID"]
    staff_service.revoke_tokens(member)
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_inactive_staff_token_stops_working(client, bearer):
    member, headers = bearer()
    member.active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_sales_rep_sees_only_own_customers_manager_sees_store(client, bearer):
    rep, rep_headers = bearer("李销售", "sales", store="城东")
    other, other_headers = bearer("赵销售", "sales", store="城东")
    manager, manager_headers = bearer("王店长", "manager", store="城东")
    mine, _ = customers.find_or_create_by_identity(
        "mp_openid",
        "o1",
        "wx",
        name="张女士",
        owner_id=rep.id,
        store_id=rep.store_id,
        phone="13812345678",
    )
    theirs, _ = customers.find_or_create_by_identity(
        "mp_openid", "o2", "wx", owner_id=other.id, store_id=other.store_id
    )
    db.session.commit()

    listed = client.get("/api/v1/customers", headers=rep_headers).json["items"]
    assert [c["id"] for c in listed] == [mine.id]
    assert listed[0]["phone"] == "13812345678"
    assert client.get(f"/api/v1/customers/{theirs.id}", headers=rep_headers).status_code == 404
    assert (
        client.get(f"/api/v1/customers/{theirs.id}/timeline", headers=rep_headers).status_code
        == 404
    )
    by_manager = client.get("/api/v1/customers", headers=manager_headers).json["items"]
    assert {c["id"] for c in by_manager} == {mine.id, theirs.id}
    # The other rep's view of the list does not include my customer, and the phone is not leaked.
    assert [
        c["id"] for c in client.get("/api/v1/customers", headers=other_headers).json["items"]
    ] == [theirs.id]


def test_customer_search_by_identity_and_phone(client, bearer):
    admin, headers = bearer("管理员", "admin")
    c, _ = customers.find_or_create_by_identity(
        "mp_openid", "oFIND", "wx", name="刘先生", phone="13700001234"
    )
    customers.find_or_create_by_identity("mp_openid", "oOTHER", "wx", name="陈女士")
    db.session.commit()
    assert [
        x["id"]
        for x in client.get("/api/v1/customers?identity=mp_openid:oFIND", headers=headers).json[
            "items"
        ]
    ] == [c.id]
    assert [
        x["id"]
        for x in client.get("/api/v1/customers?q=13700001234", headers=headers).json["items"]
    ] == [c.id]
    assert [
        x["id"] for x in client.get("/api/v1/customers?q=刘", headers=headers).json["items"]
    ] == [c.id]
    bad = client.get("/api/v1/customers?identity=nonsense", headers=headers)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "bad_query"
    assert client.get("/api/v1/customers?limit=0", headers=headers).status_code == 400


def test_ids_beyond_any_row_are_404_not_a_database_error(client, bearer):
    _, headers = bearer("管理员", "admin")
    huge = 10**20
    for path in (
        f"/api/v1/customers/{huge}",
        f"/api/v1/customers/{huge}/timeline",
        f"/api/v1/projects/{huge}",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert (
        client.patch(
            f"/api/v1/auto-replies/{huge}", json={"active": True}, headers=headers
        ).status_code
        == 404
    )
    assert client.post(f"/api/v1/tasks/{huge}/done", headers=headers).status_code == 404
