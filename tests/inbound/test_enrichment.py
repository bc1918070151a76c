"""After the callback: profiles, unionid merges, and the sweep when Redis was down."""

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select

from app import create_app
from app.core import batch
from app.core.extensions import db
from app.models import AuditLog, Customer, CustomerIdentity, TimelineEvent
from jobs import ingest as ingest_jobs
from tests import wxsign
from tests.conftest import REDIS_URL, env_for_tests

MP_APPID, CORP = "wx2c2769f8efd9abc2", "wx5823bf96d3bd56c7"


@pytest.fixture
def fake(fake_wechat):
    fake_wechat.add_app(MP_APPID, "mp-secret")
    fake_wechat.add_corp_secret(CORP, "wecom-contact-secret", contact=True)
    return fake_wechat


def fake_env(fake, **extra):
    return env_for_tests(WECHAT_API_BASE=fake.url, WECOM_API_BASE=fake.url, **extra)


def _text(openid="oCUST", msg_id="7001", content="你好"):
    return (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>1700000000</CreateTime>"
        f"<MsgType>text</MsgType><Content>{content}</Content><MsgId>{msg_id}</MsgId></xml>"
    )


def test_first_message_fills_nickname_gender_and_unionid(ctx, fake):
    fake.add_user("oCUST", nickname="装修的小王", sex=1, unionid="uWANG")
    app = create_app(fake_env(fake))
    path, body = wxsign.mp_plain(_text())
    assert app.test_client().post(path, data=body).data == b"success"
    customer = db.session.scalars(select(Customer)).one()
    assert (customer.nickname, customer.gender) == ("装修的小王", "male")
    kinds = {(i.kind, i.value) for i in db.session.scalars(select(CustomerIdentity))}
    assert ("unionid", "uWANG") in kinds
    assert db.session.scalars(select(TimelineEvent)).one().needs_enrichment is False
    assert fake.count("/cgi-bin/user/info/batchget") == 1


def test_same_unionid_from_wecom_merges_into_the_older_customer(ctx, fake):
    fake.add_user("oCUST", nickname="小王", unionid="uSAME")
    fake.add_contact("woAJ2GCAAAXtWyujaWJHDDGi0mAAAA", name="王先生", unionid="uSAME")
    app = create_app(fake_env(fake))
    client = app.test_client()
    for path, body in (
        wxsign.mp_plain(_text()),
        wxsign.work_post(wxsign.fixture("work_external_contact_add.xml")),
    ):
        assert client.post(path, data=body).status_code == 200
    alive = db.session.scalars(select(Customer).where(Customer.merged_into_id.is_(None))).all()
    assert len(alive) == 1
    kinds = sorted(
        i.kind
        for i in db.session.scalars(select(CustomerIdentity).filter_by(customer_id=alive[0].id))
    )
    assert kinds == ["mp_openid", "unionid", "wecom_external_userid"]
    assert (
        len(db.session.scalars(select(TimelineEvent).filter_by(customer_id=alive[0].id)).all()) >= 3
    )
    assert (
        db.session.scalars(select(AuditLog).filter_by(action="customer.merge")).one().actor
        == "wechat:unionid"
    )


def test_wechat_api_errors_leave_the_event_for_a_later_try(ctx, fake):
    fake.fail_always("/cgi-bin/user/info/batchget", 45009)
    app = create_app(fake_env(fake))
    path, body = wxsign.mp_plain(_text())
    assert app.test_client().post(path, data=body).data == b"success"
    identity = db.session.scalars(select(CustomerIdentity)).one()
    assert identity.profile_fetched_at is None  # asked again on the next message


@pytest.mark.redis
def test_redis_down_message_is_stored_answered_then_enriched_after_it_returns(
    ctx, fake, redis_conn
):
    fake.add_user("oCUST", nickname="夜里留言的客户", unionid="uNIGHT")
    down = create_app(fake_env(fake, REDIS_URL="redis://127.0.0.1:1/0"))
    path, body = wxsign.mp_safe(_text())
    response = down.test_client().post(path, data=body)
    assert response.status_code == 200 and response.data == b"success"
    event = db.session.scalars(select(TimelineEvent)).one()
    assert event.needs_enrichment is True and event.payload["content"] == "你好"

    up = create_app(fake_env(fake, REDIS_URL=REDIS_URL, ENRICH_SWEEP_AGE="0"))
    with up.app_context():
        assert ingest_jobs.sweep_unenriched() == 1
        batch.flush()  # the process's flusher would push within moments
        worker = SimpleWorker([Queue("webhooks", connection=redis_conn)], connection=redis_conn)
        assert worker.work(burst=True)
    db.session.expire_all()
    assert db.session.scalars(select(TimelineEvent)).one().needs_enrichment is False
    assert db.session.scalars(select(Customer)).one().nickname == "夜里留言的客户"
