"""A message from a known customer takes one statement; it must store what the full path does."""

import time
from datetime import UTC, datetime

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from app import create_app
from app.core import batch
from app.core.extensions import db
from app.core.wxprotocol import parse_xml
from app.models import AutoReplyRule, Customer, CustomerIdentity, TimelineEvent
from app.services.inbound import dedupe
from jobs import ingest as ingest_jobs
from tests import wxsign
from tests.conftest import REDIS_URL
from tests.inbound.test_enrichment import fake_env

MP_APPID = "wx2c2769f8efd9abc2"
T0 = 1_700_000_000


def _text(msg_id: int, at: int, content="你好", openid="oFAST"):
    return (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>{at}</CreateTime>"
        f"<MsgType>text</MsgType><Content>{content}</Content><MsgId>{msg_id}</MsgId></xml>"
    )


def _post(client, xml):
    path, body = wxsign.mp_safe(xml)
    response = client.post(path, data=body)
    assert response.status_code == 200
    return response


@pytest.fixture
def fake(fake_wechat):
    fake_wechat.add_app(MP_APPID, "mp-secret")
    return fake_wechat


def _messages():
    query = select(TimelineEvent).filter_by(kind="message").order_by(TimelineEvent.id)
    return db.session.scalars(query).all()


def _identity():
    return db.session.scalars(select(CustomerIdentity).filter_by(value="oFAST")).one()


def test_known_sender_message_is_stored_as_the_full_path_stores_it(ctx):
    client = ctx.test_client()
    _post(client, _text(1, T0, "第一条"))  # a new customer: the full path
    first_seen = _identity().last_inbound_at
    _post(client, _text(2, T0 + 3600, "新房120平，预算20万"))  # known: the fast path
    db.session.expire_all()
    rows = _messages()
    assert len(rows) == 2 and rows[0].customer_id == rows[1].customer_id
    full, fast = rows
    for column in ("kind", "channel", "direction", "actor_type", "needs_enrichment"):
        assert getattr(fast, column) == getattr(full, column), column
    assert set(fast.payload) == set(full.payload) - {"first_contact"}
    assert fast.payload["content"] == "新房120平，预算20万"
    assert fast.occurred_at == datetime.fromtimestamp(T0 + 3600, UTC)
    identity = _identity()
    assert identity.subscribed is True
    assert identity.last_inbound_at == datetime.fromtimestamp(T0 + 3600, UTC) > first_seen


def test_known_sender_retries_and_bursts_write_once(ctx):
    client = ctx.test_client()
    _post(client, _text(1, T0))
    for _ in range(3):  # WeChat's retries of one message
        assert _post(client, _text(2, T0 + 3600)).data == b"success"
    _post(client, _text(3, T0 + 3660))  # a minute later: the 48-hour window needs no write
    db.session.expire_all()
    assert len(_messages()) == 3
    assert _identity().last_inbound_at == datetime.fromtimestamp(T0 + 3600, UTC)


def test_known_sender_keyword_reply_is_recorded_and_repeated_on_retry(ctx):
    db.session.add(AutoReplyRule(keyword="报价", match="contains", reply="请留下小区和面积"))
    db.session.commit()
    client = ctx.test_client()
    _post(client, _text(1, T0))
    for _ in range(2):  # the fast path, then WeChat's retry (the full path): same answer
        envelope = parse_xml(_post(client, _text(2, T0 + 60, "想要个报价")).data)
        plain, _ = wxsign.decrypt(envelope["Encrypt"], wxsign.MP["key"])
        assert parse_xml(plain)["Content"] == "请留下小区和面积"
    replies = db.session.scalars(select(TimelineEvent).filter_by(kind="auto_reply")).all()
    assert len(_messages()) == 2 and len(replies) == 1


def test_a_customer_merged_away_gets_the_message_on_the_live_customer(ctx):
    client = ctx.test_client()
    _post(client, _text(1, T0))
    identity = _identity()
    older = Customer(name="老客户", source_channel="store")
    db.session.add(older)
    db.session.flush()
    identity.customer.merged_into_id = older.id  # an identity left behind by a merge
    db.session.commit()
    _post(client, _text(2, T0 + 60))
    key = dedupe.mp_key(MP_APPID, parse_xml(_text(2, T0 + 60)))
    stored = db.session.scalars(select(TimelineEvent).filter_by(dedupe_key=key)).one()
    assert stored.customer_id == older.id


@pytest.mark.redis
def test_enrichment_is_handed_over_in_batches_and_a_lost_wake_up_is_swept(ctx, fake, redis_conn):
    fake.add_user("oFAST", nickname="连发的客户")
    app = create_app(fake_env(fake, REDIS_URL=REDIS_URL))
    client = app.test_client()
    for i in range(5):
        _post(client, _text(i + 1, T0 + i))
    key = batch.list_key("jobs.ingest:enrich_events")
    deadline = time.monotonic() + 5  # the process's flusher pushes them within moments
    queue = "rq:queue:webhooks"  # and then enqueues the drain: wait for both, not the first
    while (redis_conn.llen(key) < 5 or not redis_conn.llen(queue)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert redis_conn.llen(key) == 5
    assert redis_conn.llen("rq:queue:webhooks") == 1  # one drain for the five
    worker = SimpleWorker([Queue("webhooks", connection=redis_conn)], connection=redis_conn)
    with app.app_context():  # the worker's app: Redis and the fake WeChat
        assert worker.work(burst=True)
    db.session.expire_all()
    assert redis_conn.llen(key) == 0
    assert not any(e.needs_enrichment for e in _messages())
    assert db.session.scalars(select(Customer)).one().nickname == "连发的客户"

    redis_conn.rpush(key, 999_999)  # pushed, but its wake-up was lost
    with app.app_context():
        ingest_jobs.sweep_unenriched()
        assert redis_conn.llen("rq:queue:webhooks") == 1
        assert worker.work(burst=True) and redis_conn.llen(key) == 0


def _rows_of(openid: str) -> tuple[Customer, CustomerIdentity, TimelineEvent]:
    identity = db.session.scalars(select(CustomerIdentity).filter_by(value=openid)).one()
    event = db.session.scalars(
        select(TimelineEvent).filter_by(customer_id=identity.customer_id, kind="message")
    ).one()
    return identity.customer, identity, event


def _columns(row, skip=("id", "customer_id", "created_at", "updated_at", "dedupe_key")) -> dict:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in skip}


@pytest.mark.postgres
def test_a_first_contact_in_one_statement_stores_what_the_full_path_stores(ctx, monkeypatch):
    from app.services.inbound import hot_ingest

    client = ctx.test_client()
    _post(client, _text(1, T0, "你好", openid="oLEAN"))  # one statement on the driver
    monkeypatch.setattr(hot_ingest, "store_message", lambda *args: None)
    _post(client, _text(2, T0, "你好", openid="oFULL"))  # the ORM path, as before
    db.session.expire_all()
    lean, full = _rows_of("oLEAN"), _rows_of("oFULL")
    assert _columns(lean[0]) == _columns(full[0])  # customer: source mp, stage lead, defaults
    assert lean[0].source_channel == "mp" and lean[0].stage == "lead"
    identity_skip = ("id", "customer_id", "created_at", "value")
    assert _columns(lean[1], identity_skip) == _columns(full[1], identity_skip)
    assert lean[1].subscribed is True and lean[1].last_inbound_at == datetime.fromtimestamp(T0, UTC)
    event_skip = ("id", "customer_id", "created_at", "dedupe_key", "payload")
    assert _columns(lean[2], event_skip) == _columns(full[2], event_skip)
    assert lean[2].payload["first_contact"] is True and full[2].payload["first_contact"] is True
    assert {k: v for k, v in lean[2].payload.items() if k != "raw"} == {
        k: v for k, v in full[2].payload.items() if k != "raw"
    }


@pytest.mark.postgres
def test_a_new_customer_writing_twice_at_once_is_one_customer(app):
    """Two messages of a stranger race: both run the first-contact statement, the unique
    identity undoes the loser's whole statement, and its full path finds the winner."""
    from tests.conftest import _truncate

    _truncate(app)
    bodies = [wxsign.mp_safe(_text(10 + i, T0 + i, openid="oRACE")) for i in range(2)]
    codes = wxsign.post_concurrently(app, bodies)
    assert codes == [200, 200]
    with app.app_context():
        assert db.session.scalar(select(func.count(Customer.id))) == 1
        events = db.session.scalars(select(TimelineEvent).filter_by(kind="message")).all()
        assert len(events) == 2 and len({e.customer_id for e in events}) == 1
        db.session.remove()
