"""Concurrent sign events for one referral on PostgreSQL: one reward, never two."""

import threading

import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import CreditEntry, Notice
from app.services.referrals import lifecycle
from tests.referrals.helpers import balance, person, referred

pytestmark = pytest.mark.postgres
THREADS = 8


def _sign_together(app, referee_id: int) -> list[str]:
    barrier, outcomes = threading.Barrier(THREADS), []

    def sign() -> None:
        with app.app_context():
            barrier.wait()
            try:
                lifecycle.on_stage_changed(referee_id, "quoted", "contract")
                db.session.commit()
                outcomes.append("ok")
            except Exception as exc:  # noqa: BLE001 - reported below
                db.session.rollback()
                outcomes.append(type(exc).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sign) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_sign_events_grant_one_reward(ctx):
    referrer = person("王业主")
    referee, referral = referred(referrer)
    db.session.commit()
    outcomes = _sign_together(ctx, referee.id)
    assert outcomes == ["ok"] * THREADS
    db.session.expire_all()
    rewards = db.session.scalar(
        select(func.count()).select_from(CreditEntry).filter_by(referral_id=referral.id)
    )
    assert rewards == 1 and balance(referrer) == 2000
    notices = db.session.scalar(
        select(func.count()).select_from(Notice).filter_by(kind="referral-reward")
    )
    assert notices == 1


def test_concurrent_rewards_for_one_referrer_keep_balance_after_in_order(ctx, monkeypatch):
    """Different referees of one referrer signing at once: the account lock orders them."""
    referrer = person("王业主")
    monkeypatch.setitem(ctx.config, "REFERRAL_BURST_COUNT", 100)
    if True:
        referees = [referred(referrer, name=f"客户{i}")[0] for i in range(THREADS)]
        db.session.commit()
        barrier, errors = threading.Barrier(THREADS), []

        def sign(referee_id: int) -> None:
            with ctx.app_context():
                barrier.wait()
                try:
                    lifecycle.on_stage_changed(referee_id, "quoted", "contract")
                    db.session.commit()
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=sign, args=(r.id,)) for r in referees]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    db.session.expire_all()
    rows = db.session.scalars(
        select(CreditEntry).filter_by(customer_id=referrer.id).order_by(CreditEntry.id)
    ).all()
    assert [r.balance_after for r in rows] == [2000 * (i + 1) for i in range(THREADS)]
    assert balance(referrer) == 2000 * THREADS
