"""Business time: adding working minutes to a moment, and counting them between two.

A calendar is open in weekly windows of local time, in its time zone, except on holidays.
Each day's windows are turned into UTC intervals through the zone, so that a window keeps
its local hours across a change of summer time (a 09:00-17:00 day is 8 hours on either
side of it; a window that the change cuts short, such as 02:00-03:00 on the night the
clocks go forward, is as long as the wall clock says). Nobody's library does this walk with
holidays and several windows a day, so it is written here (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Adding time walks at most this many days: a calendar open one hour a year still answers,
# and one that is never open (every day a holiday) cannot loop for ever.
MAX_DAYS = 3 * 366


class NeverOpen(ValueError):
    """The calendar has no working time within MAX_DAYS of the moment."""


@dataclass(frozen=True)
class BusinessHours:
    """A calendar as the clocks use it. ``windows`` None: always open."""

    time_zone: str = "UTC"
    windows: Mapping[str, tuple[tuple[time, time], ...]] | None = None
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    custom_holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def always_open(self) -> bool:
        return self.windows is None

    def is_holiday(self, day: date) -> bool:
        if day in self.custom_holidays:
            return True
        if self.holiday_country is None:
            return False
        return day in _public_holidays(self.holiday_country, self.holiday_subdivision, day.year)

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working intervals in UTC (empty on a holiday or a closed day)."""
        assert self.windows is not None
        if self.is_holiday(day):
            return []
        zone = ZoneInfo(self.time_zone)
        intervals = []
        for start, end in self.windows.get(DAYS[day.weekday()], ()):
            begins = _utc(day, start, zone)
            ends = (
                _utc(day + timedelta(days=1), time(0), zone)
                if end == time(0)
                else _utc(day, end, zone)
            )
            if ends > begins:
                intervals.append((begins, ends))
        return intervals

    def is_open(self, moment: datetime) -> bool:
        if self.always_open:
            return True
        return any(a <= moment < b for a, b in self._intervals_from(moment, days=1))

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment ``seconds`` of working time after ``start``."""
        if self.always_open:
            return start + timedelta(seconds=seconds)
        left = max(0.0, seconds)
        for begins, ends in self._intervals_from(start, days=MAX_DAYS):
            begins = max(begins, start)
            if ends <= begins:
                continue
            span = (ends - begins).total_seconds()
            if left <= span:
                return begins + timedelta(seconds=left)
            left -= span
        raise NeverOpen(f"no working time within {MAX_DAYS} days of {start.isoformat()}")

    def between(self, start: datetime, end: datetime) -> float:
        """Seconds of working time from ``start`` to ``end`` (0 if end is not later)."""
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds()
        total = 0.0
        days = (end - start).days + 2
        for begins, ends in self._intervals_from(start, days=days):
            if begins >= end:
                break
            overlap = (min(ends, end) - max(begins, start)).total_seconds()
            total += max(0.0, overlap)
        return total

    def _intervals_from(
        self, moment: datetime, *, days: int
    ) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals in order, from the local day before ``moment`` (a window of
        that day may run past midnight UTC) for ``days`` more days."""
        local_day = moment.astimezone(ZoneInfo(self.time_zone)).date()
        for offset in range(-1, days + 1):
            yield from self.open_intervals(local_day + timedelta(days=offset))


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC moment of local ``day`` ``at``: a time the clocks skip counts as the moment
    after the gap (fold=0 read through the zone's offset before the change)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


@lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def check_holiday_region(country: str, subdivision: str | None) -> str | None:
    """Why the holidays package knows no such country or subdivision (by their codes, as
    it lists them); None if it knows both."""
    subdivisions = holidays.list_supported_countries().get(country)
    if subdivisions is None:
        return f"the holidays package knows no country {country!r} (an ISO 3166 code, as DE)"
    if subdivision is not None and subdivision not in subdivisions:
        return f"the holidays package knows no subdivision {subdivision!r} of {country}"
    return None


def parse_clock_time(text: str) -> time:
    """ "HH:MM", 00:00 to 24:00 (24:00, as an end, is the next midnight)."""
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        raise ValueError(f"{text!r} is not HH:MM")
    h, m = int(hours), int(minutes)
    if (h, m) == (24, 0):
        return time(0)
    if h > 23 or m > 59:
        raise ValueError(f"{text!r} is not a time of day")
    return time(h, m)
