"""Birthday greetings: once per customer per year (the idempotency key names the year)."""

from __future__ import annotations

import calendar
from datetime import date

from sqlalchemy import extract, or_, select

from app.core.extensions import db
from app.models import Customer
from app.services.notices import notice_timing, outbox
from app.services.notices.maintenance import SEND_AT


def _born_on(day: date):
    """Born on this month/day; on 28 February of a common year also those born on the 29th."""
    same = (extract("month", Customer.birthday) == day.month) & (
        extract("day", Customer.birthday) == day.day
    )
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        leap = (extract("month", Customer.birthday) == 2) & (
            extract("day", Customer.birthday) == 29
        )
        return or_(same, leap)
    return same


def birthdays(today: date) -> int:
    """Create today's greetings (marketing: the daily cap may move one to tomorrow)."""
    found = db.session.scalars(
        select(Customer).where(
            Customer.birthday.is_not(None), Customer.merged_into_id.is_(None), _born_on(today)
        )
    ).all()
    at = notice_timing.at_local(today, SEND_AT)
    for customer in found:
        outbox.create("birthday", f"customer:{customer.id}:{today.year}", customer=customer, at=at)
    return len(found)
