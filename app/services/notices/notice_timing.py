"""When a notice may go out: decent hours, the marketing cap, retry backoff.

Times are stored in UTC; the window (NOTICE_WINDOW_START–END, default 08:30–21:00) and the
marketing day are read in TIMEZONE (Asia/Shanghai): what the customer's clock says.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import Notice

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
MAX_DAYS_AHEAD = 60  # the marketing cap never pushes a notice further than this


def local_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def today() -> date:
    return datetime.now(UTC).astimezone(local_tz()).date()


def at_local(day: date, hhmm: tuple[int, int]) -> datetime:
    """`day` at local HH:MM, as a UTC datetime."""
    return datetime.combine(day, time(*hhmm), local_tz()).astimezone(UTC)


def _window() -> tuple[tuple[int, int], tuple[int, int]]:
    cfg = current_app.config
    return cfg["NOTICE_WINDOW_START"], cfg["NOTICE_WINDOW_END"]


def window_open(when: datetime) -> datetime:
    """`when` if it is inside the window, else the next opening (a 22:00 → 08:30 next day)."""
    start, end = _window()
    local = when.astimezone(local_tz())
    if time(*start) <= local.time() < time(*end):
        return when
    day = local.date() if local.time() < time(*start) else local.date() + timedelta(days=1)
    return at_local(day, start)


def next_day_open(when: datetime) -> datetime:
    """The window opening of the local day after `when` (WeChat's daily quota resets)."""
    return at_local(when.astimezone(local_tz()).date() + timedelta(days=1), _window()[0])


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at an hour."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _marketing_count(customer_id: int, day: date) -> int:
    start = at_local(day, (0, 0))
    return db.session.scalar(
        select(func.count())
        .select_from(Notice)
        .where(
            Notice.customer_id == customer_id,
            Notice.marketing.is_(True),
            Notice.status.not_in(("failed",)),
            Notice.scheduled_at >= start,
            Notice.scheduled_at < start + timedelta(days=1),
        )
    )


def marketing_slot(customer_id: int, when: datetime) -> datetime:
    """The first time from `when` on whose local day has room under MARKETING_PER_DAY."""
    cap = current_app.config["MARKETING_PER_DAY"]
    for _ in range(MAX_DAYS_AHEAD):
        day = when.astimezone(local_tz()).date()
        if _marketing_count(customer_id, day) < cap:
            return when
        when = next_day_open(when)
    return when
