"""PostgreSQL: round-robin stays fair under concurrent new leads; a pool claim race has
one winner."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from app.core.errors import Conflict
from app.core.extensions import db
from app.models import Customer, Lead, LeadMove, Staff
from app.services.customers import staff as staff_service
from app.services.sales import assignment, pool, rules

pytestmark = pytest.mark.postgres


def _run(app, n, work):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def worker(i):
        with app.app_context():
            try:
                barrier.wait()
                results.append(work(i))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def _team(app, reps: int) -> list[int]:
    from tests.conftest import _truncate

    _truncate(app)
    with app.app_context():
        admin = staff_service.create("管理员", "admin")
        members = [
            staff_service.create(f"销售{i}", "sales", store="城东旗舰店") for i in range(reps)
        ]
        rules.save(None, {"name": "全部", "rep_ids": [m.id for m in members]}, admin)
        db.session.commit()
        ids = [m.id for m in members]
        db.session.remove()
    return ids


def test_concurrent_new_leads_take_turns_no_rep_gets_two_before_each_got_one(app):
    reps = _team(app, 4)

    def new_lead(i):
        customer = Customer(name=f"并发{i}", source_channel="mp")
        db.session.add(customer)
        db.session.flush()
        return assignment.assign(customer).owner_id

    results, errors = _run(app, 12, new_lead)
    assert errors == []
    with app.app_context():
        order = [m.to_staff_id for m in db.session.query(LeadMove).order_by(LeadMove.id)]
        assert len(order) == 12
        for start in range(0, 12, 4):
            assert sorted(order[start : start + 4]) == sorted(reps)
        assert Counter(results) == dict.fromkeys(reps, 3)
        assert db.session.query(Lead).filter(Lead.owner_id.is_(None)).count() == 0
        db.session.remove()


def test_two_reps_claiming_one_pool_lead_one_wins_the_other_is_told(app):
    reps = _team(app, 3)
    with app.app_context():
        customer = Customer(name="公海客户", source_channel="mp")
        db.session.add(customer)
        db.session.flush()
        lead = assignment.assign(customer)
        from app.models.types import utcnow

        pool.to_pool(lead, "测试", utcnow())
        db.session.commit()
        cid, holder = customer.id, lead.previous_owner_id
        db.session.remove()
    claimers = [r for r in reps if r != holder]

    def claim(i):
        return pool.claim(db.session.get(Staff, claimers[i]), cid).owner_id

    results, errors = _run(app, 2, claim)
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], Conflict) and "已被其他同事领取" in errors[0].message
    with app.app_context():
        assert db.session.get(Customer, cid).owner_id == results[0]
        assert db.session.query(LeadMove).filter_by(kind="claim").count() == 1
        db.session.remove()
