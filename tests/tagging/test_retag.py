"""flask tags retag / jobs.tagging.retag: old messages follow new rules, resumably."""

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from app.core.extensions import db
from app.models import Customer, CustomerTag, TaggingState, TimelineEvent
from app.services.customers import timeline
from app.services.tagging import retag, tag_rules, tagging
from jobs import tagging as tagging_jobs
from tests.tagging.test_tagging_service import tag_events

CYBER = {"dimension": "风格", "value": "工业风", "words": ["赛博朋克"]}


def stored_messages(*texts, when=None) -> list[TimelineEvent]:
    """Messages already in the timeline (one customer each), as if from before the rule."""
    events = []
    for i, body in enumerate(texts):
        customer = Customer(name=f"客户{i}")
        db.session.add(customer)
        db.session.flush()
        events.append(
            timeline.record(
                customer,
                "message",
                channel="mp",
                direction="inbound",
                actor_type="customer",
                occurred_at=when or datetime.now(UTC),
                payload={"msg_type": "text", "content": body},
            )
        )
    db.session.commit()
    return events


def cyber_tags() -> int:
    return db.session.scalar(select(func.count(CustomerTag.id)))


def all_tag_added() -> list[str]:
    rows = db.session.scalars(select(TimelineEvent).filter_by(kind="tag_added"))
    return [f"{e.customer_id}:{e.payload['tag']}" for e in rows]


def add_rule(make_staff) -> None:
    tag_rules.create(CYBER, make_staff("管理员", "admin"))
    db.session.commit()


def test_retag_after_a_rule_change_tags_old_messages(ctx, make_staff):
    events = stored_messages("赛博朋克风", "你好", "赛博朋克也行")
    add_rule(make_staff)
    result = ctx.test_cli_runner().invoke(args=["tags", "retag", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "处理 3 条消息" in result.output and "新增 2 个标签" in result.output
    assert tag_events(events[0].customer_id) == ["风格:工业风"]
    assert tag_events(events[1].customer_id) == []
    assert db.session.get(TaggingState, retag.CHECKPOINT_KEY) is None  # finished: no checkpoint


def test_an_interrupted_retag_resumes_without_duplicate_tag_events(ctx, make_staff, monkeypatch):
    events = stored_messages(*["赛博朋克风"] * 5)
    add_rule(make_staff)
    real, fail_on = tagging.tag_event, events[3].id

    def flaky(event):
        if event.id == fail_on:
            raise RuntimeError("worker killed")
        return real(event)

    monkeypatch.setattr(tagging, "tag_event", flaky)
    runner = ctx.test_cli_runner()
    broken = runner.invoke(args=["tags", "retag", "--batch", "2"])
    assert broken.exit_code != 0 and isinstance(broken.exception, RuntimeError)
    assert db.session.get(TaggingState, retag.CHECKPOINT_KEY).number == events[1].id
    assert cyber_tags() == 2  # the failed batch (events 3 and 4) was rolled back
    monkeypatch.setattr(tagging, "tag_event", real)
    resumed = runner.invoke(args=["tags", "retag", "--batch", "2"])
    assert resumed.exit_code == 0, resumed.output
    assert f"从检查点继续: 事件 #{events[1].id} 之后" in resumed.output
    assert "处理 3 条消息" in resumed.output
    added = all_tag_added()
    assert len(added) == 5 and len(set(added)) == 5


def test_restart_ignores_the_checkpoint_and_adds_nothing_twice(ctx, make_staff):
    stored_messages("赛博朋克风", "赛博朋克")
    add_rule(make_staff)
    db.session.add(TaggingState(key=retag.CHECKPOINT_KEY, number=10**9, note=""))
    db.session.commit()
    runner = ctx.test_cli_runner()
    again = runner.invoke(args=["tags", "retag", "--restart"])
    assert "处理 2 条消息" in again.output and "新增 2 个标签" in again.output
    db.session.add(TaggingState(key=retag.CHECKPOINT_KEY, number=10**9, note=""))
    db.session.commit()
    assert "处理 0 条消息" in runner.invoke(args=["tags", "retag"]).output
    assert "新增 0 个标签" in runner.invoke(args=["tags", "retag"]).output
    assert len(all_tag_added()) == 2


def test_since_limits_the_pass_and_a_bad_date_is_named(ctx, make_staff):
    stored_messages("赛博朋克风", when=datetime(2024, 1, 1, tzinfo=UTC))
    recent = stored_messages("赛博朋克风", when=datetime(2025, 6, 1, tzinfo=UTC))
    add_rule(make_staff)
    runner = ctx.test_cli_runner()
    bad = runner.invoke(args=["tags", "retag", "--since", "2025-13-40"])
    assert bad.exit_code == 2 and "2025-13-40" in bad.output
    done = runner.invoke(args=["tags", "retag", "--since", "2025-01-01"])
    assert "处理 1 条消息" in done.output
    assert [c.split(":")[0] for c in all_tag_added()] == [str(recent[0].customer_id)]


def test_retag_job_does_the_same(ctx, make_staff):
    stored_messages("赛博朋克风", when=datetime(2024, 1, 1, tzinfo=UTC))
    stored_messages("赛博朋克风", when=datetime(2025, 6, 1, tzinfo=UTC))
    add_rule(make_staff)
    assert tagging_jobs.retag("2025-01-01T00:00:00+08:00") == 1
    assert tagging_jobs.retag() == 2
    assert cyber_tags() == 2
    with pytest.raises(ValueError, match="timezone"):
        tagging_jobs.retag("2025-01-01")


def test_a_second_run_is_refused_while_a_run_holds_the_lease(ctx, make_staff):
    stored_messages("赛博朋克风")
    add_rule(make_staff)
    now = int(time.time())
    db.session.add(TaggingState(key=retag.LOCK_KEY, number=now + 300, note="another-run"))
    db.session.commit()
    busy = ctx.test_cli_runner().invoke(args=["tags", "retag"])
    assert busy.exit_code == 1 and "另一个重打标签任务正在运行" in busy.output
    assert cyber_tags() == 0
    assert db.session.get(TaggingState, retag.LOCK_KEY).note == "another-run"  # left alone


def test_a_lease_left_by_a_run_that_died_is_taken_over_once_it_lapsed(ctx, make_staff):
    stored_messages("赛博朋克风")
    add_rule(make_staff)
    lapsed = int(time.time()) - 1
    db.session.add(TaggingState(key=retag.LOCK_KEY, number=lapsed, note="a-dead-run"))
    db.session.commit()
    done = ctx.test_cli_runner().invoke(args=["tags", "retag"])
    assert done.exit_code == 0 and "新增 1 个标签" in done.output
    db.session.expire_all()
    assert db.session.get(TaggingState, retag.LOCK_KEY) is None  # released when finished


def test_a_run_whose_lease_was_taken_over_commits_no_further_batch(ctx, make_staff, monkeypatch):
    events = stored_messages(*["赛博朋克风"] * 4)
    add_rule(make_staff)
    real = tagging.tag_event

    def slow_run_overtaken(event):
        if event.id == events[2].id:  # as if this run stalled past its lease and another took it
            db.session.execute(
                update(TaggingState).where(TaggingState.key == retag.LOCK_KEY).values(note="new")
            )
        return real(event)

    monkeypatch.setattr(tagging, "tag_event", slow_run_overtaken)
    with pytest.raises(retag.RetagBusy):
        retag.run(batch=2)
    assert cyber_tags() == 2  # the first batch only
    assert db.session.get(TaggingState, retag.CHECKPOINT_KEY).number == events[1].id
