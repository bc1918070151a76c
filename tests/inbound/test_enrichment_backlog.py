"""Enrichment always catches up: failing events back off and park without blocking the rest,
a WeChat outage is nobody's event's fault, the backlog is handed over at once and profiles
are fetched 100 openids a call (issue 12, items 8 and 9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from rq import Queue, SimpleWorker
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app import create_app
from app.core import batch, hooks
from app.core.extensions import db
from app.models import Customer, CustomerIdentity, EnrichmentState, TimelineEvent
from app.models.types import utcnow
from app.services.customers import customers, timeline
from jobs import batch as batch_jobs
from jobs import ingest as ingest_jobs
from tests.conftest import REDIS_URL, env_for_tests

MP_APPID = "wx2c2769f8efd9abc2"
POISON = "【坏数据】"
LIST = batch.list_key("jobs.ingest:enrich_events")


@pytest.fixture
def fake(fake_wechat):
    fake_wechat.add_app(MP_APPID, "mp-secret")
    return fake_wechat


def make_app(fake, **extra):
    env = env_for_tests(WECHAT_API_BASE=fake.url, ENRICH_SWEEP_AGE="0", **extra)
    return create_app(env)


@pytest.fixture
def poison():
    """A bug that one kind of event triggers every time (as a stored text whose content the
    tagger cannot read did): the first event_enriched hook raises for it. Install it after
    the apps of the test are created (create_app installs the hooks of app/hooks.py)."""
    original = {point: hooks.installed(point) for point in hooks.POINTS}

    def explode(event):
        if POISON in str((event.payload or {}).get("content")):
            raise ValueError(f"cannot read event {event.id}")

    def install():
        hooks.install({**original, "event_enriched": (explode, *original["event_enriched"])})

    install.heal = lambda: hooks.install(original)  # the bug is fixed
    yield install
    hooks.install(original)


def stranded(openids, content="你好，想问下报价", per_customer=1) -> list[int]:
    """Stored official-account messages still waiting for enrichment (the callback stored
    them; their hand-off to Redis was lost)."""
    ids = []
    for openid in openids:
        customer, _ = customers.find_or_create_by_identity("mp_openid", openid, MP_APPID)
        for _ in range(per_customer):
            event = timeline.record(
                customer,
                "message",
                channel="mp",
                direction="inbound",
                actor_type="customer",
                payload={"msg_type": "text", "content": content},
                needs_enrichment=True,
            )
            ids.append(event.id)
    db.session.commit()
    return ids


def pending(ids) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count())
        .select_from(TimelineEvent)
        .where(TimelineEvent.id.in_(ids), TimelineEvent.needs_enrichment)
    )


def state(event_id) -> EnrichmentState | None:
    db.session.expire_all()
    return db.session.get(EnrichmentState, event_id)


def drain(app, redis_conn):
    batch.flush()  # what the process's flusher thread does within moments
    worker = SimpleWorker([Queue("webhooks", connection=redis_conn)], connection=redis_conn)
    with app.app_context():
        worker.work(burst=True)


def test_a_failing_event_backs_off_then_is_parked_with_its_reason(ctx, fake, poison):
    app = make_app(fake)
    poison()
    with app.app_context():
        bad, good = stranded(["oBAD"], POISON) + stranded(["oGOOD"])
        result = ingest_jobs.enrich_events([bad, good])
    assert result["enriched"] == 1 and result["failed"] == 1
    assert pending([good]) == 0 and pending([bad]) == 1
    first = state(bad)
    assert first.attempts == 1 and first.reason == f"ValueError: cannot read event {bad}"
    assert first.parked_at is None
    assert first.next_attempt_at - first.last_failed_at == timedelta(seconds=60)

    start = utcnow()
    with app.app_context():
        assert ingest_jobs.sweep_unenriched() == 0  # still backing off
    for attempt, wait in ((2, 61), (3, 61 + 240), (4, 61 + 240 + 960)):
        with time_machine.travel(start + timedelta(seconds=wait), tick=False):
            with app.app_context():
                assert ingest_jobs.sweep_unenriched() == 1  # runs in-process (no Redis)
            assert state(bad).attempts == attempt and state(bad).parked_at is None
    with time_machine.travel(start + timedelta(seconds=61 + 240 + 960 + 3840), tick=False):
        with app.app_context():
            assert ingest_jobs.sweep_unenriched() == 1
        assert state(bad).attempts == 5 and state(bad).parked_at is not None
    with time_machine.travel(start + timedelta(days=30), tick=False), app.app_context():
        assert ingest_jobs.sweep_unenriched() == 0  # parked: only the command retries it
    assert pending([bad]) == 1 and state(good) is None


@pytest.mark.redis
def test_poison_events_do_not_starve_the_messages_stored_after_them(ctx, fake, poison, redis_conn):
    """Issue 12 item 8: 520 failing events stored first, then 200 real messages during a Redis
    outage. One sweep and one drain enrich all 200; the poison waits out its backoff."""
    app = make_app(fake, REDIS_URL=REDIS_URL)
    poison()
    real_senders = [f"oREAL{i:03d}" for i in range(50)]
    for openid in real_senders:
        fake.add_user(openid, nickname=f"客户{openid[-3:]}")
    poison_senders = [f"oPOISON{i}" for i in range(10)]
    for openid in poison_senders:
        fake.add_user(openid)
    with app.app_context():
        bad = stranded(poison_senders, POISON, per_customer=52)
        real = stranded(real_senders, per_customer=4)
        assert ingest_jobs.sweep_unenriched() == 720
    drain(app, redis_conn)
    assert pending(real) == 0 and pending(bad) == 520
    assert fake.count("/cgi-bin/user/info/batchget") <= 8  # one call a batch, not one a message
    nicknames = db.session.scalars(
        select(Customer.nickname)
        .join(CustomerIdentity)
        .where(CustomerIdentity.value.like("oREAL%"))
    )
    assert set(nicknames) == {f"客户{i:03d}" for i in range(50)}
    with app.app_context():
        assert ingest_jobs.sweep_unenriched() == 0  # failing rows wait out their backoff
        fresh = stranded(["oNEW"])
        assert ingest_jobs.sweep_unenriched() == 1  # and never stand in front of new ones
    drain(app, redis_conn)
    assert pending(fresh) == 0


def test_a_wechat_outage_is_not_the_events_fault(ctx, fake):
    """WeChat busy for every profile: the events are enriched (tags and alerts do not wait
    for WeChat), nothing is counted against them, and the outage costs one call a batch."""
    fake.fail_always("/cgi-bin/user/info/batchget", -1)
    fake.fail_always("/cgi-bin/user/info", -1)
    app = make_app(fake)
    openids = [f"oOUT{i:02d}" for i in range(30)]
    with app.app_context():
        ids = stranded(openids, "预算20万，想做现代简约")
        result = ingest_jobs.enrich_events(ids)
    assert result == {"enriched": 30, "failed": 0, "parked": 0, "skipped": 0}
    assert (
        pending(ids) == 0 and db.session.scalar(select(func.count(EnrichmentState.event_id))) == 0
    )
    assert fake.count("/cgi-bin/user/info/batchget") == 1 and fake.count("/cgi-bin/user/info") == 0
    identities = db.session.scalars(select(CustomerIdentity).filter_by(kind="mp_openid")).all()
    assert all(i.profile_fetched_at is None for i in identities)  # asked again next time

    fake.clear_script()
    fake.add_user("oOUT00", nickname="恢复后的客户")
    with app.app_context():
        ingest_jobs.enrich_events(stranded(["oOUT00"]))
    assert db.session.scalars(select(Customer).filter_by(nickname="恢复后的客户")).one()


def test_profiles_are_fetched_a_hundred_openids_a_call(ctx, fake):
    openids = [f"oBULK{i:03d}" for i in range(250)]
    for openid in openids:
        if openid != "oBULK150":  # one openid WeChat does not know fails its whole call
            fake.add_user(openid, nickname=f"昵称{openid[-3:]}", sex=2)
    app = make_app(fake)
    with app.app_context():
        ids = stranded(openids, "在吗")
        assert ingest_jobs.enrich_events(ids)["enriched"] == 250
    calls = fake.requests("/cgi-bin/user/info/batchget")
    assert [len(c["json"]["user_list"]) for c in calls[:2]] == [100, 100]
    assert calls[1]["errcode"] == 40003 and len(calls[-1]["json"]["user_list"]) == 50
    assert len(calls) <= 3 + 2 * 7  # the failed call split in halves down to the bad openid
    served = [len(c["json"]["user_list"]) for c in calls if c["errcode"] == 0]
    assert sum(served) == 249 and fake.count("/cgi-bin/user/info") == 0
    named = db.session.scalars(select(Customer).where(Customer.nickname.like("昵称%"))).all()
    assert len(named) == 249 and {c.gender for c in named} == {"female"}


@pytest.mark.redis
def test_the_sweep_hands_the_whole_backlog_over_once(ctx, fake, redis_conn, monkeypatch):
    openids = [f"oLOST{i:04d}" for i in range(120)]
    for openid in openids:
        fake.add_user(openid)
    app = make_app(fake, REDIS_URL=REDIS_URL)
    with app.app_context():
        ids = stranded(openids, "在吗", per_customer=5)
        start = utcnow()
        assert ingest_jobs.sweep_unenriched() == 600
        batch.flush()
        assert redis_conn.llen(LIST) == 600  # at once, not 500 a minute
        assert redis_conn.llen("rq:queue:webhooks") == 1  # one drain
        assert ingest_jobs.sweep_unenriched() == 0  # leased: not handed over twice
    with time_machine.travel(start + timedelta(minutes=16), tick=False), app.app_context():
        assert ingest_jobs.sweep_unenriched() == 600  # the lease ran out (say the drain died)
        batch.flush()
    assert redis_conn.llen(LIST) == 1200
    monkeypatch.setattr(batch_jobs, "BUDGET", 0)  # each drain takes one batch, then hands on
    drain(app, redis_conn)
    assert pending(ids) == 0 and redis_conn.llen(LIST) == 0
    assert db.session.scalar(select(func.count(EnrichmentState.event_id))) == 0


def test_parked_events_are_shown_to_admins_and_retried_by_a_command(ctx, fake, poison, bearer):
    app = make_app(fake, ENRICH_MAX_ATTEMPTS="1")
    poison()
    with app.app_context():
        bad = stranded(["oPARK"], POISON)[0]
        assert ingest_jobs.enrich_events([bad])["parked"] == 1
    _, admin = bearer("管理员", "admin")
    _, sales = bearer("李销售", "sales")
    client = app.test_client()
    listed = client.get("/api/v1/enrichment/failures?parked=true", headers=admin)
    assert listed.status_code == 200
    [item] = listed.json["items"]
    assert item["event_id"] == bad and item["parked"] is True and item["attempts"] == 1
    assert item["reason"] == f"ValueError: cannot read event {bad}"
    assert client.get("/api/v1/enrichment/failures?parked=false", headers=admin).json["items"] == []
    assert client.get("/api/v1/enrichment/failures", headers=sales).status_code == 403

    cli = app.test_cli_runner()
    unknown = cli.invoke(args=["enrichment", "retry", str(bad), "999999"])
    assert unknown.exit_code != 0 and "999999" in unknown.output
    assert cli.invoke(args=["enrichment", "retry"]).exit_code != 0
    assert state(bad).parked_at is not None  # a refused command changed nothing
    poison.heal()
    retried = cli.invoke(args=["enrichment", "retry", "--all"])
    assert retried.exit_code == 0 and f"({bad})" in retried.output
    assert pending([bad]) == 0 and state(bad) is None


def test_a_database_failure_is_not_counted_against_the_event(ctx, fake):
    app = make_app(fake)
    original = {point: hooks.installed(point) for point in hooks.POINTS}

    def database_gone(_event):
        raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))

    with app.app_context():
        ids = stranded(["oDB"])
    hooks.install({**original, "event_enriched": (database_gone,)})
    try:
        with app.app_context(), pytest.raises(OperationalError):
            ingest_jobs.enrich_events(ids)
    finally:
        hooks.install(original)
    assert pending(ids) == 1 and state(ids[0]) is None  # the sweep hands it over again
