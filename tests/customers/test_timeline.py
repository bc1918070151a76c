from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import TimelineEvent
from app.services.customers import customers, timeline


@pytest.fixture
def customer(ctx):
    c, _ = customers.find_or_create_by_identity("mp_openid", "oT", "wx")
    db.session.commit()
    return c


def test_same_dedupe_key_twice_stores_one_event(customer):
    first, created = timeline.record_once(customer, "message", channel="mp", dedupe_key="msg:1")
    db.session.commit()
    second, created_again = timeline.record_once(
        customer, "message", channel="mp", dedupe_key="msg:1", payload={"content": "retry"}
    )
    db.session.commit()
    assert created and not created_again and second.id == first.id
    assert db.session.scalar(select(func.count(TimelineEvent.id))) == 1
    assert db.session.get(TimelineEvent, first.id).payload == {}


def test_times_are_stored_and_read_back_as_utc(customer):
    shanghai = datetime(2026, 5, 1, 9, 0, tzinfo=UTC) + timedelta(hours=8)
    event = timeline.record(customer, "note", occurred_at=shanghai.astimezone(UTC))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(TimelineEvent, event.id).occurred_at
    assert stored.tzinfo is not None and stored == datetime(2026, 5, 1, 17, 0, tzinfo=UTC)
    with pytest.raises(Exception, match="naive"):
        timeline.record(customer, "note", occurred_at=datetime(2026, 1, 1))
        db.session.flush()


def test_pages_are_newest_first_without_gaps_or_repeats(customer):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(25):
        # Five events share each timestamp: the id breaks the tie in the cursor.
        timeline.record(customer, "message", occurred_at=base + timedelta(minutes=i // 5))
    db.session.commit()
    seen, cursor = [], None
    while True:
        rows, cursor = timeline.page(customer.id, cursor, limit=7)
        seen.extend(rows)
        if cursor is None:
            break
    assert len(seen) == 25 and len({e.id for e in seen}) == 25
    keys = [(e.occurred_at, e.id) for e in seen]
    assert keys == sorted(keys, reverse=True)


def test_forged_cursor_is_refused(customer):
    with pytest.raises(timeline.CursorError):
        timeline.page(customer.id, "not-a-cursor")


def test_every_sql_insert_writes_the_models_columns_in_the_timelines_order():
    """One writer per table: the column list every SQL insert path uses is the model's."""
    model_columns = {c.name for c in TimelineEvent.__table__.columns} - {"id"}
    assert set(timeline.EVENT_COLUMNS) == model_columns
    assert len(timeline.EVENT_COLUMNS) == len(model_columns)
