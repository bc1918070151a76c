"""The customer list and the customer page: filters, paging, edits, stale forms, escaping."""

from __future__ import annotations

import re

from app.core.extensions import db
from app.models import AuditLog, Customer, Project, TimelineEvent
from app.services.customers import phones
from app.services.tagging import tagging
from app.services.value import value
from tests.console.helpers import customer_of, post, say, sign_in, text


def _ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'class="name" href="/console/customers/(\d+)"', page)]


def test_list_filters_by_tag_stage_phone_name_and_idle(client, people):
    rep = people["sales"]
    nordic = customer_of(rep, "北欧控", stage="measured")
    tagging.add_manual_tag(nordic, "风格:北欧", rep)
    _, nordic.phone_enc, nordic.phone_hash = phones.seal("13912345678")
    plain = customer_of(rep, "普通客户")
    say(plain, "你好", minutes_ago=60 * 24 * 3)
    db.session.commit()
    sign_in(client, rep.name)

    assert _ids(text(client.get("/console/customers?tag=风格:北欧"))) == [nordic.id]
    assert _ids(text(client.get("/console/customers?q=风格:北欧"))) == [nordic.id]
    assert _ids(text(client.get("/console/customers?stage=measured"))) == [nordic.id]
    assert _ids(text(client.get("/console/customers?q=139 1234 5678"))) == [nordic.id]
    assert _ids(text(client.get("/console/customers?q=1391234"))) == []  # phones: exact only
    assert _ids(text(client.get("/console/customers?q=普通"))) == [plain.id]
    assert _ids(text(client.get("/console/customers?contact_days=7"))) == [plain.id]
    # The manual tag is a staff follow-up today; the other customer has none for 2 days.
    assert _ids(text(client.get("/console/customers?idle_days=2"))) == [plain.id]
    # A tag no one has (or no rule ever made) is an empty list, not an error.
    for query in ("tag=风格:不存在", "q=风格:不存在", "tag=不存在:北欧", "tag=风格：北欧 "):
        page = client.get(f"/console/customers?{query}")
        assert page.status_code == 200, query
        expected = [nordic.id] if query.endswith("北欧 ") else []
        assert _ids(text(page)) == expected, query
    assert 'value="风格:不存在"' in text(client.get("/console/customers?tag=风格:不存在"))
    page = client.get("/console/customers?tag=北欧")  # not 维度:值
    assert page.status_code == 400 and "标签格式为 维度:值" in text(page)
    assert 'value="北欧"' in text(page)  # what was typed stays


def test_keyset_paging_and_sorting(client, people):
    rep = people["sales"]
    made = [customer_of(rep, f"客户{i:02d}") for i in range(55)]
    sign_in(client, rep.name)
    first = text(client.get("/console/customers"))
    cursor = re.search(r'href="/console/customers\?before=([^"&]+)"', first).group(1)
    second = text(client.get(f"/console/customers?before={cursor}"))
    ids = _ids(first) + _ids(second)
    assert len(_ids(first)) == 50 and ids == sorted((c.id for c in made), reverse=True)
    by_name = text(client.get("/console/customers?sort=name"))
    assert _ids(by_name)[:2] == [made[0].id, made[1].id]
    cursor = re.search(r'before=([^"&]+)', by_name).group(1)
    rest = _ids(text(client.get(f"/console/customers?sort=name&before={cursor}")))
    assert rest == [c.id for c in made[50:]]
    assert client.get("/console/customers?before=garbage").status_code == 400


def test_customer_page_shows_label_tags_with_evidence_and_timeline(client, people):
    rep = people["sales"]
    customer = customer_of(rep, "王女士", stage="construction")
    event = say(customer, "想做现代简约，预算二十万左右")
    tagging.tag_event(event)
    db.session.commit()
    sign_in(client, rep.name)
    page = text(client.get(f"/console/customers/{customer.id}"))
    assert "中端-现代简约-施工" in page
    assert "来自消息：想做现代简约，预算二十万左右" in page
    assert "想做现代简约" in page  # the message on the timeline


def test_profile_edit_field_errors_keep_what_was_typed(client, people):
    rep = people["sales"]
    customer = customer_of(rep, "王女士")
    sign_in(client, rep.name)
    page = text(client.get(f"/console/customers/{customer.id}"))
    version = re.search(r'id="version" name="version" type="hidden" value="([^"]*)"', page).group(1)
    form = {
        "version": version,
        "name": "王丽",
        "gender": "female",
        "birthday": "1990-13-45",
        "city": "杭州",
    }
    response = post(client, f"/console/customers/{customer.id}/profile", form)
    assert response.status_code == 400
    assert "生日必须是 YYYY-MM-DD 格式的日期" in text(response)
    assert 'value="王丽"' in text(response) and 'value="1990-13-45"' in text(response)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == "王女士"

    form["birthday"] = "1990-03-05"
    assert post(client, f"/console/customers/{customer.id}/profile", form).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Customer, customer.id)
    assert (saved.name, str(saved.birthday)) == ("王丽", "1990-03-05")
    assert db.session.query(AuditLog).filter_by(action="customer.update").count() == 1
    kinds = [e.kind for e in db.session.query(TimelineEvent).filter_by(customer_id=customer.id)]
    assert "profile_updated" in kinds


def test_a_stale_form_is_refused_not_overwritten(client, people):
    rep = people["sales"]
    customer = customer_of(rep, "王女士")
    sign_in(client, rep.name)
    page = text(client.get(f"/console/customers/{customer.id}"))
    version = re.search(r'id="version" name="version" type="hidden" value="([^"]*)"', page).group(1)
    customer.city = "上海"  # someone else saves in between
    db.session.commit()
    form = {"version": version, "name": "我改的名字", "gender": "unknown", "city": "杭州"}
    response = post(client, f"/console/customers/{customer.id}/profile", form)
    assert response.status_code == 409
    assert "该客户已被其他人修改" in text(response) and 'value="我改的名字"' in text(response)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).city == "上海"
    stage = {"version": version, "stage": "measured", "reason": "已量房"}
    assert post(client, f"/console/customers/{customer.id}/stage", stage).status_code == 409


def test_stage_move_needs_a_reason_and_lands_on_the_timeline(client, people):
    rep = people["sales"]
    customer = customer_of(rep, "王女士")
    sign_in(client, rep.name)
    page = text(client.get(f"/console/customers/{customer.id}"))
    version = re.search(r'id="version" name="version" type="hidden" value="([^"]*)"', page).group(1)
    url = f"/console/customers/{customer.id}/stage"
    response = post(client, url, {"version": version, "stage": "measured", "reason": ""})
    assert response.status_code == 400 and "此项不能为空" in text(response)
    response = post(
        client, url, {"version": version, "stage": "measured", "reason": "周六上门量房"}
    )
    assert response.status_code == 302
    page = text(client.get(f"/console/customers/{customer.id}?kind=stage"))
    assert "潜在 → 已量房" in page and "周六上门量房" in page


def test_tags_and_notes_are_audited_and_on_the_timeline(client, people):
    rep = people["sales"]
    customer = customer_of(rep, "王女士")
    sign_in(client, rep.name)
    base = f"/console/customers/{customer.id}"
    response = post(client, f"{base}/tags", {"tag": "风格:火星"})
    assert response.status_code == 400 and "未知标签" in text(response)
    assert post(client, f"{base}/tags", {"tag": "风格:北欧"}).status_code == 302
    assert post(client, f"{base}/notes", {"text": "客户说想要环保材料"}).status_code == 302
    page = text(client.get(base))
    assert "添加标签" in page and "风格:北欧" in page and "客户说想要环保材料" in page
    assert "关注:环保" in page  # the note's own words were tagged
    assert post(client, f"{base}/tags/remove", {"tag": "风格:北欧"}).status_code == 302
    assert "移除标签" in text(client.get(f"{base}?kind=tag"))
    actions = {a.action for a in db.session.query(AuditLog)}
    assert {"customer_tag.add", "customer_tag.remove", "customer.note"} <= actions


def test_timeline_filters_by_kind_and_pages_newest_first(client, people):
    rep = people["sales"]
    customer = customer_of(rep, "王女士")
    for i in range(25):
        say(customer, f"第{i:02d}条消息", minutes_ago=100 - i)
    sign_in(client, rep.name)
    first = text(client.get(f"/console/customers/{customer.id}?kind=message"))
    assert first.index("第24条") < first.index("第23条")
    assert "第04条" not in first
    older = re.search(r'id="older" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = text(client.get(older))
    assert "第04条" in second and "第00条" in second and "第24条" not in second
    assert "第24条" not in text(client.get(f"/console/customers/{customer.id}?kind=note"))


def test_customer_text_is_always_escaped(client, people):
    rep = people["sales"]
    customer = customer_of(rep, "<b>坏名字</b>")
    say(customer, "<script>alert(1)</script><img src=x onerror=alert(2)>")
    sign_in(client, rep.name)
    page = text(client.get(f"/console/customers/{customer.id}"))
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;坏名字&lt;/b&gt;" in text(client.get("/console/customers"))


def test_merge_a_duplicate_with_the_same_phone(client, people):
    rep = people["sales"]
    first = customer_of(rep, "王女士")
    second = customer_of(rep, "王女士(企业微信)")
    for c in (first, second):
        _, c.phone_enc, c.phone_hash = phones.seal("13912345678")
    say(second, "我是企业微信上的王女士")
    sign_in(client, rep.name)
    page = text(client.get(f"/console/customers/{first.id}"))
    assert f"#{second.id}" in page and "手机号或 UnionID 相同的客户" in page
    other = customer_of(people["sales2"], "别人的客户")
    response = post(client, f"/console/customers/{first.id}/merge", {"other_id": other.id})
    assert response.status_code == 404  # not theirs: as if it did not exist
    response = post(
        client,
        f"/console/customers/{first.id}/merge",
        {"other_id": second.id, "reason": "同一手机号"},
    )
    assert response.status_code == 302
    page = text(client.get(f"/console/customers/{first.id}"))
    assert "我是企业微信上的王女士" in page and "合并客户" in page
    assert client.get(f"/console/customers/{second.id}").status_code == 404


def test_the_label_starts_with_the_customers_value_on_the_list_and_the_page(client, people):
    """The same label as the staff API's: 「高价值-…」 once the value is assessed."""
    rep = people["sales"]
    customer = customer_of(rep, "赵先生", stage="construction")
    db.session.add(Project(customer_id=customer.id, contract_amount_fen=40_000_000))
    for _ in range(10):
        say(customer, "什么时候上门")
    value.recompute(customer.id)
    db.session.commit()
    sign_in(client, rep.name)
    assert "高价值-施工" in text(client.get("/console/customers"))
    assert "高价值-施工" in text(client.get(f"/console/customers/{customer.id}"))
