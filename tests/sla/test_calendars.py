"""Business time on calendars: weekends, several windows a day, public and own holidays,
and the days the clocks change, checked against times worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from helpwire.sla.calendars import DAYS, BusinessHours, NeverOpen, parse_clock_time
from helpwire.sla.clocks import Clocks

NINE_TO_FIVE = {day: ((time(9), time(17)),) for day in DAYS[:5]}
BERLIN = BusinessHours("Europe/Berlin", NINE_TO_FIVE, holiday_country="DE")
HOUR = 3600


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_always_open_is_plain_time() -> None:
    always = BusinessHours()
    assert always.add(utc(2026, 12, 5, 23, 30), 3600) == utc(2026, 12, 6, 0, 30)
    assert always.between(utc(2026, 1, 1), utc(2026, 1, 2)) == 86400


def test_a_target_across_a_weekend() -> None:
    # Friday 16:00 Berlin (15:00 UTC, winter): one hour on Friday, one on Monday from 09:00.
    friday = utc(2026, 11, 27, 15, 0)
    assert BERLIN.add(friday, 2 * HOUR) == utc(2026, 11, 30, 9, 0)
    assert BERLIN.between(friday, utc(2026, 11, 30, 9, 0)) == 2 * HOUR


def test_a_target_across_public_holidays() -> None:
    # Thursday 24 December 16:00: Christmas Day and Boxing Day (public holidays in Germany)
    # and the Sunday are closed; the second hour is Monday 28 December, 09:00-10:00 Berlin.
    assert BERLIN.add(utc(2026, 12, 24, 15, 0), 2 * HOUR) == utc(2026, 12, 28, 9, 0)


def test_own_holidays_and_subdivisions() -> None:
    closed_monday = BusinessHours(
        "Europe/Berlin", NINE_TO_FIVE, custom_holidays=frozenset({datetime(2026, 11, 30).date()})
    )
    assert closed_monday.add(utc(2026, 11, 27, 15, 0), 2 * HOUR) == utc(2026, 12, 1, 9, 0)
    # Epiphany (6 January) is a holiday in Bavaria, not in Berlin.
    bavaria = BusinessHours("Europe/Berlin", NINE_TO_FIVE, "DE", "BY")
    berlin_state = BusinessHours("Europe/Berlin", NINE_TO_FIVE, "DE", "BE")
    start = utc(2027, 1, 5, 15, 0)  # Tuesday 16:00
    assert berlin_state.add(start, 2 * HOUR) == utc(2027, 1, 6, 9, 0)
    assert bavaria.add(start, 2 * HOUR) == utc(2027, 1, 7, 9, 0)


def test_the_spring_and_autumn_clock_changes() -> None:
    # Summer time starts on Sunday 29 March 2026: Friday 16:00 CET is 15:00 UTC, Monday
    # 09:00 CEST is 07:00 UTC.
    assert BERLIN.add(utc(2026, 3, 27, 15, 0), 2 * HOUR) == utc(2026, 3, 30, 8, 0)
    # It ends on Sunday 25 October: Friday 16:00 CEST is 14:00 UTC, Monday 09:00 CET 08:00.
    assert BERLIN.add(utc(2026, 10, 23, 14, 0), 2 * HOUR) == utc(2026, 10, 26, 9, 0)
    # A working day is eight hours on either side of a change.
    every_day = BusinessHours("Europe/Berlin", {d: ((time(0), time(0)),) for d in DAYS})
    assert every_day.between(utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)) == 23 * HOUR
    assert every_day.between(utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)) == 25 * HOUR


def test_several_windows_a_day_and_the_gap_between() -> None:
    split = BusinessHours("UTC", {d: ((time(9), time(12)), (time(13), time(17))) for d in DAYS})
    assert split.add(utc(2026, 12, 7, 11, 0), 2 * HOUR) == utc(2026, 12, 7, 14, 0)
    assert split.between(utc(2026, 12, 7, 8), utc(2026, 12, 7, 18)) == 7 * HOUR
    assert split.is_open(utc(2026, 12, 7, 12, 30)) is False
    assert split.is_open(utc(2026, 12, 7, 13, 0)) is True


def test_a_calendar_never_open_does_not_loop() -> None:
    never = BusinessHours("UTC", {"mon": ((time(9), time(10)),)}, custom_holidays=frozenset())
    every_monday_off = BusinessHours(
        "UTC",
        {"mon": ((time(9), time(10)),)},
        custom_holidays=frozenset(
            (datetime(2026, 12, 7) + timedelta(weeks=w)).date() for w in range(200)
        ),
    )
    assert never.add(utc(2026, 12, 5), HOUR) == utc(2026, 12, 7, 10)
    with pytest.raises(NeverOpen):
        every_monday_off.add(utc(2026, 12, 5), HOUR)


def test_clock_times_are_read_strictly() -> None:
    assert parse_clock_time("24:00") == time(0)
    for bad in ("9", "9:5", "25:00", "12:60", "ab:cd"):
        with pytest.raises(ValueError):
            parse_clock_time(bad)


def test_a_pause_moves_the_due_time_by_the_working_time_it_took() -> None:
    clocks = Clocks({}, lambda _id: BERLIN)
    monday = utc(2026, 11, 30, 8, 0)  # 09:00 Berlin
    clocks.start("resolution", minutes=240, calendar_id=1, at=monday)
    assert clocks.due("resolution") == utc(2026, 11, 30, 12, 0)
    clocks.pause(utc(2026, 11, 30, 9, 0))  # after one working hour
    assert clocks.due("resolution") is None
    # Resumed on Tuesday 10:00 Berlin: three hours left.
    clocks.resume(utc(2026, 12, 1, 9, 0))
    assert clocks.due("resolution") == utc(2026, 12, 1, 12, 0)


def test_a_breach_and_a_warning_come_once() -> None:
    clocks = Clocks({}, lambda _id: BusinessHours())
    start = utc(2026, 12, 5, 10, 0)
    clocks.start("first_reply", minutes=10, calendar_id=1, at=start)
    assert clocks.next_alarm(warning_minutes=5) == start + timedelta(minutes=5)
    warned = clocks.settle(start + timedelta(minutes=6), warning_minutes=5)
    assert [a.kind for a in warned] == ["warning"]
    assert clocks.settle(start + timedelta(minutes=7), warning_minutes=5) == []
    assert clocks.next_alarm(warning_minutes=5) == start + timedelta(minutes=10)
    breached = clocks.settle(start + timedelta(minutes=11), warning_minutes=5)
    assert [a.kind for a in breached] == ["breached"]
    assert clocks.settle(start + timedelta(minutes=20), warning_minutes=5) == []
    assert clocks.next_alarm(warning_minutes=5) is None


def test_a_clock_on_a_calendar_never_open_runs_without_a_due_time() -> None:
    closed = BusinessHours(
        "UTC",
        {"mon": ((time(9), time(10)),)},
        custom_holidays=frozenset(
            (datetime(2026, 12, 7) + timedelta(weeks=w)).date() for w in range(200)
        ),
    )
    clocks = Clocks({}, lambda _id: closed)
    clocks.start("resolution", minutes=60, calendar_id=1, at=utc(2026, 12, 5))
    assert clocks.due("resolution") is None
    assert clocks.next_alarm(warning_minutes=10) is None
