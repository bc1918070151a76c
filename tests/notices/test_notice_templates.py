"""Every notice kind renders with realistic data into fields WeChat accepts."""

import re
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from app.core.config import NOTICE_TEMPLATE_VARS, PROJECT_ROOT
from app.services.notices import notice_fields, notice_templates
from app.services.notices.notice_templates import NoticeRenderError, render
from tests.fakewechat import bad_field
from tests.fixtures_outbox import TEMPLATE_IDS

BASE = {"customer_name": "王女士", "customer_id": 42, "base_url": "https://crm.example.com"}
PROJECT = {
    "project_id": 7,
    "project_name": "翠湖天地3栋1202",
    "node": "水电改造",
    "at": "2026-11-22T02:30:00+00:00",
}
CONTEXTS = {
    "progress-update": {**PROJECT, "started": True, "summary": "水电开槽布管完成，明日打压测试"},
    "node-acceptance": PROJECT,
    "node-accepted": {**PROJECT, "node": "水电验收"},
    "rectification": {
        **PROJECT,
        "node": "泥瓦",
        "issue": "卫生间地砖空鼓两处",
        "due_on": "2026-11-25",
    },
    "change-order": {
        "project_id": 7,
        "project_name": "翠湖天地3栋1202",
        "order_no": "BG20261122-01",
        "title": "主卧增加衣柜一组",
        "amount": "6800",
    },
    "material-delivered": {
        **PROJECT,
        "material": "800×800瓷砖",
        "brand": "马可波罗",
        "trace_code": "TC8F3K2Q",
    },
    "maintenance-1y": {"project_id": 7, "completed_on": "2025-11-22", "years": 1},
    "maintenance-3y": {"project_id": 7, "completed_on": "2023-11-22", "years": 3},
    "maintenance-5y": {"project_id": 7, "completed_on": "2021-11-22", "years": 5},
    "birthday": {},
    "referral-reward": {"referee_name": "李先生", "credits": 500, "balance": 1500},
    "referral-vip": {"count": 3},
    "lead-assigned": {"source": "公众号二维码"},
    "customer-message": {
        "summary": "预算二十万左右，周末能来量房吗？我家是老房子，厨房卫生间都要重新做防水"
    },
    "rep-followup": {
        "staff_name": "李销售",
        "topic": "量房时间确认",
        "note": "周六上午十点方便吗？",
    },
    "followup-due": {"due_at": "2026-11-22T06:00:00+00:00", "note": "确认量房时间"},
    "response-overdue": {"minutes": 35, "excerpt": "你好，请问全包大概多少钱？"},
    "node-delayed": {
        "project_id": 7,
        "project_name": "翠湖天地3栋1202",
        "node": "木工",
        "planned_on": "2026-11-20",
        "days_late": 2,
    },
}
PRODUCT_TEXTS = {
    "maintenance-1y": "水电线路、墙面开裂检查",
    "maintenance-3y": "墙漆翻新",
    "maintenance-5y": "免费全屋检测",
}


def test_every_kind_has_a_realistic_context():
    assert sorted(CONTEXTS) == notice_templates.kinds()


@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_kind_renders_valid_fields(kind):
    payload = render(kind, {**BASE, **CONTEXTS[kind]}, TEMPLATE_IDS)
    assert payload["title"] and payload["text"]
    assert "{{" not in payload["text"] and "None" not in payload["text"]
    tpl = notice_templates.load(kind)
    if tpl.audience == "customer":
        assert set(payload) >= {"mini", "mp"}
        for channel in ("mini", "mp"):
            assert bad_field(payload[channel]["data"]) is None, payload[channel]
            assert payload[channel]["template_id"] == TEMPLATE_IDS[tpl.channels[channel].setting]
    else:
        assert not tpl.channels and "mini" not in payload
    if kind in PRODUCT_TEXTS:
        assert PRODUCT_TEXTS[kind] in payload["text"]
        assert PRODUCT_TEXTS[kind] in payload["mini"]["data"]["thing2"]["value"]


def test_material_notice_links_to_the_trace_page():
    payload = render("material-delivered", {**BASE, **CONTEXTS["material-delivered"]}, TEMPLATE_IDS)
    assert "https://crm.example.com/t/TC8F3K2Q" in payload["text"]
    assert payload["mp"]["url"] == "https://crm.example.com/t/TC8F3K2Q"
    assert payload["mini"]["page"] == "pages/trace/index?code=TC8F3K2Q"


def test_times_are_local_and_in_wechat_form():
    payload = render("node-acceptance", {**BASE, **PROJECT}, TEMPLATE_IDS)
    assert payload["mini"]["data"]["time4"]["value"] == "2026年11月22日 10:30"


def test_a_missing_value_is_an_error_at_render():
    context = {**BASE, **CONTEXTS["rectification"]}
    del context["issue"]
    with pytest.raises(NoticeRenderError, match="issue"):
        render("rectification", context, TEMPLATE_IDS)


def test_an_empty_value_is_an_error_and_a_bad_date_too():
    with pytest.raises(NoticeRenderError, match="empty"):
        render("node-accepted", {**BASE, **PROJECT, "node": "  "}, TEMPLATE_IDS)
    with pytest.raises(NoticeRenderError):
        render("node-accepted", {**BASE, **PROJECT, "at": "下周"}, TEMPLATE_IDS)


def test_long_values_are_cut_to_wechat_limits():
    long_name = "翠湖天地国际社区二期东区十三栋二单元一千二百零二室"
    payload = render("node-accepted", {**BASE, **PROJECT, "project_name": long_name}, TEMPLATE_IDS)
    value = payload["mini"]["data"]["thing1"]["value"]
    assert len(value) == 20 and value.endswith("…")


@pytest.mark.parametrize(
    "key,value,expected",
    [
        ("thing1", "一" * 25, "一" * 19 + "…"),
        ("phrase2", "已经开工了呢", "已经开工了"),
        ("character_string3", "A" * 40, "A" * 32),
        ("name4", "欧阳娜娜娜娜娜娜娜娜娜", "欧阳娜娜娜娜娜娜娜…"),
        ("name4", "Alexander Hamilton Jr", "Alexander Hamilton …"),
        ("amount5", "6800元", "6800元"),
        ("date6", "2026年11月22日", "2026年11月22日"),
        ("number7", "12.5", "12.5"),
    ],
)
def test_field_rules_by_prefix(key, value, expected):
    assert notice_fields.fit(key, value) == expected


@pytest.mark.parametrize(
    "key,value", [("number1", "十二"), ("amount2", "六千元"), ("time3", "明天"), ("thing4", "")]
)
def test_field_shapes_that_cannot_fit(key, value):
    with pytest.raises(notice_fields.FieldError):
        notice_fields.fit(key, value)


def test_templates_render_in_a_sandbox():
    with pytest.raises(SecurityError):
        notice_templates.ENV.from_string("{{ x.__class__.__mro__[1].__subclasses__() }}").render(
            x=1
        )


def test_a_channel_without_template_id_is_left_out():
    payload = render("birthday", BASE, {"WECHAT_MP_TPL_GREETING": "tpl-x"})
    assert "mini" not in payload and payload["mp"]["template_id"] == "tpl-x"


def test_every_template_setting_is_declared_and_documented():
    env_example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    for path in Path(notice_templates.TEMPLATE_DIR).glob("*.toml"):
        for setting in re.findall(r'template = "(\w+)"', path.read_text(encoding="utf-8")):
            assert setting in NOTICE_TEMPLATE_VARS
            assert re.search(rf"^{setting}=", env_example, re.M), setting
