"""Site work from the console (the projects services and rules of the staff API), tasks, and
the admin pages."""

from __future__ import annotations

import io

from app.core.extensions import db
from app.models import AuditLog, ProgressEntry, ProjectNode, Staff, TagRule, Task
from app.services.notices import tasks
from app.services.projects import nodes
from tests.console.helpers import customer_of, post, project_for, sign_in, text
from tests.projects.helpers import jpeg_with_gps, png_bytes


def _site(people):
    customer = customer_of(people["sales"], "张业主")
    return project_for(
        customer, actor=people["manager"], pm=people["pm"], supervisor=people["supervisor"]
    )


def test_pm_posts_a_log_with_photos_and_marks_a_node_for_acceptance(client, people, uploads):
    project = _site(people)
    node = project.nodes[0]
    sign_in(client, "周项目")
    assert f"#{project.id}" in text(client.get("/console/projects"))
    files = [(io.BytesIO(jpeg_with_gps()), "a.jpg"), (io.BytesIO(png_bytes()), "b.png")]
    data = {"node_id": str(node.id), "text": "水电开槽完成", "photos": files}
    response = post(
        client, f"/console/projects/{project.id}/logs", data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    entry = db.session.query(ProgressEntry).one()
    assert len(entry.photos) == 2 and entry.text == "水电开槽完成"
    base = f"/console/projects/{project.id}/nodes/{node.id}"
    assert post(client, base, {"status": "in_progress"}).status_code == 302
    assert post(client, base, {"status": "pending_acceptance"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(ProjectNode, node.id).status == "pending_acceptance"
    page = text(client.get(f"/console/projects/{project.id}"))
    assert "待验收" in page and "水电开槽完成" in page and "/media/" in page
    response = post(client, base, {"status": "accepted"})  # only the homeowner accepts
    assert response.status_code == 409 and "不能改为" in text(response)


def test_a_file_that_is_not_an_image_is_a_field_error_and_stores_nothing(client, people, uploads):
    project = _site(people)
    sign_in(client, "周项目")
    files = [(io.BytesIO(png_bytes()), "ok.png"), (io.BytesIO(b"%PDF-1.4 not a photo"), "x.jpg")]
    data = {"text": "今日施工", "photos": files}
    response = post(
        client, f"/console/projects/{project.id}/logs", data, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "只能上传 JPG、PNG 或 WebP 格式的图片" in text(response)
    assert "今日施工</textarea>" in text(response)
    assert db.session.query(ProgressEntry).count() == 0
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))


def test_another_pms_project_is_404_and_roles_are_the_apis(client, people, uploads):
    project = _site(people)
    sign_in(client, "褚项目")
    assert client.get(f"/console/projects/{project.id}").status_code == 404
    response = post(client, f"/console/projects/{project.id}/logs", {"text": "x"})
    assert response.status_code == 404
    post(client, "/console/logout")
    sign_in(client, "吴监理")  # a supervisor reports, but posts no PM log
    assert post(client, f"/console/projects/{project.id}/logs", {"text": "x"}).status_code == 403
    data = {"finding": "卫生间防水高度不足", "hazard": "high", "text": "周检"}
    response = post(
        client, f"/console/projects/{project.id}/reports", data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    assert db.session.query(ProgressEntry).one().findings[0]["hazard"] == "high"


def test_rejection_photos_rectification_and_change_order(client, people, uploads):
    project = _site(people)
    node = project.nodes[0]
    node.status = "pending_acceptance"
    db.session.commit()
    nodes.reject(node, project.customer, "墙面开裂", [])
    db.session.commit()
    sign_in(client, "周项目")
    page = text(client.get(f"/console/projects/{project.id}"))
    assert "验收不通过" in page and "墙面开裂" in page
    url = f"/console/projects/{project.id}/nodes/{node.id}/rectified"
    assert post(client, url, {"note": "已重新批荡"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(ProjectNode, node.id).status == "pending_acceptance"
    url = f"/console/projects/{project.id}/change-orders"
    response = post(client, url, {"item": "主卧加衣柜", "amount": "12.345"})
    assert response.status_code == 400 and "最多两位小数" in text(response)
    assert 'value="主卧加衣柜"' in text(response)
    assert post(client, url, {"item": "主卧加衣柜", "amount": "6800"}).status_code == 302
    assert "主卧加衣柜" in text(client.get(f"/console/projects/{project.id}"))


def test_my_tasks_show_text_to_send_and_can_be_done(client, people):
    customer = customer_of(people["sales"], "王女士")
    task = tasks.create(
        "notice",
        "请通过企业微信发送给王女士：节点待验收",
        staff_id=people["sales"].id,
        customer_id=customer.id,
        text="王女士您好，水电改造已完工",
    )
    other = tasks.create("notice", "别人的任务", staff_id=people["sales2"].id)
    db.session.commit()
    sign_in(client, "李销售")
    page = text(client.get("/console/tasks"))
    assert "王女士您好，水电改造已完工" in page and "别人的任务" not in page
    assert post(client, f"/console/tasks/{other.id}/done").status_code == 404
    assert post(client, f"/console/tasks/{task.id}/done").status_code == 302
    db.session.expire_all()
    assert db.session.get(Task, task.id).status == "done"
    assert "王女士您好" not in text(client.get("/console/tasks"))


def test_staff_admin_create_validate_roles_and_reset(client, people):
    sign_in(client, "王店长")
    response = post(client, "/console/admin/staff", {"name": "", "roles": [], "password": "x"})
    assert response.status_code == 400 and "此项不能为空" in text(response)
    assert "请至少选择一个角色" in text(response)
    form = {
        "name": "新销售",
        "roles": ["admin"],
        "store": "城东旗舰店",
        "password": "long-enough-1",
    }
    response = post(client, "/console/admin/staff", form)
    assert response.status_code == 400 and "只有管理员可以授予管理员角色" in text(response)
    assert 'value="新销售"' in text(response)
    form["roles"] = ["sales"]
    assert post(client, "/console/admin/staff", form).status_code == 302
    member = db.session.query(Staff).filter_by(name="新销售").one()
    assert member.store.name == "城东旗舰店" and member.password_hash.startswith("scrypt:")
    west = people["west_sales"]
    assert client.get(f"/console/admin/staff/{west.id}").status_code == 404  # not their store
    url = f"/console/admin/staff/{member.id}/password"
    response = post(client, url, {"password": "short", "confirm": "short"})
    assert response.status_code == 400 and "密码长度" in text(response)
    assert (
        post(client, url, {"password": "another-pass-2", "confirm": "another-pass-2"}).status_code
        == 302
    )
    assert post(client, f"/console/admin/staff/{member.id}/tokens/revoke").status_code == 302
    edit = {"roles": ["sales", "designer"], "store": "城东旗舰店"}  # active unchecked: deactivate
    assert post(client, f"/console/admin/staff/{member.id}", edit).status_code == 302
    db.session.expire_all()
    member = db.session.get(Staff, member.id)
    assert not member.active and member.role_set == {"sales", "designer"}
    actions = {a.action for a in db.session.query(AuditLog)}
    assert {"staff.create", "staff.password_reset", "staff.token_revoke", "staff.update"} <= actions


def test_admin_pages_are_for_admins_and_managers(client, people):
    sign_in(client, "李销售")
    for url in (
        "/console/admin/staff",
        "/console/admin/tag-rules",
        "/console/admin/auto-replies",
        "/console/admin/node-templates",
    ):
        assert client.get(url).status_code == 403


def test_tag_rules_auto_replies_and_node_templates(client, people):
    sign_in(client, "管理员")
    response = post(
        client,
        "/console/admin/tag-rules",
        {"dimension": "风格", "value": "赛博朋克", "words": "霓虹"},
    )
    assert response.status_code == 400 and "没有取值「赛博朋克」" in text(response)
    form = {"dimension": "风格", "value": "北欧", "words": "ins风\n原木风"}
    assert post(client, "/console/admin/tag-rules", form).status_code == 302
    rule = db.session.query(TagRule).filter_by(source="staff").one()
    assert rule.words == ["ins风", "原木风"]
    assert post(client, f"/console/admin/tag-rules/{rule.id}/deactivate").status_code == 302

    response = post(
        client, "/console/admin/auto-replies", {"keyword": "", "match": "exact", "reply": "x"}
    )
    assert response.status_code == 400 and "此项不能为空" in text(response)
    form = {
        "keyword": "地址",
        "match": "contains",
        "reply": "望江路 88 号",
        "priority": "10",
        "active": "y",
    }
    assert post(client, "/console/admin/auto-replies", form).status_code == 302
    assert "望江路 88 号" in text(client.get("/console/admin/auto-replies"))

    assert "开工交底" in text(client.get("/console/admin/node-templates"))
    response = post(
        client, "/console/admin/node-templates", {"name": "美缝", "duration_days": "999"}
    )
    assert response.status_code == 400 and "1 到 365" in text(response)
    form = {"name": "美缝", "duration_days": "3", "active": "y"}
    assert post(client, "/console/admin/node-templates", form).status_code == 302
    assert "美缝" in text(client.get("/console/admin/node-templates"))
