"""Working time: pure functions over a calendar (working hours, an optional lunch break,
working days and holidays, in one time zone). No database, no app: tests freeze nothing
but the datetimes they pass in.

    cal = Calendar.from_config(current_app.config)
    due = add_working_minutes(cal, first_message_at, 15)
    left = working_minutes_between(cal, now, due)   # negative once overdue
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 3660  # a calendar with no working day at all must not loop for ever


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    start: time
    end: time
    weekdays: frozenset[int]  # ISO: 1 is Monday
    holidays: frozenset[date] = frozenset()
    lunch: tuple[time, time] | None = None

    @classmethod
    def from_config(cls, config: Mapping) -> Calendar:
        (sh, sm), (eh, em) = config["SLA_WORK_HOURS"]
        lunch = config.get("SLA_LUNCH") or ()
        return cls(
            zone=ZoneInfo(config["TIMEZONE"]),
            start=time(sh, sm),
            end=time(eh, em),
            weekdays=frozenset(config["SLA_WORK_DAYS"]),
            holidays=frozenset(config.get("SLA_HOLIDAYS") or ()),
            lunch=(time(*lunch[0]), time(*lunch[1])) if lunch else None,
        )

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of one local day (aware datetimes), in order."""
        if not self.is_working_day(day):
            return []
        at = lambda t: datetime.combine(day, t, self.zone)  # noqa: E731
        if self.lunch and self.start < self.lunch[0] < self.lunch[1] < self.end:
            return [(at(self.start), at(self.lunch[0])), (at(self.lunch[1]), at(self.end))]
        return [(at(self.start), at(self.end))]


def _spans_from(cal: Calendar, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals from `moment` on, the first one clipped to start at it."""
    day = moment.astimezone(cal.zone).date()
    for offset in range(MAX_DAYS):
        for start, end in cal.spans(day + timedelta(days=offset)):
            if end > moment:
                yield max(start, moment), end
    raise ValueError("the working calendar has no working time (check SLA_WORK_DAYS)")


def add_working_minutes(cal: Calendar, moment: datetime, minutes: int) -> datetime:
    """The instant `minutes` of working time after `moment` (UTC-aware in, UTC out)."""
    left = timedelta(minutes=minutes)
    for start, end in _spans_from(cal, moment):
        if end - start >= left:
            return (start + left).astimezone(UTC)
        left -= end - start
    raise AssertionError("unreachable")  # pragma: no cover - _spans_from raises first


def working_minutes_between(cal: Calendar, a: datetime, b: datetime) -> int:
    """Whole minutes of working time from `a` to `b`; negative when `b` is before `a`."""
    if b < a:
        return -working_minutes_between(cal, b, a)
    total = timedelta()
    for start, end in _spans_from(cal, a):
        if start >= b:
            break
        total += min(end, b) - start
    return int(total.total_seconds() // 60)
