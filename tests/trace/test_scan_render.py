"""The scan page from kept renderings (app.web.scan_html) is, byte for byte, what Jinja
renders for the same view and timezone: for every code of a batch in a row, whatever its
count and first scan, and again after any shown field changes."""

from dataclasses import fields, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.services.trace.scans import ScanView
from app.web import scan_html
from app.web.scan_html import PER_CODE, ScanPages
from tests.trace.test_scan_page import scan

SHANGHAI, LONDON = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/London")
TRICKY = "<b>&\"'</b> 检测"  # what autoescape must escape, with Chinese
FIRST = datetime(2026, 11, 3, 17, 5, tzinfo=UTC)  # 11-04 01:05 in Shanghai, 11-03 in London
BASE = ScanView(
    code="2222222222222222",
    serial=1,
    scan_count=1,
    first_scanned_at=FIRST,
    batch_id=7,
    batch_no="B20261101",
    production_date=date(2026, 10, 8),
    contract_ref="CG-2026-0113",
    inspection=[{"item": "放射性", "result": "A类"}, {"item": "吸水率", "result": "≤0.5%"}],
    report_no="JC-2026-88",
    inspection_agency="国家建筑材料质量检验检测中心",
    has_report=True,
    category="瓷砖",
    name="通体大理石瓷砖",
    brand="东鹏",
    model="YT8001",
    spec="800×800mm",
    unit="箱",
    supplier="佛山东鹏",
    delivered_at=datetime(2026, 11, 1, 20, 30, tzinfo=UTC),
    project_id=3,
    community="锦绣苑",
)
# One change of each catalog field: each must give a page of its own.
CHANGED = {
    "batch_id": 8,
    "batch_no": "B20261102",
    "production_date": date(2026, 10, 9),
    "contract_ref": "CG-2026-0114",
    "inspection": [{"item": "放射性", "result": "B类"}, {"item": "吸水率", "result": "≤0.5%"}],
    "report_no": "JC-2026-89",
    "inspection_agency": "省建材检测院",
    "has_report": False,
    "category": "地板",
    "name": "通体大理石瓷砖二代",
    "brand": "马可波罗",
    "model": "YT8002",
    "spec": "600×600mm",
    "unit": "片",
    "supplier": "佛山马可波罗",
    "delivered_at": datetime(2026, 11, 2, 20, 30, tzinfo=UTC),
    "project_id": 4,
    "community": "锦绣苑二期",
}
CATALOGS = {
    "full": {},
    "bare": {
        "production_date": None,
        "contract_ref": "",
        "inspection": [],
        "report_no": "",
        "inspection_agency": "",
        "has_report": False,
        "spec": "",
        "delivered_at": None,
        "project_id": None,
        "community": None,
    },
    "tricky": {
        "batch_no": TRICKY,
        "contract_ref": TRICKY,
        "inspection": [{"item": TRICKY, "result": "<A类> & 'ok'"}, {"item": "甲醛", "result": 1}],
        "report_no": TRICKY,
        "inspection_agency": TRICKY,
        "name": TRICKY,
        "brand": TRICKY,
        "model": TRICKY,
        "spec": TRICKY,
        "supplier": TRICKY,
        "community": TRICKY,
    },
    "delivered, no community": {"community": None, "project_id": None},
    "no report file, report number only": {"has_report": False},
}
# Codes of one batch in a row, as scans bring them: first scans, repeats, a never-counted one.
CODES = [
    {"code": "2222222222222222", "serial": 1, "scan_count": 1, "first_scanned_at": FIRST},
    {"code": "3333333333333333", "serial": 2, "scan_count": 1, "first_scanned_at": FIRST},
    {"code": "2222222222222222", "serial": 1, "scan_count": 2, "first_scanned_at": FIRST},
    {"code": "4444444444444444", "serial": 30, "scan_count": 17, "first_scanned_at": FIRST},
    {"code": "5555555555555555", "serial": 31, "scan_count": 0, "first_scanned_at": None},
    {"code": "6666666666666666", "serial": 32, "scan_count": 1, "first_scanned_at": None},
    {"code": "7777777777777777", "serial": 33, "scan_count": 5, "first_scanned_at": None},
    {"code": "A<b>&\"'", "serial": 34, "scan_count": 1, "first_scanned_at": FIRST},
    {"code": "3333333333333333", "serial": 2, "scan_count": 3, "first_scanned_at": FIRST},
]


@pytest.fixture
def template(app):
    with app.app_context():
        yield app.jinja_env.get_template("trace/scan.html")


def _jinja(template, view: ScanView, tz=SHANGHAI) -> bytes:
    return template.render(v=view, tz=tz).encode()


def _assert_same(pages: ScanPages, template, view: ScanView, tz=SHANGHAI) -> bytes:
    page = pages.page(template, view, tz)
    assert page == _jinja(template, view, tz), view
    return page


@pytest.mark.parametrize("catalog", CATALOGS.values(), ids=CATALOGS.keys())
def test_every_code_of_a_batch_in_a_row_gets_jinjas_page(template, catalog):
    pages = ScanPages()
    for _ in range(2):  # the second round only from kept renderings
        for per_code in CODES:
            _assert_same(pages, template, replace(BASE, **catalog, **per_code))
    assert len(pages._entries) == 1  # one catalog part, whatever the codes


def test_each_code_shows_its_own_serial_code_and_count(template):
    pages = ScanPages()
    first = pages.page(template, BASE, SHANGHAI).decode()
    assert "第 1 号" in first and "已被查询 <strong>1</strong> 次" in first
    assert "请联系装修公司核实" not in first and "首次查询于 2026-11-04 01:05" in first
    for code, serial, count in (("3333333333333333", 2, 4), ("4444444444444444", 3, 5)):
        other = replace(BASE, code=code, serial=serial, scan_count=count)
        html = pages.page(template, other, SHANGHAI).decode()
        assert f"第 {serial} 号" in html and f"已被查询 <strong>{count}</strong> 次" in html
        assert "请联系装修公司核实" in html and html.count(code) == 2
        assert "2222222222222222" not in html and "第 1 号" not in html


def test_a_change_of_any_shown_field_is_a_page_of_its_own(template):
    assert set(CHANGED) == {f.name for f in fields(ScanView)} - set(PER_CODE)
    pages = ScanPages()
    _assert_same(pages, template, BASE)
    for count, (name, value) in enumerate(CHANGED.items(), 2):
        for per_code in CODES[:3]:
            _assert_same(pages, template, replace(BASE, **{name: value}, **per_code))
        assert len(pages._entries) == count, name
    _assert_same(pages, template, BASE, LONDON)  # the dates are shown in the timezone
    assert len(pages._entries) == len(CHANGED) + 2


def test_the_cache_starts_over_when_full(template):
    pages = ScanPages(max_entries=3)
    for serial in range(1, 6):
        _assert_same(pages, template, replace(BASE, batch_no=f"B{serial}", serial=serial))
    assert 1 <= len(pages._entries) <= 3


def test_any_branch_on_a_per_code_field_is_followed(app):
    """Other tests on the count than the page's own, and method calls on it."""
    source = (
        "{% if v.scan_count >= 3 %}many{% elif v.scan_count == 2 %}two{% endif %}"
        "{% if not v.first_scanned_at %}never{% endif %}"
        "[{{ v.code.lower() }}|{{ v.serial|string }}|{{ v.scan_count }}]"
    )
    with app.app_context():
        template = app.jinja_env.from_string(source)
    pages = ScanPages()
    for count in (1, 2, 3, 9, 2, 1):
        for first in (FIRST, None):
            view = replace(BASE, scan_count=count, first_scanned_at=first, code=f"AB{count}")
            _assert_same(pages, template, view)


def test_a_template_that_rewrites_a_field_is_rendered_by_jinja(app):
    with app.app_context():
        template = app.jinja_env.from_string("{{ v.code|string|reverse }} {{ v.brand }}")
    pages = ScanPages()
    for code in ("ABC", "XYZ"):
        assert pages.page(template, replace(BASE, code=code), SHANGHAI) == _jinja(
            template, replace(BASE, code=code)
        )
    assert not pages._entries


def test_per_code_fields_compared_with_each_other_are_refused(app):
    with app.app_context():
        template = app.jinja_env.from_string("{% if v.scan_count > v.serial %}x{% endif %}")
    with pytest.raises(TypeError):
        ScanPages().page(template, BASE, SHANGHAI)


def test_the_scan_page_is_served_from_kept_renderings(stocked, monkeypatch):
    """Through /t/<code>: each code's page is Jinja's rendering of its own view, and the
    codes of the batch share one kept catalog part."""
    client = stocked.team.client
    served, page = [], ScanPages.page

    def recorded(pages, template, view, tz):
        served.append((template, view, tz, page(pages, template, view, tz)))
        return served[-1][-1]

    monkeypatch.setattr(ScanPages, "page", recorded)
    client.application.extensions.pop("trace.scan_pages", None)
    codes = [stocked.codes[n]["code"] for n in (0, 1, 0, 2, 0)]
    bodies = [scan(client, code).get_data() for code in codes]
    assert [view.code for _, view, _, _ in served] == codes
    assert [view.scan_count for _, view, _, _ in served] == [1, 1, 2, 1, 3]
    for body, (template, view, tz, html) in zip(bodies, served, strict=True):
        assert body == html == _jinja(template, view, tz)
    assert len(client.application.extensions["trace.scan_pages"]._entries) == 1


def test_templates_that_reload_are_rendered_by_jinja_every_time(app, template):
    env, expected = app.jinja_env, _jinja(template, BASE).decode()
    reloading = env.auto_reload
    with app.app_context():
        env.auto_reload = True
        try:
            assert scan_html.render("trace/scan.html", BASE, SHANGHAI) == expected
        finally:
            env.auto_reload = reloading
