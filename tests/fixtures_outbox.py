"""Pytest plugin: an app wired to the fake WeChat server with notice template ids set."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.core.config import NOTICE_TEMPLATE_VARS
from tests.conftest import REDIS_URL, _truncate, env_for_tests
from tests.fakewechat import fake_settings

TEMPLATE_IDS = {name: f"tpl-{name.lower().replace('_', '-')}" for name in NOTICE_TEMPLATE_VARS}
MINI_OPENID, MP_OPENID = "oMini000000000000000000001", "oMp00000000000000000000001"


def outbox_env(fake_url: str, **extra) -> dict:
    """Test settings: the fake server, every template id, a window open all day."""
    return env_for_tests(
        **fake_settings(fake_url),
        **TEMPLATE_IDS,
        PUBLIC_BASE_URL="https://crm.example.com",
        NOTICE_WINDOW_START="00:00",
        NOTICE_WINDOW_END="23:59",
        **extra,
    )


@pytest.fixture(scope="session")
def outbox_app(app, fake_wechat_server):
    from app import create_app

    return create_app(outbox_env(fake_wechat_server.url))


@pytest.fixture
def octx(outbox_app, fake_wechat):
    """A clean database, the fake server reset, an app context of the outbox app."""
    from app.core.extensions import db

    _truncate(outbox_app)
    with outbox_app.app_context():
        yield outbox_app
        db.session.remove()


@pytest.fixture
def redis_outbox_app(app, fake_wechat, redis_conn):
    """The outbox app with REDIS_URL: jobs go to RQ queues."""
    from app import create_app
    from app.core.extensions import db

    _truncate(app)
    application = create_app(outbox_env(fake_wechat.url, REDIS_URL=REDIS_URL))
    with application.app_context():
        yield application
        db.session.remove()


@pytest.fixture
def make_customer():
    """A customer with the given ways to reach them (call inside an app context)."""
    from app.core.extensions import db
    from app.models import Customer, CustomerIdentity, MessageConsent

    def make(
        name="王女士",
        *,
        mini=0,
        mp=True,
        subscribed=True,
        inbound_at: datetime | None = None,
        owner=None,
        n=1,
        **fields,
    ):
        customer = Customer(name=name, owner_id=owner.id if owner else None, **fields)
        db.session.add(customer)
        db.session.flush()
        if mini is not None:
            db.session.add(
                CustomerIdentity(
                    customer_id=customer.id,
                    kind="mini_openid",
                    app_id="wxfake00000000mini",
                    value=f"{MINI_OPENID[:-1]}{n}",
                )
            )
            for template in (
                TEMPLATE_IDS["WECHAT_MINI_TPL_PROGRESS"],
                TEMPLATE_IDS["WECHAT_MINI_TPL_MAINTENANCE"],
            ):
                db.session.add(
                    MessageConsent(
                        customer_id=customer.id,
                        channel="mini",
                        template_id=template,
                        remaining=mini,
                    )
                )
        if mp:
            db.session.add(
                CustomerIdentity(
                    customer_id=customer.id,
                    kind="mp_openid",
                    app_id="wxfake0000000000mp",
                    value=f"{MP_OPENID[:-1]}{n}",
                    subscribed=subscribed,
                    last_inbound_at=inbound_at,
                )
            )
        db.session.commit()
        return customer

    return make


@pytest.fixture
def new_staff():
    """new_staff(name, roles, **fields) -> (staff, bearer headers), in the current app."""
    from app.core.extensions import db
    from app.services.customers import staff as staff_service

    def make(name="李销售", roles="sales", **fields):
        member = staff_service.create(name, roles, **fields)
        db.session.commit()
        token = staff_service.issue_token(member)
        db.session.commit()
        return member, {"Authorization": f"Bearer {token}"}

    return make
