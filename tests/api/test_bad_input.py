"""Bad input is a 400 (or 404) with a field message and changes nothing, on SQLite and
PostgreSQL alike: each input issue #12 found, and others of its kind."""

import json

import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import ChangeOrder, Project, TimelineEvent
from tests.projects.helpers import node_ids, owner_headers, set_status, sign

NON_OBJECTS = ["586915", '"x"', "[1, 2]", "true", "null", "1.5"]
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.fixture
def site(site):
    """The site, with the smallest body that signs a contract for its customer."""
    site.customer_id_body = {
        "customer_id": site.customer.id,
        "address": "浦东新区锦绣路 1 号",
        "contract_amount_fen": 100,
    }
    return site


def _post_raw(client, url: str, raw: str, headers: dict, method: str = "POST"):
    return client.open(
        url, method=method, data=raw.encode(), content_type="application/json", headers=headers
    )


def _refused(response, field: str, status: int = 400) -> dict:
    assert response.status_code == status, (response.status_code, response.json)
    error = response.json["error"]
    assert error["message"] and field in (error.get("fields") or {}), error
    return error


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_bodies_that_are_not_objects_change_nothing(site, mini):
    headers = owner_headers(site, mini)
    pid, node = site.project["id"], node_ids(site)[0]
    order = site.client.post(
        f"/api/v1/projects/{pid}/change-orders",
        json={"item": "加装插座", "amount_fen": 20000},
        headers=site.pm_h,
    ).json["id"]
    set_status(site, node, "in_progress")
    set_status(site, node, "pending_acceptance")
    rejected = mini.post(
        f"/mini/v1/projects/{pid}/nodes/{node}/reject", json={"reason": "墙裂"}, headers=headers
    )
    assert rejected.status_code == 200
    close = f"/api/v1/projects/{pid}/nodes/{node}/rectification/close"
    for raw in NON_OBJECTS:
        for decision in ("approve", "reject"):
            url = f"/mini/v1/change-orders/{order}/{decision}"
            _refused(_post_raw(mini, url, raw, headers), "body")
        _refused(_post_raw(site.client, close, raw, site.pm_h), "body")
        _refused(_post_raw(site.client, "/api/v1/projects", raw, site.sales_h), "body")
    db.session.expire_all()
    assert db.session.get(ChangeOrder, order).status == "proposed"
    detail = site.client.get(f"/api/v1/projects/{pid}", headers=site.pm_h).json
    assert detail["nodes"][0]["status"] == "rectifying"


def test_a_json_route_refuses_a_form_and_a_form_route_refuses_json(site):
    pid = site.project["id"]
    form = site.client.post(
        f"/api/v1/projects/{pid}/change-orders", data={"item": "x"}, headers=site.pm_h
    )
    _refused(form, "body")
    posted = site.client.post(
        f"/api/v1/projects/{pid}/logs", json={"text": "日志"}, headers=site.pm_h
    )
    _refused(posted, "body")
    empty = site.client.post(f"/api/v1/projects/{pid}/logs", headers=site.pm_h)
    assert _refused(empty, "text")["fields"]["text"] == "日志内容不能为空"
    assert (
        _count(TimelineEvent, TimelineEvent.kind.in_(("progress_log", "change_order_proposed")))
        == 0
    )


def test_nul_and_lone_surrogates_in_a_note_are_refused(site):
    url = f"/api/v1/customers/{site.customer.id}/notes"
    for raw in ('{"text": "a\\u0000b"}', '{"text": "\\ud800"}', '{"text": "x\\udfffy"}'):
        response = _post_raw(site.client, url, raw, site.sales_h)
        assert response.status_code == 400
        assert set(response.json["error"]["fields"]) <= {"text", "body"}
    assert _count(TimelineEvent, TimelineEvent.kind == "note") == 0


def test_nul_in_any_text_field_is_refused_by_name(site):
    pid = site.project["id"]
    cases = [
        (
            "/api/v1/projects",
            {"customer_id": site.customer.id, "address": "浦东\x00", "contract_amount_fen": 1},
            "address",
        ),
        (f"/api/v1/projects/{pid}/change-orders", {"item": "a\x00", "amount_fen": 1}, "item"),
        (f"/api/v1/customers/{site.customer.id}/tags", {"tag": "风格:北欧\x00"}, "tag"),
    ]
    for url, body, field in cases:
        _refused(site.client.post(url, json=body, headers=site.sales_h), field)
    log = site.client.post(
        f"/api/v1/projects/{pid}/logs", data={"text": "a\x00b"}, headers=site.pm_h
    )
    _refused(log, "text")
    assert _count(Project) == 1 and _count(ChangeOrder) == 0


def test_nul_in_a_query_parameter_is_refused(site):
    for query in ("q=%00", "q=a%00b", "identity=mp_openid:%00", "q=%F0%9F%00"):
        response = site.client.get(f"/api/v1/customers?{query}", headers=site.sales_h)
        _refused(response, query.split("=")[0])


def test_unicode_digits_are_never_read_as_numbers(site, mini):
    headers = owner_headers(site, mini)
    for digits in ("²", "١٢", "１２", "𝟙"):
        _refuse_digits(site, mini, headers, digits)


def _refuse_digits(site, mini, headers: dict, digits: str) -> None:
    pid = site.project["id"]
    response = site.client.post(
        f"/api/v1/projects/{pid}/change-orders",
        json={"item": "加装插座", "amount_fen": digits},
        headers=site.pm_h,
    )
    _refused(response, "amount_fen")
    assert _count(ChangeOrder) == 0
    for path in ("/api/v1/customers", "/api/v1/projects", f"/api/v1/projects/{pid}/feed"):
        _refused(site.client.get(f"{path}?limit={digits}", headers=site.sales_h), "limit")
        _refused(site.client.get(f"{path}?before={digits}", headers=site.sales_h), "before")
    _refused(mini.get(f"/mini/v1/projects/{pid}/feed?limit={digits}", headers=headers), "limit")
    signed = dict(site.customer_id_body, area_m2=digits, planned_start="2026-03-1" + digits)
    error = _refused(
        site.client.post("/api/v1/projects", json=signed, headers=site.sales_h), "area_m2"
    )
    assert "planned_start" in error["fields"]


def test_ids_in_paths_are_ascii_digits(site, mini):
    cid, pid = site.customer.id, site.project["id"]
    assert site.client.get(f"/api/v1/customers/{cid}", headers=site.sales_h).status_code == 200
    for other in (str(cid).translate(ARABIC), str(cid).translate(FULL_WIDTH), "²"):
        response = site.client.get(f"/api/v1/customers/{other}", headers=site.sales_h)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    headers = owner_headers(site, mini)
    feed = f"/mini/v1/projects/{str(pid).translate(ARABIC)}/feed"
    assert mini.get(feed, headers=headers).status_code == 404


def test_integers_beyond_the_column_are_400(site, bearer):
    _, admin = bearer("管理员", "admin")
    client = site.client
    for priority in (2**31, -(2**31) - 1, 10**30):
        raw = json.dumps({"keyword": "报价", "reply": "稍等", "priority": priority})
        _refused(_post_raw(client, "/api/v1/auto-replies", raw, admin), "priority")
    for path, name in (("customers", "before"), ("projects", "before"), ("tag-rules", "after")):
        _refused(client.get(f"/api/v1/{path}?{name}={'9' * 30}", headers=admin), name)
    for field, value in (("position", 2**31), ("duration_days", 10**30), ("duration_days", -1)):
        raw = json.dumps({"name": "软装", field: value})
        _refused(_post_raw(client, "/api/v1/node-templates", raw, admin), field)
    big = dict(site.customer_id_body, contract_amount_fen=10**13)
    _refused(client.post("/api/v1/projects", json=big, headers=admin), "contract_amount_fen")
    assert client.get("/api/v1/auto-replies", headers=admin).json["items"] == []
    assert _count(Project) == 1


def test_a_bad_identity_search_is_400_with_a_message(site):
    cases = (
        ("phone:abc", "手机号"),
        ("phone:", "手机号"),
        ("wechat:o1", "KIND"),
        ("mp_openid:", "VALUE"),
    )
    for identity, words in cases:
        response = site.client.get(f"/api/v1/customers?identity={identity}", headers=site.sales_h)
        error = _refused(response, "identity")
        assert error["code"] == "bad_query" and words in error["message"]


def test_planned_end_before_planned_start_is_refused_when_signing(site):
    body = dict(site.customer_id_body, planned_start="2026-05-10", planned_end="2026-05-01")
    response = site.client.post("/api/v1/projects", json=body, headers=site.sales_h)
    assert "不能早于" in _refused(response, "planned_end")["fields"]["planned_end"]
    assert _count(Project) == 1
    body["planned_end"] = "2026-05-10"  # the same day is a one-day project
    assert site.client.post("/api/v1/projects", json=body, headers=site.sales_h).status_code == 201


def test_an_area_the_column_cannot_hold_is_refused_not_rounded(site):
    for area in ("0.000000001", "98.555", "0", "-1", 0, 1e-9, "1e400", "NaN", "1000000"):
        body = dict(site.customer_id_body, area_m2=area)
        _refused(site.client.post("/api/v1/projects", json=body, headers=site.sales_h), "area_m2")
    assert _count(Project) == 1
    assert sign(site, area_m2="0.01")["area_m2"] == "0.01"  # two places are kept exactly


def test_non_object_json_is_refused_on_every_mini_write(site, mini):
    headers = owner_headers(site, mini)
    for path in ("/mini/v1/bind", "/mini/v1/subscriptions", "/mini/v1/login"):
        for raw in NON_OBJECTS:
            response = _post_raw(mini, path, raw, headers)
            assert response.status_code == 400, (path, raw)
            assert response.json["error"]["fields"] == {"body": "请求体必须是 JSON 对象"}
