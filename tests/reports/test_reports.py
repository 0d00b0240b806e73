"""Reports against numbers worked out here, independently of helpwire's queries: tickets
per day, reply and resolution times (median, p90), SLA achievement, satisfaction; filters,
breakdowns and CSV."""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from helpwire.reports.aggregates import fold, rebuild
from helpwire.reports.models import ReportDay
from helpwire.tickets import events as ticket_events
from helpwire.tickets import service as tickets_service
from tests.conftest import World

DAY0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


class Clock:
    def __init__(self) -> None:
        self.now = DAY0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """The time requests record at: their events and the ticket's own times."""
    now = Clock()
    monkeypatch.setattr(ticket_events, "utcnow", now)
    monkeypatch.setattr(tickets_service, "utcnow", now)
    yield now


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def in_buckets(seconds: float) -> float:
    """A time as the daily counts keep it: the upper edge of its 5 % bucket."""
    if seconds < 1:
        return 0.0
    return 1.05 ** math.ceil(math.log(seconds) / math.log(1.05) - 1e-9)


async def report(world: World, name: str, **params: Any) -> dict[str, Any]:
    response = await world.get("agent", f"/api/v1/reports/{name}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def file_and_work(
    world: World, clock: Clock, *, day: int, reply_after: int | None, solve_after: int | None
) -> int:
    """A ticket filed on DAY0 + day; answered and solved that many minutes later."""
    clock.now = DAY0 + timedelta(days=day)
    start = clock.now
    number = (await world.create_ticket("owner"))["number"]
    if reply_after is not None:
        clock.now = start + timedelta(minutes=reply_after)
        await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": "Hi"})
    if solve_after is not None:
        clock.now = start + timedelta(minutes=solve_after)
        await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "solved"})
    return number


async def test_tickets_per_day_and_reply_times(world: World, clock: Clock) -> None:
    plan = [  # (day, first reply after, solved after), in minutes
        (0, 10, 60),
        (0, 20, None),
        (1, 30, 240),
        (1, None, None),
        (2, 5, 30),
        (2, 50, 600),
        (4, 15, 90),
    ]
    for day, reply, solve in plan:
        await file_and_work(world, clock, day=day, reply_after=reply, solve_after=solve)
    clock.now = DAY0 + timedelta(days=6)

    per_day = await report(world, "tickets", start="2026-11-02", end="2026-11-07")
    created = {d["day"]: d["created"] for d in per_day["days"]}
    solved = {d["day"]: d["solved"] for d in per_day["days"]}
    assert created == {
        "2026-11-02": 2,
        "2026-11-03": 2,
        "2026-11-04": 2,
        "2026-11-05": 0,
        "2026-11-06": 1,
    }
    # Day 2's 600-minute solve falls on the same day (09:00 + 10 h).
    assert solved == {
        "2026-11-02": 1,
        "2026-11-03": 1,
        "2026-11-04": 2,
        "2026-11-05": 0,
        "2026-11-06": 1,
    }
    assert (per_day["created"], per_day["solved"]) == (7, 5)

    times = await report(world, "times", start="2026-11-02", end="2026-11-07")
    replies = [r * 60.0 for _d, r, _s in plan if r is not None]
    solves = [s * 60.0 for _d, _r, s in plan if s is not None]
    # Read from the daily counts: each percentile is its time's 5 % bucket's upper edge.
    assert times["first_reply"] == {
        "count": len(replies),
        "median_seconds": pytest.approx(in_buckets(nearest_rank(replies, 0.5))),
        "p90_seconds": pytest.approx(in_buckets(nearest_rank(replies, 0.9))),
    }
    assert times["resolution"]["count"] == len(solves)
    assert times["resolution"]["median_seconds"] == pytest.approx(
        in_buckets(nearest_rank(solves, 0.5))
    )
    assert times["resolution"]["p90_seconds"] == pytest.approx(
        in_buckets(nearest_rank(solves, 0.9))
    )
    # For one account the facts themselves are read: exact, and the statistics module's
    # median for an odd count.
    exact = await report(world, "times", start="2026-11-02", end="2026-11-07", account="acme")
    assert exact["resolution"]["median_seconds"] == statistics.median(solves)
    assert exact["first_reply"]["p90_seconds"] == nearest_rank(replies, 0.9)

    narrow = await report(world, "tickets", start="2026-11-03", end="2026-11-04")
    assert narrow["days"] == [{"day": "2026-11-03", "created": 2, "solved": 1}]


async def test_business_hours_and_pauses_count_in_reply_times(world: World, clock: Clock) -> None:
    calendar = await world.post(
        "admin",
        "/api/v1/calendars",
        json={
            "key": "office",
            "name": "Office",
            "time_zone": "UTC",
            "windows": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        },
    )
    assert calendar.status_code == 201
    await world.post(
        "admin",
        "/api/v1/sla-policies",
        json={
            "name": "Office",
            "targets": {
                "first_reply": {"minutes": 600, "calendar": "office"},
                "resolution": {"minutes": 6000, "calendar": "office"},
            },
        },
    )
    # Filed Friday 16:00, answered Monday 10:00: two working hours.
    clock.now = datetime(2026, 11, 6, 16, 0, tzinfo=UTC)
    number = (await world.create_ticket("owner"))["number"]
    clock.now = datetime(2026, 11, 9, 10, 0, tzinfo=UTC)
    await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": "Hi"})
    # Pending from Monday 11:00 to Tuesday 11:00, solved Tuesday 12:00: 2 + 1 + 1 hours.
    clock.now = datetime(2026, 11, 9, 11, 0, tzinfo=UTC)
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "pending"})
    clock.now = datetime(2026, 11, 10, 11, 0, tzinfo=UTC)
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "open"})
    clock.now = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "solved"})

    times = await report(world, "times", start="2026-11-01", end="2026-11-30")
    assert times["first_reply"]["median_seconds"] == pytest.approx(in_buckets(2 * 3600))
    assert times["resolution"]["median_seconds"] == pytest.approx(in_buckets(4 * 3600))
    exact = await report(world, "times", start="2026-11-01", end="2026-11-30", account="acme")
    assert exact["first_reply"]["median_seconds"] == 2 * 3600
    assert exact["resolution"]["median_seconds"] == 4 * 3600
    sla = await report(world, "sla", start="2026-11-01", end="2026-11-30")
    assert sla["first_reply"] == {"met": 1, "breached": 0, "achieved_percent": 100.0}
    assert sla["resolution"] == {"met": 1, "breached": 0, "achieved_percent": 100.0}


async def test_satisfaction_filters_breakdowns_and_csv(world: World, clock: Clock) -> None:
    await world.post("admin", "/api/v1/groups", json={"key": "desk", "name": "Desk"})
    scores = [(5, "Great"), (4, None), (2, "Slow"), (5, None)]
    numbers = []
    for index, (score, comment) in enumerate(scores):
        clock.now = DAY0 + timedelta(hours=index)
        number = (await world.create_ticket("owner"))["number"]
        numbers.append(number)
        if index < 2:
            await world.patch("agent", f"/api/v1/tickets/{number}", json={"group": "desk"})
        body: dict[str, Any] = {"score": score}
        if comment:
            body["comment"] = comment
        closed = await world.post("owner", f"/api/v1/tickets/{number}/close", json=body)
        assert closed.status_code == 200, closed.text

    csat = await report(world, "csat", start="2026-11-02", end="2026-11-03")
    assert csat["count"] == 4 and csat["average"] == round(sum(s for s, _ in scores) / 4, 2)
    assert csat["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 2}
    assert [c["comment"] for c in csat["comments"]] == ["Slow", "Great"]

    desk = await report(world, "csat", start="2026-11-02", end="2026-11-03", group="desk")
    assert desk["count"] == 2 and desk["average"] == 4.5
    nobody = await report(world, "csat", start="2026-11-02", end="2026-11-03", group="nope")
    assert nobody["count"] == 0 and nobody["comments"] == []
    by_group = await report(world, "csat", start="2026-11-02", end="2026-11-03", by="group")
    rows = {row["group"]: row["count"] for row in by_group["rows"]}
    assert rows == {"desk": 2, None: 2}

    exported = await world.get(
        "agent",
        "/api/v1/reports/csat",
        params={"start": "2026-11-02", "end": "2026-11-03", "format": "csv"},
    )
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[0] == ["ratings", "average", "score_1", "score_2", "score_3", "score_4", "score_5"]
    assert table[1] == ["4", "4.0", "0", "1", "0", "1", "2"]


async def test_reports_are_for_staff_and_ranges_are_checked(world: World) -> None:
    assert (await world.get("owner", "/api/v1/reports/tickets")).status_code == 403
    assert (await world.get("agent", "/api/v1/reports/nope")).status_code == 422
    backwards = await world.get(
        "agent", "/api/v1/reports/tickets", params={"start": "2026-02-01", "end": "2026-01-01"}
    )
    assert backwards.status_code == 422
    too_long = await world.get(
        "agent", "/api/v1/reports/tickets", params={"start": "2020-01-01", "end": "2026-01-01"}
    )
    assert too_long.status_code == 422
    by_day = await world.get("agent", "/api/v1/reports/tickets", params={"by": "agent"})
    assert by_day.status_code == 422
    default = await report(world, "tickets")
    assert len(default["days"]) == 30


async def test_counting_again_from_the_facts_gives_the_same_counts(
    world: World, clock: Clock
) -> None:
    # The daily counts kept change by change equal those made from nothing (the rebuild
    # migration 0018 asks for), tickets moving between agents and reopened included.
    await world.post("admin", "/api/v1/groups", json={"key": "desk", "name": "Desk"})
    for day in range(3):
        number = await file_and_work(world, clock, day=day, reply_after=15, solve_after=90)
        await world.patch("agent", f"/api/v1/tickets/{number}", json={"assignee": "agent2"})
        await world.patch("agent", f"/api/v1/tickets/{number}", json={"group": "desk"})
        if day == 1:
            await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "open"})
            await world.patch("agent", f"/api/v1/tickets/{number}", json={"assignee": "agent"})

    async def counts() -> dict[tuple[str, str, int, str, int], int]:
        async with world.database.reader() as session:
            rows = await session.scalars(select(ReportDay))
            return {(r.metric, r.dim, r.dim_id, r.day, r.bucket): r.count for r in rows if r.count}

    # The changes wait as deltas until the minute's fold adds them to the counts; reports
    # read both, so a report is the same before and after.
    before = await report(world, "times", start="2026-11-01", end="2026-11-30", by="agent")
    async with world.database.writing() as session:
        assert await fold(session) > 0
        assert await fold(session) == 0
    assert await report(world, "times", start="2026-11-01", end="2026-11-30", by="agent") == before
    kept = await counts()
    assert kept
    async with world.database.writing() as session:
        assert await rebuild(session) == 3
    assert await counts() == kept


def test_a_range_is_read_as_whole_months_and_the_days_at_its_ends() -> None:
    from datetime import date

    from helpwire.reports.daily import periods

    assert periods(date(2026, 10, 15), date(2026, 12, 10)) == (
        [("2026-10-15", "2026-11-01"), ("2026-12-01", "2026-12-10")],
        ("2026-11", "2026-12"),
    )
    assert periods(date(2026, 1, 1), date(2027, 1, 1)) == ([], ("2026-01", "2027-01"))
    assert periods(date(2026, 11, 3), date(2026, 11, 20)) == ([("2026-11-03", "2026-11-20")], None)


async def test_months_and_days_add_up_to_what_the_facts_say(world: World, clock: Clock) -> None:
    # Tickets on both sides of two month boundaries; the report over the whole stretch
    # (whole November from the monthly counts, the ends from the daily ones) counts as the
    # facts themselves do (the account filter reads the facts).
    for day in (-20, -3, 0, 10, 27, 31, 35):
        number = await file_and_work(world, clock, day=day, reply_after=20 + day, solve_after=200)
        closed = await world.post(
            "owner", f"/api/v1/tickets/{number}/close", json={"score": 1 + day % 5}
        )
        assert closed.status_code == 200
    window = {"start": "2026-10-20", "end": "2026-12-06"}
    for name in ("tickets", "sla", "csat"):
        kept = await report(world, name, **window)
        exact = await report(world, name, **window, account="acme")
        kept.pop("filters"), exact.pop("filters")
        assert kept == exact, name
    kept_times = await report(world, "times", **window)
    exact_times = await report(world, "times", **window, account="acme")
    for measure in ("first_reply", "resolution"):
        assert kept_times[measure]["count"] == exact_times[measure]["count"]
        assert kept_times[measure]["median_seconds"] == pytest.approx(
            in_buckets(exact_times[measure]["median_seconds"])
        )
