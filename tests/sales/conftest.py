"""Sales fixtures: a store's team of reps and a way to bring in new customers."""

from __future__ import annotations

import itertools

import pytest

from app.core.extensions import db
from app.models import Customer, Notice
from app.services.sales import assignment, rules
from tests.projects.helpers import mini, uploads  # noqa: F401 - the mini program's second app

_numbers = itertools.count(1)


@pytest.fixture
def team(make_staff):
    """A manager and four reps of 城东旗舰店, and a rep of 城西体验店."""
    members = {
        "manager": make_staff("王店长", "manager", "城东旗舰店"),
        **{f"rep{i}": make_staff(f"销售{i}", "sales", "城东旗舰店") for i in range(1, 5)},
        "west": make_staff("钱销售", "sales", "城西体验店"),
        "admin": make_staff("管理员", "admin"),
    }
    return members


@pytest.fixture
def rule(team):
    """One rule for everything: the four 城东 reps take turns."""

    def make(reps=None, **fields):
        reps = reps or [team[f"rep{i}"] for i in range(1, 5)]
        row = rules.save(
            None,
            {"name": fields.pop("name", "全部"), "rep_ids": [r.id for r in reps], **fields},
            team["admin"],
        )
        db.session.commit()
        return row

    return make


@pytest.fixture
def new_lead(ctx):
    """A new customer, assigned as the lead_created hook would (committed)."""

    def make(**fields):
        n = next(_numbers)
        fields.setdefault("source_channel", "mp")
        customer = Customer(name=fields.pop("name", f"客户{n}"), **fields)
        db.session.add(customer)
        db.session.flush()
        lead = assignment.assign(customer)
        db.session.commit()
        return customer, lead

    return make


def notices(kind: str) -> list[Notice]:
    return list(db.session.query(Notice).filter_by(kind=kind).order_by(Notice.id))
