"""/t/<code> through the test client: what a homeowner reads, scans recorded, 404, 429."""

import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import TimelineEvent, TraceCode, TraceScan
from app.services.trace import codes
from tests.trace.helpers import deliver

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
NOT_ISSUED = "未查询到该溯源码，请谨慎购买"


def scan(client, code: str, ua: str = IPHONE, address: str = "203.0.113.7"):
    return client.get(
        f"/t/{code}", headers={"User-Agent": ua}, environ_base={"REMOTE_ADDR": address}
    )


def test_the_page_shows_the_material_and_the_community_never_the_person(stocked):
    team = stocked.team
    deliver(team, stocked.batch["id"])
    code = stocked.codes[4]["code"]
    page = scan(team.client, code)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    for shown in (
        "东鹏 通体大理石瓷砖",
        "YT-B20261101",
        "B20261101",
        "2026-10-08",
        "放射性",
        "A类",
        "国家建筑材料质量检验检测中心",
        "CG-2026-0113",
        "「锦绣苑」小区",
        "第 5 号",
        "已被查询 <strong>1</strong> 次",
    ):
        assert shown in html, shown
    for hidden in ("张业主", "锦绣路", "1201", "李销售", "王项目"):
        assert hidden not in html, hidden
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    second = scan(team.client, code, address="198.51.100.20").get_data(as_text=True)
    assert "已被查询 <strong>2</strong> 次" in second and "首次查询于" in second


def test_each_scan_is_stored_with_coarse_client_info(stocked):
    code = stocked.codes[0]["code"]
    scan(stocked.team.client, code)
    scan(stocked.team.client, code, ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120")
    rows = db.session.scalars(select(TraceScan).order_by(TraceScan.id)).all()
    assert [(r.os, r.device, r.network, r.channel) for r in rows] == [
        ("iOS", "mobile", "203.0.113.0/24", "web"),
        ("Windows", "desktop", "203.0.113.0/24", "web"),
    ]
    assert rows[0].client != rows[1].client and len(rows[0].client) == 16
    assert rows[0].customer_id is None and "203.0.113.7" not in str([r.__dict__ for r in rows])
    stored = db.session.scalars(select(TraceCode).filter_by(code=code)).one()
    assert stored.scan_count == 2 and stored.first_scanned_at == rows[0].scanned_at
    assert (
        db.session.scalar(
            select(func.count()).select_from(TimelineEvent).filter_by(kind="material_scanned")
        )
        == 0
    )


@pytest.mark.parametrize(
    "code",
    [
        "2222222222222222A",
        "",
        "abc",
        "lowercase",
        "' OR 1=1 --",
        "%00",
        "X" * 400,
        "222222222222222222",
    ],
)
def test_unknown_and_malformed_codes_get_the_same_404(stocked, code):
    page = scan(stocked.team.client, code)
    if code == "":  # /t/ itself is no page
        assert page.status_code == 404
        return
    assert page.status_code == 404 and NOT_ISSUED in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(TraceScan)) == 0


def test_a_lower_case_code_is_not_the_code(stocked):
    code = stocked.codes[0]["code"]
    assert scan(stocked.team.client, code.lower()).status_code == 404
    assert scan(stocked.team.client, code + "2").status_code == 404
    assert scan(stocked.team.client, code).status_code == 200


def test_enumeration_is_429_per_client(stocked):
    client, limit = stocked.team.client, stocked.team.client.application.config["TRACE_SCAN_LIMIT"]
    guesses = [codes.new_code() for _ in range(limit)]
    assert all(scan(client, g).status_code == 404 for g in guesses)
    blocked = scan(client, codes.new_code())
    assert blocked.status_code == 429 and "查询过于频繁" in blocked.get_data(as_text=True)
    assert scan(client, stocked.codes[0]["code"]).status_code == 429  # even an issued one
    assert scan(client, stocked.codes[0]["code"], address="198.51.100.9").status_code == 200


def test_one_ipv6_subscriber_is_one_client_for_the_limit(stocked):
    """A phone or a home holds a whole IPv6 /64: each address of it is not a new client."""
    client, limit = stocked.team.client, stocked.team.client.application.config["TRACE_SCAN_LIMIT"]
    guesses = [codes.new_code() for _ in range(limit)]
    for n, guess in enumerate(guesses):
        assert scan(client, guess, address=f"2001:db8:1:2::{n + 1:x}").status_code == 404
    assert scan(client, codes.new_code(), address="2001:db8:1:2:ffff::1").status_code == 429
    assert scan(client, stocked.codes[0]["code"], address="2001:db8:1:3::1").status_code == 200
    for _ in range(limit):  # IPv4 clients on a dual-stack socket are each their own
        scan(client, codes.new_code(), address="::ffff:198.51.100.9")
    assert scan(client, stocked.codes[0]["code"], address="::ffff:198.51.100.10").status_code == 200


@pytest.mark.redis
def test_the_limit_is_counted_in_redis_when_configured(stocked, redis_conn):
    from app import create_app
    from tests.conftest import REDIS_URL, env_for_tests

    app = create_app(env_for_tests(REDIS_URL=REDIS_URL, TRACE_SCAN_LIMIT="5"))
    first, second = app.test_client(), app.test_client()  # as two web processes would be
    code = stocked.codes[0]["code"]
    assert [scan(c, code).status_code for c in (first, second, first, second, first)] == [200] * 5
    assert scan(second, code).status_code == 429
    assert any(b"trace-scan" in k for k in redis_conn.scan_iter("zxcrm*"))


@pytest.mark.redis
def test_the_limit_survives_a_redis_that_forgot_its_scripts(stocked, redis_conn):
    from app import create_app
    from tests.conftest import REDIS_URL, env_for_tests

    env = env_for_tests(REDIS_URL=REDIS_URL, TRACE_SCAN_LIMIT="3")
    client = create_app(env).test_client()
    code = stocked.codes[0]["code"]
    assert scan(client, code).status_code == 200
    redis_conn.script_flush()  # as after a Redis restart
    assert [scan(client, code).status_code for _ in range(3)] == [200, 200, 429]


def test_the_report_is_linked_and_served_sandboxed(stocked, uploads):
    import io

    from tests.trace.helpers import api, pdf_bytes

    team, code = stocked.team, stocked.codes[0]["code"]
    assert "查看质检报告" not in scan(team.client, code).get_data(as_text=True)
    data = {"report": (io.BytesIO(pdf_bytes()), "r.pdf")}
    api(
        team,
        "post",
        f"/trace/batches/{stocked.batch['id']}/report",
        data=data,
        content_type="multipart/form-data",
    )
    assert f'href="/t/{code}/report"' in scan(team.client, code).get_data(as_text=True)
    report = team.client.get(f"/t/{code}/report")
    assert report.status_code == 200 and report.mimetype == "application/pdf"
    assert report.headers["Content-Security-Policy"] == "sandbox"
    assert team.client.get("/t/2222222222222222A/report").status_code == 404
