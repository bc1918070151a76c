"""Who sees and does what on projects: PM/supervisor their own, manager their store, admin all."""

import io

from app.core.extensions import db
from app.models import Customer
from tests.projects.helpers import node_ids, png_bytes, set_status, sign


def _ids(site, headers):
    response = site.client.get("/api/v1/projects", headers=headers)
    assert response.status_code == 200
    return [p["id"] for p in response.json["items"]]


def test_visibility_by_role(site, bearer):
    pid = site.project["id"]
    other_pm, other_pm_h = bearer("周项目", "pm", "城东旗舰店")
    far_manager, far_h = bearer("吴店长", "manager", "城西店")
    other_sales, other_sales_h = bearer("郑销售", "sales", "城东旗舰店")
    admin, admin_h = bearer("管理员", "admin")
    for headers in (
        site.pm_h,
        site.supervisor_h,
        site.manager_h,
        site.sales_h,
        site.designer_h,
        admin_h,
    ):
        assert _ids(site, headers) == [pid]
    for headers in (other_pm_h, far_h, other_sales_h):
        assert _ids(site, headers) == []
        assert site.client.get(f"/api/v1/projects/{pid}", headers=headers).status_code == 404


def test_only_site_roles_move_nodes_and_post_logs(site):
    node = node_ids(site)[0]
    assert set_status(site, node, "in_progress", headers=site.sales_h).status_code == 403
    assert set_status(site, node, "in_progress", headers=site.supervisor_h).status_code == 403
    assert set_status(site, node, "in_progress", headers=site.manager_h).status_code == 200
    assert set_status(site, node, "accepted").status_code == 409  # only the homeowner accepts
    url = f"/api/v1/projects/{site.project['id']}/logs"
    data = {"text": "日志", "photos": [(io.BytesIO(png_bytes()), "a.png")]}
    assert (
        site.client.post(
            url, data=data, headers=site.designer_h, content_type="multipart/form-data"
        ).status_code
        == 403
    )
    report = f"/api/v1/projects/{site.project['id']}/reports"
    assert site.client.post(report, data={"findings": "[]"}, headers=site.pm_h).status_code == 403


def test_node_dates_are_validated(site):
    url = f"/api/v1/projects/{site.project['id']}/nodes/{node_ids(site)[0]}"
    bad = site.client.patch(
        url, json={"planned_start": "2026-05-10", "planned_end": "2026-05-01"}, headers=site.pm_h
    )
    assert bad.status_code == 400 and "planned_end" in bad.json["error"]["fields"]
    ok = site.client.patch(url, json={"planned_end": "2026-05-20"}, headers=site.pm_h)
    assert ok.status_code == 200 and ok.json["planned_end"] == "2026-05-20"
    assert site.client.patch(url, json={"status": "done"}, headers=site.pm_h).status_code == 400
    other = site.client.patch(
        f"/api/v1/projects/{site.project['id']}/nodes/999999", json={}, headers=site.pm_h
    )
    assert other.status_code == 404


def test_sales_can_only_sign_their_own_customers(site, bearer):
    stranger = Customer(name="别人的客户")
    db.session.add(stranger)
    db.session.commit()
    response = site.client.post(
        "/api/v1/projects",
        json={"customer_id": stranger.id, "address": "x", "contract_amount_fen": 1},
        headers=site.sales_h,
    )
    assert response.status_code == 404
    assert site.client.post("/api/v1/projects", json={}, headers=site.pm_h).status_code == 403
    assert sign(site)["id"] != site.project["id"]


def test_invites_need_a_visible_customer(site, bearer):
    _, other_h = bearer("郑销售", "sales", "城东旗舰店")
    url = f"/api/v1/customers/{site.customer.id}/invites"
    assert site.client.post(url, json={}, headers=other_h).status_code == 404
    created = site.client.post(url, json={}, headers=site.sales_h)
    assert created.status_code == 201 and len(created.json["code"]) == 8
