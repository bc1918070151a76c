"""Scanning a referral QR (official account follow or SCAN, a WeCom contact way's state)
attributes the new lead, through the callbacks and enrichment that already exist."""

import pytest
from sqlalchemy import select

from app import create_app
from app.core.extensions import db
from app.models import Customer, CustomerIdentity, Referral
from tests import wxsign
from tests.conftest import env_for_tests
from tests.referrals.helpers import code_of, person

MP_APPID, CORP = "wx2c2769f8efd9abc2", "wx5823bf96d3bd56c7"


@pytest.fixture
def callbacks(ctx, fake_wechat):
    fake_wechat.add_app(MP_APPID, "mp-secret")
    fake_wechat.add_corp_secret(CORP, "wecom-contact-secret", contact=True)
    app = create_app(env_for_tests(WECHAT_API_BASE=fake_wechat.url, WECOM_API_BASE=fake_wechat.url))
    client = app.test_client()
    client.fake = fake_wechat
    return client


@pytest.fixture
def referrer(ctx):
    customer = person("王业主")
    db.session.commit()
    return customer


def _event(openid: str, event: str, key: str) -> str:
    return (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName>"
        f"<CreateTime>{wxsign.now()}</CreateTime><MsgType>event</MsgType>"
        f"<Event>{event}</Event><EventKey>{key}</EventKey><Ticket>T</Ticket></xml>"
    )


def _referee(kind: str, value: str) -> Customer:
    identity = db.session.scalars(select(CustomerIdentity).filter_by(kind=kind, value=value)).one()
    return identity.customer


@pytest.mark.parametrize(("event", "prefix"), [("subscribe", "qrscene_"), ("SCAN", "")])
def test_an_official_account_qr_with_r_code_attributes(callbacks, referrer, event, prefix):
    callbacks.fake.add_user("oFriend1", nickname="小李")
    path, body = wxsign.mp_plain(_event("oFriend1", event, f"{prefix}r_{code_of(referrer)}"))
    db.session.commit()
    assert callbacks.post(path, data=body).data == b"success"
    referee = _referee("mp_openid", "oFriend1")
    referral = db.session.scalars(select(Referral)).one()
    assert (referral.referrer_id, referral.referee_id, referral.channel, referral.status) == (
        referrer.id,
        referee.id,
        "mp",
        "attributed",
    )


def test_a_scene_that_is_not_a_referral_attributes_nothing(callbacks, referrer):
    callbacks.fake.add_user("oFriend2")
    code_of(referrer)
    db.session.commit()
    path, body = wxsign.mp_plain(_event("oFriend2", "subscribe", "qrscene_store_1"))
    assert callbacks.post(path, data=body).data == b"success"
    assert db.session.scalars(select(Referral)).all() == []


def test_a_wecom_contact_way_state_attributes(callbacks, referrer):
    external = "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA"
    callbacks.fake.add_contact(external, name="赵六")
    xml = wxsign.fixture("work_external_contact_add.xml").replace(
        "teststate", f"r_{code_of(referrer)}"
    )
    db.session.commit()
    path, body = wxsign.work_post(xml)
    assert callbacks.post(path, data=body, content_type="text/xml").status_code == 200
    referral = db.session.scalars(select(Referral)).one()
    assert referral.referee_id == _referee("wecom_external_userid", external).id
    assert (referral.referrer_id, referral.channel) == (referrer.id, "wecom")
