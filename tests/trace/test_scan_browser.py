"""The scan page in headless Chromium on a phone-sized screen: what a homeowner sees, and
not one request leaving this server (Debian's chromium driven by Playwright)."""

import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from tests.trace.helpers import deliver
from tests.trace.test_scan_page import IPHONE

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def live(stocked):
    """The test app served over HTTP on a loopback port."""
    server = make_server("127.0.0.1", 0, stocked.team.client.application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def phone():
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            user_agent=IPHONE,
            locale="zh-CN",
        )
        page = context.new_page()
        page.requested = []
        page.on("request", lambda request: page.requested.append(request.url))
        yield page
        browser.close()


def test_a_homeowner_sees_the_material_on_a_phone(stocked, live, phone, tmp_path):
    deliver(stocked.team, stocked.batch["id"])
    code = stocked.codes[0]["code"]
    response = phone.goto(f"{live}/t/{code}")
    assert response.status == 200
    assert "溯源码有效" in phone.locator(".verdict").inner_text()
    assert phone.locator("h1").inner_text() == "东鹏 通体大理石瓷砖"
    body = phone.locator("body").inner_text()
    for seen in (
        "批次号\nB20261101",
        "生产日期\n2026-10-08",
        "放射性\tA类",
        "「锦绣苑」小区",
        "已被查询 1 次",
    ):
        assert seen in body, seen
    for hidden in ("张业主", "锦绣路", "1201"):
        assert hidden not in body
    # Mobile-first: nothing is wider than the screen, the text is not shrunk to fit.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.evaluate("getComputedStyle(document.body).fontSize") == "16px"
    phone.screenshot(path=str(tmp_path / "scan-page.png"), full_page=True)
    assert (tmp_path / "scan-page.png").stat().st_size > 10_000
    assert phone.requested and all(url.startswith(live + "/") for url in phone.requested)


def test_an_unknown_code_warns_the_buyer(stocked, live, phone, tmp_path):
    response = phone.goto(f"{live}/t/2222222222222222A")
    assert response.status == 404
    assert "未查询到该溯源码，请谨慎购买" in phone.locator(".verdict").inner_text()
    phone.screenshot(path=str(tmp_path / "not-issued.png"), full_page=True)
    assert all(url.startswith(live + "/") for url in phone.requested)
