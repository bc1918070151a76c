"""`make run`'s demo data: its logins work in the console and each has something to see."""

from app.cli.seed import DEMO_PASSWORD
from tests.console.helpers import second_browser, sign_in, text


def test_demo_logins_work_in_the_console(client):
    assert client.application.test_cli_runner().invoke(args=["seed", "demo"]).exit_code == 0
    assert sign_in(client, "李销售", DEMO_PASSWORD).status_code == 302
    page = text(client.get("/console/customers"))
    assert "customer-row" in page
    assert "请跟进" in text(client.get("/console/tasks"))
    client = second_browser(client.application)
    assert sign_in(client, "周项目", DEMO_PASSWORD).status_code == 302
    assert "验收" in text(client.get("/console/projects"))
    client = second_browser(client.application)
    assert sign_in(client, "13800000001", DEMO_PASSWORD).status_code == 302  # 管理员's phone
