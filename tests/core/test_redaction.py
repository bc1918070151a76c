"""No secret, token or login code in a log line or a stored error (issue 12, item 11).

When WeChat cannot be reached, requests' exception text carries the request URL, and the
URL carries the AppSecret (token fetch, code2Session), the corpsecret (gettoken), the
access_token (every other call) and the user's login code. Each call is made to fail here
against a closed port, the way an outage does, and the app's own log handler and the rows
are searched for every secret.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app import create_app
from app.core.extensions import db
from app.models import Customer, CustomerIdentity, Notice, Staff
from tests.conftest import REDIS_URL, env_for_tests
from tests.fixtures_outbox import TEMPLATE_IDS

CLOSED = "http://127.0.0.1:9"  # nothing listens: what an outage looks like to requests
SECRETS = {
    "WECHAT_MP_SECRET": "MpAppSecret0f3c9a7d1e",
    "WECHAT_MINI_SECRET": "MiniAppSecret8b2e4f6a",
    "WECOM_SECRET": "CorpSecretForTheApp5d7e",
    "WECOM_CONTACT_SECRET": "CorpSecretForContacts9c1a",
}
LOGIN_CODE = "0c3LoginCode7xQ2Zr"
TOKEN = "ACCESS_TOKEN_Zk92hdKq0aLm"


@pytest.fixture
def outage(ctx):
    """An app whose WeChat and WeCom are unreachable, with distinctive secrets."""
    app = create_app(
        env_for_tests(
            **SECRETS,
            **TEMPLATE_IDS,
            WECHAT_API_BASE=CLOSED,
            WECOM_API_BASE=CLOSED,
            NOTICE_WINDOW_START="00:00",
            NOTICE_WINDOW_END="23:59",
            NOTICE_MAX_ATTEMPTS="1",
        )
    )
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def app_log():
    """What the app's own log handler (JSON lines on stdout) writes during the test."""
    root = logging.getLogger()
    handlers = [h for h in root.handlers if type(h) is logging.StreamHandler]
    assert handlers, "configure_logging installs a stdout handler on the root logger"
    buffer, streams, level = io.StringIO(), [h.stream for h in handlers], root.level
    for handler in handlers:
        handler.setStream(buffer)
    root.setLevel(logging.DEBUG)
    yield buffer
    root.setLevel(level)
    for handler, stream in zip(handlers, streams, strict=True):
        handler.setStream(stream)


def assert_nowhere(haystack: str, *needles: str) -> None:
    """Neither a secret nor a leading part of one (a truncated log line cut it short)."""
    assert haystack, "the failure was logged or stored"
    for needle in needles:
        assert needle[:8] not in haystack, f"{needle[:8]}… leaked: {haystack[:2000]}"


def _seed_token(client) -> None:
    """The access token is cached (fetched before the outage): the next call carries it."""
    client.session.set(client.access_token_key, TOKEN, 7200)


def test_mini_login_during_an_outage_logs_neither_the_appsecret_nor_the_code(outage, app_log):
    response = outage.test_client().post("/mini/v1/login", json={"code": LOGIN_CODE})
    assert response.status_code == 502
    assert_nowhere(app_log.getvalue(), SECRETS["WECHAT_MINI_SECRET"], LOGIN_CODE)


def _mp_customer(openid: str = "oOUTAGE000000000000000001") -> Customer:
    customer = Customer(name="王女士")
    db.session.add(customer)
    db.session.flush()
    db.session.add(
        CustomerIdentity(
            customer_id=customer.id,
            kind="mp_openid",
            app_id="wx2c2769f8efd9abc2",
            value=openid,
            subscribed=True,
        )
    )
    db.session.commit()
    return customer


def test_profile_fetch_logs_neither_the_mp_secret_nor_the_access_token(outage, app_log):
    from app.core import wechat
    from app.services.inbound import profiles

    profiles.prefetch([_mp_customer()])  # the token fetch fails
    _seed_token(wechat.mp_client())
    profiles.prefetch([_mp_customer("oOUTAGE000000000000000002")])  # user/info/batchget fails
    assert app_log.getvalue().count("profile fetch failed") == 2
    assert_nowhere(app_log.getvalue(), SECRETS["WECHAT_MP_SECRET"], TOKEN)


def _staff_alert(name: str, userid: str) -> Notice:
    from app.services.notices import outbox

    staff = Staff(name=name, roles="pm", wecom_userid=userid)
    db.session.add(staff)
    db.session.flush()
    notice = outbox.notify_staff(
        "node-delayed",
        staff,
        f"node:{userid}",
        project_id=7,
        project_name="翠湖天地",
        node="木工",
        planned_on="2026-11-20",
        days_late=2,
    )
    db.session.commit()  # sent in-process at the commit (no REDIS_URL)
    db.session.expire_all()
    return db.session.get(Notice, notice.id)


def test_wecom_sends_store_neither_the_corpsecret_nor_the_access_token(outage, app_log):
    from app.core import wechat

    failed_token = _staff_alert("周经理", "zhoujl")  # gettoken fails
    _seed_token(wechat.wecom_client())
    failed_send = _staff_alert("吴经理", "wujl")  # message/send fails
    for notice in (failed_token, failed_send):
        assert notice.channel == "wecom" and notice.last_error
    rows = " ".join(n.last_error for n in db.session.scalars(select(Notice)))
    assert_nowhere(rows + app_log.getvalue(), SECRETS["WECOM_SECRET"], TOKEN)


def test_official_account_sends_store_neither_the_secret_nor_the_access_token(outage, app_log):
    from app.core import wechat
    from app.services.notices import outbox

    for n, seeded in enumerate((False, True)):
        if seeded:
            _seed_token(wechat.mp_client())
        customer = _mp_customer(f"oOUTAGE00000000000000000{n}9")
        outbox.notify_customer(
            "node-acceptance",
            customer,
            f"node:{n}",
            project_id=7,
            project_name="翠湖天地3栋1202",
            node="水电改造",
            at=(datetime.now(UTC) + timedelta(days=1)).isoformat(),
        )
        db.session.commit()
    errors = [n.last_error for n in db.session.scalars(select(Notice))]
    assert len(errors) == 2 and all(errors)
    assert_nowhere(" ".join(errors) + app_log.getvalue(), SECRETS["WECHAT_MP_SECRET"], TOKEN)


def test_an_unhandled_error_carrying_a_secret_is_logged_redacted(outage, app_log):
    log = logging.getLogger("app.test")
    try:
        raise RuntimeError(
            f"GET /cgi-bin/gettoken?corpid=ww1&corpsecret={SECRETS['WECOM_SECRET']} failed"
        )
    except RuntimeError:
        log.exception("boom: %s", {"access_token": TOKEN, "js_code": LOGIN_CODE})
    log.warning("wechat unreachable", extra={"url": f"/sns/jscode2session?js_code={LOGIN_CODE}"})
    written = app_log.getvalue()
    assert "boom" in written and "gettoken" in written and "jscode2session" in written
    assert_nowhere(written, SECRETS["WECOM_SECRET"], TOKEN, LOGIN_CODE)


NOTE = "客户说家里钥匙放在门口地垫下"  # what a bound parameter can be: a customer's note


def _failing_insert() -> str:
    """An INSERT that fails (no such customer) with a customer's words bound to it."""
    try:
        db.session.execute(
            text(
                "INSERT INTO timeline_events (customer_id, occurred_at, kind, channel,"
                " direction, actor_type, payload, needs_enrichment, created_at)"
                " VALUES (:cid, :at, 'note', 'console', 'internal', 'staff', :payload, false, :at)"
            ),
            {"cid": 999_999, "at": datetime.now(UTC), "payload": f'{{"text": "{NOTE}"}}'},
        )
        db.session.flush()
    except Exception as exc:  # noqa: BLE001 - whatever the database raised
        db.session.rollback()
        logging.getLogger("app.test").exception("database error")
        return str(exc)
    raise AssertionError("the insert should have failed")


@pytest.fixture
def production(ctx):
    app = create_app(env_for_tests(APP_ENV="production", REDIS_URL=REDIS_URL))
    with app.app_context():
        yield app
        db.session.remove()


def test_production_database_errors_hide_their_bound_parameters(production, app_log):
    message = _failing_insert()
    assert "hide_parameters" in message
    assert NOTE not in message and NOTE not in app_log.getvalue()


def test_development_and_test_database_errors_keep_them(ctx):
    assert NOTE in _failing_insert()  # so a developer sees what failed
