"""The working-time clock of the response SLA: pure functions, datetimes passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.core.config import ConfigError, load_config
from app.services.sales.clock import Calendar, add_working_minutes, working_minutes_between

SH = ZoneInfo("Asia/Shanghai")
# 2026-11-27 is a Friday; Monday 2026-11-30 is listed as a holiday.
CAL = Calendar(
    zone=SH,
    start=time(9),
    end=time(18),
    weekdays=frozenset({1, 2, 3, 4, 5}),
    holidays=frozenset({date(2026, 11, 30)}),
)
LUNCH = Calendar(
    zone=SH,
    start=time(9),
    end=time(18),
    weekdays=frozenset(range(1, 6)),
    lunch=(time(12), time(13)),
)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_friday_evening_to_tuesday_over_a_weekend_and_a_holiday_monday():
    due = add_working_minutes(CAL, local(2026, 11, 27, 17, 55), 15)
    assert due == local(2026, 12, 1, 9, 10)
    assert due.tzinfo == UTC
    assert due.astimezone(SH).strftime("%a %H:%M") == "Tue 09:10"


def test_within_the_day_it_is_plain_minutes():
    assert add_working_minutes(CAL, local(2026, 11, 26, 10, 0), 15) == local(2026, 11, 26, 10, 15)


def test_an_evening_message_is_due_fifteen_minutes_after_the_next_opening():
    assert add_working_minutes(CAL, local(2026, 11, 25, 21, 30), 15) == local(2026, 11, 26, 9, 15)


def test_an_early_morning_message_waits_for_nine():
    assert add_working_minutes(CAL, local(2026, 11, 26, 6, 0), 15) == local(2026, 11, 26, 9, 15)


def test_saturday_waits_for_monday_without_holidays():
    assert add_working_minutes(LUNCH, local(2026, 11, 28, 11, 0), 15) == local(2026, 11, 30, 9, 15)


def test_lunch_break_is_not_working_time():
    assert add_working_minutes(LUNCH, local(2026, 11, 26, 11, 55), 15) == local(
        2026, 11, 26, 13, 10
    )
    assert add_working_minutes(LUNCH, local(2026, 11, 26, 12, 20), 15) == local(
        2026, 11, 26, 13, 15
    )
    # Without a lunch break the same message is due at 12:10.
    assert add_working_minutes(CAL, local(2026, 11, 26, 11, 55), 15) == local(2026, 11, 26, 12, 10)


def test_minutes_between_count_working_time_only_and_go_negative_when_overdue():
    friday, tuesday = local(2026, 11, 27, 17, 55), local(2026, 12, 1, 9, 10)
    assert working_minutes_between(CAL, friday, tuesday) == 15
    assert working_minutes_between(CAL, tuesday, friday) == -15
    assert (
        working_minutes_between(LUNCH, local(2026, 11, 26, 11, 0), local(2026, 11, 26, 14, 0))
        == 120
    )


def test_settings_are_parsed_and_bad_ones_named():
    config = load_config({"SLA_HOLIDAYS": "2026-11-30, 2026-10-01", "SLA_LUNCH": "12:00-13:30"})
    assert config["SLA_WORK_HOURS"] == ((9, 0), (18, 0))
    assert config["SLA_WORK_DAYS"] == {1, 2, 3, 4, 5}
    assert date(2026, 11, 30) in config["SLA_HOLIDAYS"]
    cal = Calendar.from_config(config)
    assert cal.lunch == (time(12), time(13, 30)) and cal.zone.key == "Asia/Shanghai"
    for name, bad in (
        ("SLA_WORK_DAYS", "1-9"),
        ("SLA_WORK_HOURS", "18:00-09:00"),
        ("SLA_HOLIDAYS", "2026-13-01"),
        ("SLA_RESPONSE_MINUTES", "0"),
    ):
        with pytest.raises(ConfigError, match=name):
            load_config({name: bad})


def test_a_calendar_without_working_days_is_refused_not_looped():
    with pytest.raises(ValueError):
        add_working_minutes(
            Calendar(zone=SH, start=time(9), end=time(18), weekdays=frozenset()),
            local(2026, 1, 1),
            1,
        )
