"""The homeowner's side: acceptance, rejection and rectification, change orders, privacy."""

import io

import time_machine
from sqlalchemy import delete, select

from app.core.extensions import db
from app.models import Customer, CustomerIdentity, MessageConsent, NodeRejection, TimelineEvent
from app.models.types import utcnow
from tests.projects.helpers import jpeg_with_gps, node_ids, owner_headers, set_status


def _ready(site, node_id):
    set_status(site, node_id, "in_progress")
    assert set_status(site, node_id, "pending_acceptance").json["status_label"] == "待验收"


def test_accepting_a_node_not_waiting_for_acceptance_is_409(site, mini):
    headers = owner_headers(site, mini)
    first = node_ids(site)[0]
    url = f"/mini/v1/projects/{site.project['id']}/nodes/{first}/accept"
    response = mini.post(url, headers=headers)
    assert response.status_code == 409 and "未开始" in response.json["error"]["message"]
    _ready(site, first)
    assert mini.post(url, headers=headers).status_code == 200
    assert mini.post(url, headers=headers).status_code == 409  # a double tap accepts once
    assert set_status(site, first, "in_progress").status_code == 409  # accepted is final


def test_reject_with_photos_then_rectify_then_accept(site, mini):
    headers = owner_headers(site, mini)
    pid, node = site.project["id"], node_ids(site)[2]
    _ready(site, node)
    upload = mini.post(
        "/mini/v1/uploads",
        data={"file": (io.BytesIO(jpeg_with_gps()), "crack.jpg")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201
    for round_ in (1, 2):
        rejected = mini.post(
            f"/mini/v1/projects/{pid}/nodes/{node}/reject",
            headers=headers,
            json={"reason": f"墙面开裂 第{round_}次", "photos": [upload.json["photo_token"]]},
        )
        assert rejected.status_code == 200 and rejected.json["status_label"] == "整改中"
        assert rejected.json["rejection_count"] == round_
        close = site.client.post(
            f"/api/v1/projects/{pid}/nodes/{node}/rectification/close",
            json={"note": "已重新批灰"},
            headers=site.pm_h,
        )
        assert close.status_code == 200 and close.json["status"] == "pending_acceptance"
    assert (
        mini.post(f"/mini/v1/projects/{pid}/nodes/{node}/accept", headers=headers).status_code
        == 200
    )
    rows = db.session.scalars(select(NodeRejection)).all()
    assert len(rows) == 2 and all(r.closed_at for r in rows) and rows[0].photos[0]["thumb"]
    report = site.client.get(f"/api/v1/projects/{pid}/rejections", headers=site.manager_h).json
    assert {n["node_id"]: n["rejection_count"] for n in report["nodes"]}[node] == 2
    assert report["items"][0]["photos"][0]["thumb_url"]
    kinds = {e.kind for e in db.session.scalars(select(TimelineEvent))}
    assert {"node_rejected", "rectification_closed", "node_accepted"} <= kinds
    assert (
        site.client.get(f"/api/v1/projects/{pid}/rejections", headers=site.sales_h).status_code
        == 403
    )


def test_reject_needs_a_reason_and_our_own_photo_tokens(site, mini):
    headers = owner_headers(site, mini)
    pid, node = site.project["id"], node_ids(site)[0]
    _ready(site, node)
    url = f"/mini/v1/projects/{pid}/nodes/{node}/reject"
    missing = mini.post(url, json={}, headers=headers)
    assert (
        missing.status_code == 400
        and missing.json["error"]["fields"]["reason"] == "不通过原因不能为空"
    )
    forged = mini.post(url, json={"reason": "x", "photos": ["abc"]}, headers=headers)
    assert forged.status_code == 400 and "photos" in forged.json["error"]["fields"]
    text = mini.post(
        "/mini/v1/uploads",
        data={"file": (io.BytesIO(b"not an image"), "a.jpg")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert text.status_code == 400


def test_change_orders_keep_the_budget_total_right(site, mini):
    headers = owner_headers(site, mini)
    pid = site.project["id"]

    def propose(item, amount):
        response = site.client.post(
            f"/api/v1/projects/{pid}/change-orders",
            json={"item": item, "amount_fen": amount},
            headers=site.designer_h,
        )
        assert response.status_code == 201, response.json
        return response.json["id"]

    add, cut, refused = (
        propose("主卧加装衣柜", 1_250_000),
        propose("取消吊顶", -300_000),
        propose("加装地暖", 2_000_000),
    )
    assert (
        mini.post(f"/mini/v1/change-orders/{add}/approve", headers=headers).json["budget"][
            "total_fen"
        ]
        == 20_050_000
    )
    result = mini.post(f"/mini/v1/change-orders/{cut}/approve", headers=headers).json
    assert result["budget"] == {
        "contract_fen": 18_800_000,
        "approved_changes_fen": 950_000,
        "total_fen": 19_750_000,
    }
    rejected = mini.post(
        f"/mini/v1/change-orders/{refused}/reject", json={"reason": "预算不够"}, headers=headers
    )
    assert rejected.json["change_order"]["status_label"] == "已拒绝"
    assert rejected.json["budget"]["total_fen"] == 19_750_000
    assert mini.post(f"/mini/v1/change-orders/{add}/approve", headers=headers).status_code == 409
    assert (
        mini.post(f"/mini/v1/change-orders/{refused}/approve", headers=headers).status_code == 409
    )
    detail = mini.get(f"/mini/v1/projects/{pid}", headers=headers).json
    assert detail["budget"]["total_fen"] == 19_750_000 and len(detail["change_orders"]) == 3
    zero = site.client.post(
        f"/api/v1/projects/{pid}/change-orders",
        json={"item": "x", "amount_fen": 0},
        headers=site.designer_h,
    )
    assert zero.status_code == 400


def test_another_homeowners_project_is_404(site, mini):
    owner_headers(site, mini)
    stranger = mini.login("oStranger")
    pid, node = site.project["id"], node_ids(site)[0]
    _ready(site, node)
    for path in (f"/mini/v1/projects/{pid}", f"/mini/v1/projects/{pid}/feed"):
        response = mini.get(path, headers=stranger)
        assert response.status_code == 404 and response.json["error"]["message"] == "项目不存在"
    assert (
        mini.post(f"/mini/v1/projects/{pid}/nodes/{node}/accept", headers=stranger).status_code
        == 404
    )
    order = site.client.post(
        f"/api/v1/projects/{pid}/change-orders",
        json={"item": "x", "amount_fen": 1},
        headers=site.pm_h,
    ).json["id"]
    assert mini.post(f"/mini/v1/change-orders/{order}/approve", headers=stranger).status_code == 404
    assert mini.get("/mini/v1/projects", headers=stranger).json["items"] == []
    assert mini.get("/mini/v1/projects/99999999999999", headers=stranger).status_code == 404


def test_feed_is_newest_first_with_a_cursor(site, mini):
    headers = owner_headers(site, mini)
    pid = site.project["id"]
    for i in range(5):
        site.client.post(
            f"/api/v1/projects/{pid}/logs", data={"text": f"日志{i}"}, headers=site.pm_h
        )
    first = mini.get(f"/mini/v1/projects/{pid}/feed?limit=3", headers=headers).json
    assert [e["text"] for e in first["items"]] == ["日志4", "日志3", "日志2"]
    second = mini.get(
        f"/mini/v1/projects/{pid}/feed?limit=3&before={first['next_cursor']}", headers=headers
    ).json
    assert [e["text"] for e in second["items"]] == ["日志1", "日志0"] and second[
        "next_cursor"
    ] is None
    assert mini.get(f"/mini/v1/projects/{pid}/feed?before=zzz", headers=headers).status_code == 400


def test_subscriptions_record_one_time_consents(site, mini):
    headers = owner_headers(site, mini)
    body = {"results": {"TMPL_PROGRESS": "accept", "TMPL_ACCEPT": "reject"}}
    assert mini.post("/mini/v1/subscriptions", json=body, headers=headers).status_code == 200
    again = mini.post(
        "/mini/v1/subscriptions", json={"results": {"TMPL_PROGRESS": "accept"}}, headers=headers
    )
    assert again.json["items"] == [
        {"template_id": "TMPL_PROGRESS", "status": "accept", "remaining": 2}
    ]
    rows = {r.template_id: r for r in db.session.scalars(select(MessageConsent))}
    assert rows["TMPL_ACCEPT"].remaining == 0 and rows["TMPL_PROGRESS"].channel == "mini"
    assert rows["TMPL_PROGRESS"].customer_id == site.customer.id
    bad = mini.post("/mini/v1/subscriptions", json={"results": {"T": "maybe"}}, headers=headers)
    assert bad.status_code == 400 and "results" in bad.json["error"]["fields"]


def test_merging_customers_moves_their_projects(site):
    from app.services.customers import customers

    other = Customer(name="重复档案")
    db.session.add(other)
    db.session.commit()
    customers.merge(other, db.session.get(Customer, site.customer.id), actor="cli")
    db.session.commit()
    assert (
        site.client.get(f"/api/v1/projects/{site.project['id']}", headers=site.pm_h).json[
            "customer_id"
        ]
        == other.id
    )


def test_homeowner_page_matches_the_staff_page(site, mini):
    """The mini program reads its project page with its own statements: same content."""
    headers = owner_headers(site, mini)
    pid, nodes = site.project["id"], node_ids(site)
    _ready(site, nodes[0])
    mini.post(f"/mini/v1/projects/{pid}/nodes/{nodes[0]}/accept", headers=headers)
    set_status(site, nodes[1], "in_progress")
    orders = [
        site.client.post(
            f"/api/v1/projects/{pid}/change-orders",
            headers=site.pm_h,
            json={"item": item, "amount_fen": amount},
        ).json["id"]
        for item, amount in (("加装地暖", 1_200_000), ("取消吊顶", -300_000))
    ]
    mini.post(f"/mini/v1/change-orders/{orders[0]}/approve", headers=headers)
    staff_page = site.client.get(f"/api/v1/projects/{pid}", headers=site.manager_h).json
    response = mini.get(f"/mini/v1/projects/{pid}", headers=headers)
    assert response.status_code == 200
    assert response.json == staff_page
    assert response.json["team"]["pm"]["name"] == "王项目"
    assert response.json["progress"] == {
        "accepted": 1,
        "total": 8,
        "text": "1/8",
        "current_node": "水电改造",
    }
    assert response.json["budget"]["total_fen"] == response.json["contract_amount_fen"] + 1_200_000
    assert "王项目".encode() in response.data  # UTF-8, not \u-escaped


def test_homeowner_feed_shows_entries_as_they_were_posted(site, mini):
    """The feed is read with its own statements: each entry reads as the staff API wrote it."""
    headers = owner_headers(site, mini)
    pid, node = site.project["id"], node_ids(site)[1]
    findings = '[{"text": "防水高度不足", "hazard": "high"}, {"text": "插座歪斜", "hazard": "low"}]'
    with time_machine.travel(utcnow(), tick=False):  # the same signing time for every URL
        log = site.client.post(
            f"/api/v1/projects/{pid}/logs",
            headers=site.pm_h,
            data={
                "text": "水电开槽",
                "node_id": str(node),
                "photos": [(io.BytesIO(jpeg_with_gps()), "a.jpg")],
            },
            content_type="multipart/form-data",
        )
        report = site.client.post(
            f"/api/v1/projects/{pid}/reports",
            headers=site.supervisor_h,
            data={
                "findings": findings,
                "text": "第 3 周巡检",
                "photo_0": (io.BytesIO(jpeg_with_gps()), "f.jpg"),
            },
            content_type="multipart/form-data",
        )
        feed = mini.get(f"/mini/v1/projects/{pid}/feed", headers=headers).json
        staff_feed = site.client.get(f"/api/v1/projects/{pid}/feed", headers=site.pm_h).json
    assert log.status_code == report.status_code == 201
    assert feed == staff_feed == {"items": [report.json, log.json], "next_cursor": None}
    assert log.json["created_at"].endswith("+00:00") and log.json["node"] == "水电改造"


def test_unchecked_answers_are_the_checked_answers(app, site, mini, monkeypatch):
    """Production does not check answers against their shapes (RESPONSE_CHECKS): the pages
    answer the same bytes either way, and the suite's check still catches a wrong shape."""
    headers = owner_headers(site, mini)
    pid = site.project["id"]
    posted = site.client.post(
        f"/api/v1/projects/{pid}/logs",
        headers=site.pm_h,
        data={"text": "水电开槽", "photos": [(io.BytesIO(jpeg_with_gps()), "a.jpg")]},
        content_type="multipart/form-data",
    )
    assert posted.status_code == 201
    paths = (f"/mini/v1/projects/{pid}", f"/mini/v1/projects/{pid}/feed", "/mini/v1/projects/0")
    with time_machine.travel(utcnow(), tick=False):  # the same signing time for every URL
        checked = [mini.get(path, headers=headers) for path in paths]
        monkeypatch.setitem(app.config, "RESPONSE_CHECKS", False)
        unchecked = [mini.get(path, headers=headers) for path in paths]
    assert [(r.status_code, r.data) for r in checked] == [
        (r.status_code, r.data) for r in unchecked
    ]
    assert [r.status_code for r in checked] == [200, 200, 404]
    monkeypatch.setitem(app.config, "RESPONSE_CHECKS", True)
    monkeypatch.setattr("miniprogram_api.projects.feed_json", lambda rows: [{"id": "x"}])
    assert mini.get(paths[1], headers=headers).status_code == 500


def test_a_token_whose_openid_is_gone_is_401_on_every_page(site, mini):
    headers = owner_headers(site, mini)
    pid = site.project["id"]
    assert mini.get(f"/mini/v1/projects/{pid}/feed", headers=headers).status_code == 200
    db.session.execute(delete(CustomerIdentity).where(CustomerIdentity.value == "oOwner0001"))
    db.session.commit()
    for path in (f"/mini/v1/projects/{pid}", f"/mini/v1/projects/{pid}/feed", "/mini/v1/me"):
        response = mini.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.json["error"]["message"] == "登录已过期，请重新登录"
