"""The console in a real browser: Debian's Chromium driven by Playwright, headless.

Each test saves a screenshot of every page it visits under its temporary folder (printed
at the end of the test, `pytest -s` shows where)."""

from __future__ import annotations

import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.core.extensions import db
from app.models import ProgressEntry, ProjectNode
from app.models.types import utcnow
from app.services.tagging import tagging
from tests.console.helpers import PASSWORD, customer_of, mp_identity, project_for, say
from tests.projects.helpers import jpeg_with_gps, png_bytes

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking"]


@pytest.fixture
def live(app, ctx):
    """The app served on a loopback port for the browser (threads share the test database)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("chromium is not installed: run `make test`, which installs it (see README)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


class Shots:
    """page.screenshot into tmp_path/screens, numbered in the order taken."""

    def __init__(self, page, folder: Path) -> None:
        self.page, self.folder, self.n = page, folder, 0
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(self.folder / f"{self.n:02d}-{name}.png"), full_page=True)


def _page(browser, tmp_path, **options):
    context = browser.new_context(locale="zh-CN", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return context, page, Shots(page, tmp_path / "screens"), dialogs


def _sign_in(page, live, login, shot):
    page.goto(f"{live}/")
    assert "/console/login" in page.url
    shot("login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/customers")


def test_rep_works_a_customer_from_list_to_reply(browser, live, people, wx, tmp_path):
    rep = people["sales"]
    customer = customer_of(rep, "王女士")
    event = say(customer, "新房想做北欧风，预算二十万")
    tagging.tag_event(event)
    mp_identity(customer, "oBrowserRep0000000000000001", utcnow() - timedelta(hours=1))
    customer_of(rep, "没有标签的客户")
    db.session.commit()
    context, page, shot, dialogs = _page(browser, tmp_path, viewport={"width": 1280, "height": 900})
    _sign_in(page, live, "李销售", shot)
    shot("customers")
    page.fill("#tag", "风格:北欧")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**tag=*")
    names = page.locator(".customer-row .name").all_inner_texts()
    assert names == ["王女士"]
    shot("customers-by-tag")
    page.click("text=王女士")
    page.wait_for_url(f"**/console/customers/{customer.id}")
    shot("customer")

    page.fill("#tags input#tag", "关注:环保")
    page.click("#tags button[type=submit]:has-text('添加标签')")
    page.wait_for_selector(".flash.ok")
    assert page.locator("#tags .tag-list").inner_text().count("关注:环保") == 1

    page.fill("#note textarea[name=text]", "周六带家人来看样板间")
    page.click("#note button[type=submit]")
    page.wait_for_selector(".flash.ok")

    page.fill("#reply textarea[name=text]", "好的，周六上午十点等您")
    page.click("#reply button[type=submit]")
    page.wait_for_selector(".flash.ok")
    shot("customer-after")
    timeline = page.locator("#timeline .timeline").inner_text()
    for expected in ("添加标签", "关注:环保", "周六带家人来看样板间", "好的，周六上午十点等您"):
        assert expected in timeline
    assert wx.count("/cgi-bin/message/custom/send") == 1
    assert dialogs == []
    context.close()


def test_pm_on_a_phone_posts_a_log_with_two_photos_and_marks_a_node(
    browser, live, people, uploads, tmp_path
):
    customer = customer_of(people["sales"], "张业主")
    project = project_for(customer, actor=people["manager"], pm=people["pm"])
    node = project.nodes[0]
    node.status = "in_progress"
    db.session.commit()
    files = tmp_path / "camera"
    files.mkdir()
    (files / "1.jpg").write_bytes(jpeg_with_gps())
    (files / "2.png").write_bytes(png_bytes((800, 600)))
    phone = {"width": 375, "height": 812}
    context, page, shot, _ = _page(
        browser, tmp_path, viewport=phone, is_mobile=True, has_touch=True
    )
    _sign_in(page, live, "周项目", shot)
    page.click("header nav >> text=工地")
    page.wait_for_url("**/console/projects")
    shot("projects")
    page.click(f"text=#{project.id}")
    page.wait_for_url(f"**/console/projects/{project.id}")
    shot("project")
    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.select_option("#log select[name=node_id]", str(node.id))
    page.fill("#log textarea[name=text]", "水电开槽布管完成")
    page.set_input_files("#photos", [str(files / "1.jpg"), str(files / "2.png")])
    page.click("#log button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert page.locator("#feed .photos img").count() == 2
    page.click(f"li[data-node='{node.name}'] button:has-text('标记待验收')")
    page.wait_for_selector(".flash.ok")
    assert "待验收" in page.locator(f"li[data-node='{node.name}'] .status").inner_text()
    shot("project-after")
    db.session.expire_all()
    assert db.session.get(ProjectNode, node.id).status == "pending_acceptance"
    assert len(db.session.query(ProgressEntry).one().photos) == 2
    context.close()


def test_another_rep_cannot_open_the_first_reps_customer(browser, live, people, tmp_path):
    customer = customer_of(people["sales"], "李的客户")
    context, page, shot, _ = _page(browser, tmp_path)
    _sign_in(page, live, "赵销售", shot)
    assert "李的客户" not in page.locator("#customers").inner_text()
    response = page.goto(f"{live}/console/customers/{customer.id}")
    assert response.status == 404
    assert "客户不存在" in page.inner_text("main") and "李的客户" not in page.content()
    shot("not-found")
    context.close()


def test_a_timeline_holding_a_script_runs_none(browser, live, people, tmp_path):
    rep = people["sales"]
    customer = customer_of(rep, "<img src=x onerror=alert(3)>")
    say(customer, "<script>alert(1)</script>")
    say(customer, '<img src=x onerror="alert(2)">', minutes_ago=1)
    context, page, shot, dialogs = _page(browser, tmp_path)
    _sign_in(page, live, "李销售", shot)
    shot("customers")
    page.goto(f"{live}/console/customers/{customer.id}")
    page.wait_for_load_state("load")
    shot("customer")
    timeline = page.locator("#timeline .timeline").inner_text()
    assert "<script>alert(1)</script>" in timeline and "onerror" in timeline
    assert page.locator("#timeline script, #timeline img").count() == 0
    assert dialogs == []
    context.close()


def test_a_rep_logs_a_follow_up_with_a_next_time_and_sees_it_on_the_task_list(
    browser, live, people, tmp_path
):
    from app.models import FollowUp

    customer = customer_of(people["sales"], name="孙女士")
    context, page, shot, _ = _page(browser, tmp_path)
    _sign_in(page, live, "李销售", shot)
    page.goto(f"{live}/console/customers/{customer.id}")
    page.select_option("#method", "到店")
    page.fill("#content", "带客户看了样板间")
    page.fill("#result", "想要北欧风")
    # A few minutes from now in Asia/Shanghai (the field is local time): due today.
    soon = (utcnow() + timedelta(hours=8, minutes=3)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#next_at", soon)
    shot("follow-up-form")
    page.click("#followups button[type=submit]")
    page.wait_for_url(f"**/console/customers/{customer.id}#followups")
    assert "带客户看了样板间" in page.inner_text("#followups")
    shot("follow-up-logged")
    db.session.expire_all()
    assert db.session.query(FollowUp).one().staff_id == people["sales"].id
    page.click("header nav >> text=任务")
    page.wait_for_url("**/console/tasks")
    due = page.inner_text("#followups-due")
    shot("task-list")
    context.close()
    assert "孙女士" in due and "带客户看了样板间" in due
