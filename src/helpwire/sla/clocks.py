"""A ticket's SLA clocks, as plain values: start, stop, pause, resume, and what is due.

Each target (first reply, next reply, resolution) is a clock that counts working time on
its calendar. A running clock has a due time: its target's working seconds, less those
used before it last started running, added to that start. Pausing banks the working time
used so far and clears the due time; resuming counts on from the bank. So a pause of any
length, across any nights and holidays, moves the due time by exactly the working time it
took away. The clocks know no database; sla.service loads and stores them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from helpwire.sla.calendars import BusinessHours, NeverOpen

TARGETS = ("first_reply", "next_reply", "resolution")
RUNNING, PAUSED, DONE = "running", "paused", "done"

HoursOf = Callable[[int], BusinessHours]  # a calendar's id -> its business hours


@dataclass
class Clock:
    minutes: int
    calendar_id: int
    started_at: datetime
    state: str = RUNNING
    consumed: float = 0.0  # working seconds used before running_since
    running_since: datetime | None = None
    due_at: datetime | None = None
    done_at: datetime | None = None
    warned: bool = False
    breached: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(self).items()
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Clock:
        values = dict(data)
        for key in ("started_at", "running_since", "due_at", "done_at"):
            if values.get(key) is not None:
                values[key] = datetime.fromisoformat(values[key])
        return cls(**values)


@dataclass(frozen=True)
class Alarm:
    """A warning or a breach that came due, to be recorded as an event once."""

    kind: str  # "warning" or "breached"
    target: str
    due_at: datetime


class Clocks:
    """The clocks of one ticket, by target."""

    def __init__(self, clocks: dict[str, Clock], hours_of: HoursOf) -> None:
        self.clocks = clocks
        self.hours_of = hours_of

    def running(self) -> Iterator[tuple[str, Clock]]:
        return ((t, c) for t, c in self.clocks.items() if c.state == RUNNING)

    def start(self, target: str, *, minutes: int, calendar_id: int, at: datetime) -> None:
        """A new clock for ``target`` (a next reply's clock starts again for each turn)."""
        clock = Clock(minutes=minutes, calendar_id=calendar_id, started_at=at)
        self.clocks[target] = clock
        self._run(clock, at)

    def stop(self, target: str, at: datetime) -> list[Alarm]:
        """The target was met at ``at`` (late, if it is past the due time)."""
        clock = self.clocks.get(target)
        if clock is None or clock.state == DONE:
            return []
        alarms = self.settle(at, warning_minutes=0, only=target)
        if clock.state == RUNNING:
            self._bank(clock, at)
        clock.state, clock.done_at, clock.due_at = DONE, at, None
        return alarms

    def pause(self, at: datetime) -> None:
        for _target, clock in list(self.running()):
            self._bank(clock, at)
            clock.state, clock.due_at = PAUSED, None

    def resume(self, at: datetime) -> None:
        for clock in self.clocks.values():
            if clock.state == PAUSED:
                self._run(clock, at)

    def retarget(self, target: str, *, minutes: int, calendar_id: int, at: datetime) -> None:
        """A new policy's target for a clock that runs on: the working time used so far
        counts against the new target."""
        clock = self.clocks[target]
        if clock.state == RUNNING:
            self._bank(clock, at)
        clock.minutes, clock.calendar_id = minutes, calendar_id
        if clock.state == RUNNING:
            self._run(clock, at)

    def settle(self, at: datetime, *, warning_minutes: int, only: str | None = None) -> list[Alarm]:
        """The warnings and breaches due by ``at``, each marked so that it comes once."""
        alarms: list[Alarm] = []
        for target, clock in self.clocks.items():
            if clock.state != RUNNING or clock.due_at is None or only not in (None, target):
                continue
            if not clock.breached and clock.due_at <= at:
                clock.breached = clock.warned = True
                alarms.append(Alarm("breached", target, clock.due_at))
            elif self._warns(clock, at, warning_minutes):
                clock.warned = True
                alarms.append(Alarm("warning", target, clock.due_at))
        return alarms

    @staticmethod
    def _warns(clock: Clock, at: datetime, warning_minutes: int) -> bool:
        if not warning_minutes or clock.warned or clock.due_at is None:
            return False
        return clock.due_at - timedelta(minutes=warning_minutes) <= at

    def next_alarm(self, *, warning_minutes: int) -> datetime | None:
        """When the next warning or breach comes, if nothing changes meanwhile."""
        moments = []
        for _target, clock in self.running():
            if clock.due_at is None or clock.breached:
                continue
            if warning_minutes and not clock.warned:
                moments.append(clock.due_at - timedelta(minutes=warning_minutes))
            else:
                moments.append(clock.due_at)
        return min(moments, default=None)

    def due(self, target: str) -> datetime | None:
        clock = self.clocks.get(target)
        return clock.due_at if clock is not None and clock.state == RUNNING else None

    def _bank(self, clock: Clock, at: datetime) -> None:
        if clock.running_since is not None:
            hours = self.hours_of(clock.calendar_id)
            clock.consumed += hours.between(clock.running_since, at)
        clock.running_since = None

    def _run(self, clock: Clock, at: datetime) -> None:
        hours = self.hours_of(clock.calendar_id)
        clock.state, clock.running_since = RUNNING, at
        left = max(0.0, clock.minutes * 60 - clock.consumed)
        try:
            clock.due_at = hours.add(at, left)
        except NeverOpen:
            # A calendar with no working time for years (every working day a holiday):
            # the clock runs but cannot come due; a request must not fail over it.
            clock.due_at = None
