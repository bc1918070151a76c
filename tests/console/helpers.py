"""Console test helpers: sign in through the form, post forms with their CSRF token."""

from __future__ import annotations

import re

import pytest
from flask import g
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from app.core import rate_limit
from app.core.extensions import db
from app.models import Customer, Project
from app.services.customers import staff as staff_service
from app.services.desk import submissions

PASSWORD = "s3cret-pass"
# Real accounts get werkzeug's scrypt (tested in test_sign_in); fixtures take a cheap hash of
# the same password so a test with a dozen staff does not spend a second hashing.
CHEAP_HASH = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")
TOKEN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_of(client, url: str = "/console/login") -> str:
    page = client.get(url)
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {url}"
    return found.group(1) or found.group(2)


def sign_in(client, login: str, password: str = PASSWORD):
    token = csrf_of(client)
    return client.post(
        "/console/login", data={"csrf_token": token, "login": login, "password": password}
    )


def post(client, url: str, data: dict | None = None, page: str | None = None, **kwargs):
    """POST a console form with a valid token taken from `page` (default: the password page)
    and, unless `data` has one, a fresh one-time nonce (a create form loaded just now)."""
    token = csrf_of(client, page or "/console/password")
    nonce = {"nonce": submissions.new_nonce()}
    return client.post(url, data={"csrf_token": token, **nonce, **(data or {})}, **kwargs)


def nonce_of(client, url: str, form_action: str) -> str:
    """The one-time nonce of the form posting to `form_action` on the page at `url`."""
    page = client.get(url).get_data(as_text=True)
    found = re.search(
        rf'action="{re.escape(form_action)}"[^>]*>.*?name="nonce" type="hidden" value="([^"]+)"',
        page,
        re.S,
    )
    assert found, f"no nonce for {form_action} on {url}"
    return found.group(1)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture(autouse=True)
def fresh_limits(app):
    """The in-process sign-in counters belong to the session-wide app: start each test clean."""
    rate_limit.forget(app)
    yield
    rate_limit.forget(app)


@pytest.fixture
def people(make_staff):
    """A store's team and a rep of another store, each with the password PASSWORD."""

    def make(name, roles, store="城东旗舰店", **kw):
        member = make_staff(name, roles, store, **kw)
        member.password_hash = CHEAP_HASH
        db.session.commit()
        return member

    team = {
        "admin": make("管理员", "admin", None),
        "manager": make("王店长", "manager"),
        "sales": make("李销售", "sales", phone="13800001111"),
        "sales2": make("赵销售", "sales"),
        "designer": make("陈设计", "designer"),
        "pm": make("周项目", "pm"),
        "supervisor": make("吴监理", "supervisor"),
        "service": make("郑客服", "service"),
        "west_manager": make("孙店长", "manager", "城西体验店"),
        "west_sales": make("钱销售", "sales", "城西体验店"),
        "west_pm": make("褚项目", "pm", "城西体验店"),
    }
    return team


def customer_of(owner, name="张女士", **fields) -> Customer:
    customer = Customer(name=name, owner_id=owner.id, store_id=owner.store_id, **fields)
    db.session.add(customer)
    db.session.commit()
    return customer


def project_for(customer, **team) -> Project:
    """A project of `customer` with the given team (pm=…, designer=…, supervisor=…) and the
    default nodes."""
    from app.services.projects import projects

    actor = team.pop("actor")
    fields = {f"{role}_id": member.id for role, member in team.items()}
    project = projects.create(
        customer, actor, {"address": "锦绣路 100 号", "community": "锦绣苑", **fields}
    )
    db.session.commit()
    return project


def api_headers(member) -> dict:
    token = staff_service.issue_token(member)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


class ConsoleClient(FlaskClient):
    """The tests keep one app context open across requests, so Flask's `g` would carry one
    request's CSRF token into the next (a browser's requests never share it): forget it."""

    def open(self, *args, **kwargs):
        for key in ("csrf_token", "staff"):
            g.pop(key, None)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(ctx):
    ctx.test_client_class = ConsoleClient
    try:
        return ctx.test_client()
    finally:
        ctx.test_client_class = None


def second_browser(app) -> ConsoleClient:
    """Another browser: its own cookies."""
    return ConsoleClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def wx(app, fake_wechat):
    """The app talks to the fake WeChat server (with every notice template id) for one test."""
    from tests.fakewechat import fake_settings
    from tests.fixtures_outbox import TEMPLATE_IDS

    settings = {**fake_settings(fake_wechat.url), **TEMPLATE_IDS, "NOTICE_WINDOW_START": (0, 0)}
    saved = {key: app.config.get(key) for key in settings}
    app.config.update(settings)
    app.extensions.pop("wechat_clients", None)
    yield fake_wechat
    app.config.update(saved)
    app.extensions.pop("wechat_clients", None)


def mp_identity(customer, openid: str, last_inbound_at=None):
    """An official-account identity; `last_inbound_at` opens the 48-hour window."""
    from app.models import CustomerIdentity
    from tests.fakewechat import MP_APPID

    row = CustomerIdentity(
        customer_id=customer.id,
        kind="mp_openid",
        app_id=MP_APPID,
        value=openid,
        subscribed=True,
        last_inbound_at=last_inbound_at,
    )
    db.session.add(row)
    db.session.commit()
    return row


def say(customer, text: str, minutes_ago: int = 5, kind: str = "message"):
    """The customer wrote `text` on the official account (a timeline event)."""
    from datetime import timedelta

    from app.models.types import utcnow
    from app.services.customers import timeline

    event = timeline.record(
        customer,
        kind,
        channel="mp",
        direction="inbound",
        actor_type="customer",
        payload={"msg_type": "text", "content": text},
        occurred_at=utcnow() - timedelta(minutes=minutes_ago),
    )
    db.session.commit()
    return event
