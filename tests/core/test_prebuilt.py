"""Prebuilt reads: run outside a transaction, and leave the pooled connection as they found it.
Prebuilt statements: run inside the Session's transaction."""

import pytest
from sqlalchemy import bindparam, select, text

from app.core.prebuilt import Prebuilt, Statement, execute, execute_together, reading
from app.models import Store
from app.models.types import UTCDateTime, utcnow

STORES = Prebuilt(select(Store.id, Store.name).order_by(Store.id))


@pytest.mark.postgres
def test_the_connection_goes_back_to_the_pool_in_transaction_mode(ctx):
    with reading() as reader:
        driver = reader.driver
        assert driver.autocommit and reader.all(STORES, {}) == []
    assert driver.autocommit is False
    with pytest.raises(RuntimeError), reading() as reader:
        driver = reader.driver
        raise RuntimeError("a view failed mid-read")
    assert driver.autocommit is False


def test_rows_read_by_attribute_name(ctx):
    from app.core.extensions import db

    db.session.add(Store(name="城东旗舰店", city="上海"))
    db.session.commit()
    with reading() as reader:
        row = reader.first(STORES, {})
    assert (row.id, row.name) == (1, "城东旗舰店")


def test_reads_sent_together_come_back_each_with_its_own_rows(ctx):
    from app.core.extensions import db

    db.session.add_all([Store(name="城东旗舰店", city="上海"), Store(name="城西店", city="上海")])
    db.session.commit()
    one = Prebuilt(select(Store.name).where(Store.id == bindparam("id")))
    with reading() as reader:
        rows = reader.together((STORES, {}), (one, {"id": 2}), (one, {"id": 99}))
    assert [len(r) for r in rows] == [2, 1, 0] and rows[1][0].name == "城西店"


@pytest.mark.postgres
def test_after_the_server_drops_its_connections_one_read_fails_then_reads_work(ctx):
    from sqlalchemy.exc import DBAPIError

    from app.core.extensions import db

    with reading() as first, reading() as second:  # as a restart would, while they wait
        pids = [first.driver.info.backend_pid, second.driver.info.backend_pid]
        for pid in pids:
            db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        db.session.commit()
    failed = 0
    for _ in range(4):  # the pool hands out its connections in turn
        try:
            with reading() as reader:
                reader.all(STORES, {})
        except DBAPIError:
            failed += 1  # that one page fails, as it would through SQLAlchemy
    assert failed == 1
    with reading() as reader:
        assert reader.all(STORES, {}) == [] and reader.driver.info.backend_pid not in pids


# Statements in the Session's own transaction (the referral stage event's hot path).
ADD_STORE = Statement(
    "INSERT INTO stores (name, city, region, created_at) VALUES (:name, '上海', '', :at)"
    " RETURNING id",
    bindparam("at", type_=UTCDateTime),
)
STORE_NAMES = Statement("SELECT name FROM stores ORDER BY id", lock="FOR UPDATE")


def test_statements_run_in_the_sessions_transaction_and_roll_back_with_it(ctx):
    from app.core.extensions import db

    db.session.add(Store(name="城东旗舰店", city="上海"))
    db.session.flush()  # the Session's transaction is open: the statements join it
    new_id = execute(ADD_STORE, {"name": "城西店", "at": utcnow()})[0][0]
    assert execute(STORE_NAMES, {}) == [("城东旗舰店",), ("城西店",)] and new_id == 2
    db.session.rollback()
    assert db.session.scalars(select(Store.name)).all() == []


def test_statements_sent_together_answer_in_order_and_errors_are_sqlalchemys(ctx):
    from sqlalchemy.exc import IntegrityError

    from app.core.extensions import db

    at = utcnow()
    first, names = execute_together((ADD_STORE, {"name": "城东店", "at": at}), (STORE_NAMES, {}))
    assert first == [(1,)] and names == [("城东店",)]
    with pytest.raises(IntegrityError):  # stores.name is unique, as through the Session
        execute(ADD_STORE, {"name": "城东店", "at": at})
    db.session.rollback()
    assert execute(STORE_NAMES, {}) == []


def test_an_expanding_in_takes_a_list_of_any_length(ctx):
    from app.core.extensions import db

    db.session.add_all([Store(name=f"店{n}", city="上海") for n in range(1, 4)])
    db.session.commit()
    some = Prebuilt(
        select(Store.name)
        .where(Store.id.in_(bindparam("ids", expanding=True)), Store.city == bindparam("city"))
        .order_by(Store.id)
    )
    with reading() as reader:
        rows = reader.together(
            (some, {"ids": [1, 3], "city": "上海"}),
            (some, {"ids": [2], "city": "上海"}),
            (some, {"ids": [1, 2, 3], "city": "杭州"}),
        )
    assert [[r.name for r in found] for found in rows] == [["店1", "店3"], ["店2"], []]


@pytest.mark.postgres
def test_after_the_server_drops_its_connections_one_statement_fails_then_statements_work(ctx):
    """A restart mid-transaction: the statement's error is an OperationalError (a 503, a
    retried job) marked as an invalidated connection, and the whole pool is dropped, so
    the next transactions (on any pooled connection) work."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    from app.core.extensions import db

    session_pid = db.session.connection().connection.driver_connection.info.backend_pid
    with reading() as first, reading() as second:  # pooled connections, as a restart finds them
        pids = [session_pid, first.driver.info.backend_pid, second.driver.info.backend_pid]
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [pids])
    with pytest.raises(OperationalError) as failed:
        execute(STORE_NAMES, {})
    assert failed.value.connection_invalidated
    db.session.rollback()
    for _ in range(4):
        assert execute_together((ADD_STORE, {"name": "城西店", "at": utcnow()}), (STORE_NAMES, {}))[
            1
        ] == [("城西店",)]
        assert db.session.connection().connection.driver_connection.info.backend_pid not in pids
        db.session.rollback()
