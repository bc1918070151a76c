"""/api/v1/tag-rules: staff edit the rules, and the next message follows them."""

from sqlalchemy import func, select, text

from app.core.extensions import db
from app.models import AuditLog, TagRule
from app.services.tagging import tag_rules
from app.tagging import default_rules
from tests.tagging.test_tagging_service import send, tags_of

URL = "/api/v1/tag-rules"
CYBER = {"dimension": "风格", "value": "工业风", "words": ["赛博朋克"]}


def test_a_new_rule_applies_to_the_very_next_message(client, bearer):
    _, headers = bearer("王店长", "manager")
    before = send(client, "想要赛博朋克的感觉")
    assert tags_of(before.customer_id) == {}
    created = client.post(URL, json=CYBER, headers=headers)
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    assert rule["tag"] == "风格:工业风" and rule["source"] == "staff" and rule["active"]
    after = send(client, "客厅想要赛博朋克的感觉")
    tags = tags_of(after.customer_id)
    assert set(tags) == {"风格:工业风", "空间:客厅"}  # the defaults still apply beside it
    assert tags["风格:工业风"].evidence["rule"] == f"风格:工业风@{rule['id']}"
    audit = db.session.scalars(select(AuditLog).filter_by(action="tag_rule.create")).one()
    assert audit.actor == "王店长" and audit.after["words"] == ["赛博朋克"]


def test_a_deactivated_rule_stops_tagging(client, bearer):
    _, headers = bearer("管理员", "admin")
    rule_id = client.post(URL, json=CYBER, headers=headers).get_json()["id"]
    assert tags_of(send(client, "赛博朋克", openid="o1").customer_id)
    response = client.delete(f"{URL}/{rule_id}", headers=headers)
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert tags_of(send(client, "赛博朋克", openid="o2").customer_id) == {}
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-1] == "tag_rule.deactivate"


def test_patch_changes_words_and_keeps_the_rest(client, bearer):
    _, headers = bearer("管理员", "admin")
    rule_id = client.post(URL, json=CYBER, headers=headers).get_json()["id"]
    response = client.patch(f"{URL}/{rule_id}", json={"words": "蒸汽朋克，机械风"}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["words"] == ["蒸汽朋克", "机械风"]
    assert response.get_json()["value"] == "工业风"
    assert set(tags_of(send(client, "喜欢机械风").customer_id)) == {"风格:工业风"}
    assert tags_of(send(client, "赛博朋克", openid="o3").customer_id) == {}


def test_bad_rule_input_names_the_fields(client, bearer):
    _, headers = bearer("管理员", "admin")
    cases = {
        "dimension": {"dimension": "颜色", "value": "红", "words": ["红色"]},
        "value": {"dimension": "风格", "value": "火星风", "words": ["火星"]},
        "words": {"dimension": "风格", "value": "北欧", "words": ["  "]},
    }
    for field, body in cases.items():
        response = client.post(URL, json=body, headers=headers)
        assert response.status_code == 400
        fields = response.get_json()["error"]["fields"]
        assert field in fields and fields[field], (field, fields)
    patch = client.patch(f"{URL}/999", json={"words": []}, headers=headers)
    assert patch.status_code == 404
    assert client.post(URL, data="nope", headers=headers).status_code == 400
    assert db.session.scalar(select(func.count(TagRule.id))) == 0


def test_only_admins_and_managers_manage_rules(client, bearer):
    _, rep = bearer("李销售", "sales")
    for response in (
        client.get(URL, headers=rep),
        client.post(URL, json=CYBER, headers=rep),
        client.delete(f"{URL}/1", headers=rep),
    ):
        assert response.status_code == 403
        assert "管理员或店长" in response.get_json()["error"]["message"]
    assert db.session.scalar(select(func.count(TagRule.id))) == 0


def test_list_filters_and_pages(client, bearer):
    _, headers = bearer("管理员", "admin")
    client.post(URL, json=CYBER, headers=headers)
    total = len(default_rules()) + 1
    styles = client.get(URL + "?dimension=风格&limit=500", headers=headers).get_json()
    assert styles["items"] and all(r["dimension"] == "风格" for r in styles["items"])
    first = client.get(URL + "?limit=30", headers=headers).get_json()
    second = client.get(URL + f"?limit=500&after={first['next_cursor']}", headers=headers)
    assert len(first["items"]) + len(second.get_json()["items"]) == total


def test_load_defaults_is_idempotent(ctx):
    runner = ctx.test_cli_runner()
    first = runner.invoke(args=["tags", "load-defaults"])
    assert first.exit_code == 0 and f"新增 {len(default_rules())} 条" in first.output
    second = runner.invoke(args=["tags", "load-defaults"])
    assert "新增 0 条" in second.output
    assert db.session.scalar(select(func.count(TagRule.id))) == len(default_rules())


def test_another_process_change_is_seen_after_the_version_check(client, monkeypatch):
    client.application.test_cli_runner().invoke(args=["tags", "load-defaults"])
    assert "风格:北欧" in tags_of(send(client, "北欧风", openid="o4").customer_id)
    # Another process deactivates the 北欧 rules: rows and version change, our cache does not know.
    db.session.execute(text("UPDATE tag_rules SET active = false WHERE value = '北欧'"))
    db.session.execute(text("UPDATE tagging_state SET number = number + 1"))
    db.session.commit()
    monkeypatch.setattr(tag_rules, "VERSION_CHECK_SECONDS", 0.0)
    assert tags_of(send(client, "北欧风", openid="o5").customer_id) == {}
