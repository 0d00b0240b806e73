"""SLA policies on tickets: due times on the answer, a breach recorded and notified once
by the timer, pauses that move the due time, next replies, reopening, sort and filters.

Time: the worker's clock is moved by the test; the events of a request take their time
from helpwire.tickets.events.utcnow, which the tests that need a request at a chosen
moment set (no sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from helpwire.db.session import Database
from helpwire.housekeeping import job_registry
from helpwire.jobs.worker import Worker
from helpwire.notify.models import Delivery
from helpwire.settings import Settings
from helpwire.tickets import events as ticket_events
from helpwire.tickets.models import Event
from tests.conftest import World
from tests.relays import FakeClock

POLICIES = "/api/v1/sla-policies"


class EventClock:
    """The time requests record their events at, set by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def event_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[EventClock]:
    clock = EventClock()
    monkeypatch.setattr(ticket_events, "utcnow", clock)
    yield clock


@pytest.fixture
def worker(database: Database, settings: Settings) -> Callable[[datetime], Worker]:
    def make(at: datetime) -> Worker:
        clock = FakeClock()
        clock.now = at
        return Worker(database, job_registry(settings), clock=clock, lease=timedelta(minutes=5))

    return make


async def make_policy(world: World, **spec: Any) -> dict[str, Any]:
    body = {"name": "Standard", **spec}
    response = await world.post("admin", POLICIES, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def ticket(world: World, number: int) -> dict[str, Any]:
    response = await world.get("agent", f"/api/v1/tickets/{number}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def sla_events(world: World, number: int) -> list[tuple[str, str]]:
    response = await world.get("agent", f"/api/v1/tickets/{number}/events")
    return [
        (e["type"], e["data"]["target"])
        for e in response.json()["items"]
        if e["type"].startswith("sla.")
    ]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_a_one_minute_first_reply_breaches_once_and_is_notified_once(
    world: World, worker: Callable[[datetime], Worker], event_clock: EventClock
) -> None:
    channel = await world.post(
        "admin",
        "/api/v1/channels",
        json={"name": "sla", "kind": "webhook", "url": "http://127.0.0.1:9/hook"},
    )
    assert channel.status_code == 201, channel.text
    await make_policy(world, targets={"first_reply": {"minutes": 1}}, warning_minutes=0)
    created = event_clock.now
    number = (await world.create_ticket("owner"))["number"]

    sla = (await ticket(world, number))["sla"]
    assert sla["policy"] == "Standard"
    assert at(sla["first_reply_due_at"]) == created + timedelta(minutes=1)
    assert sla["breaches"] == [] and sla["paused"] is False
    # Customers are not shown the service level.
    assert (await world.get("owner", f"/api/v1/tickets/{number}")).json()["sla"] is None

    assert await worker(created + timedelta(seconds=59)).run_once() == 1  # too early: moved
    assert await sla_events(world, number) == []
    assert await worker(created + timedelta(seconds=61)).run_once() == 1
    assert await sla_events(world, number) == [("sla.breached", "first_reply")]
    for later in (2, 5, 60):  # nothing more comes, whoever runs the timers and when
        await worker(created + timedelta(minutes=later)).run_once()
    assert await sla_events(world, number) == [("sla.breached", "first_reply")]

    shown = await ticket(world, number)
    assert shown["sla"]["breaches"][0]["target"] == "first_reply"
    assert shown["sla"]["first_reply_due_at"] == sla["first_reply_due_at"]
    async with world.database.reader() as session:
        notified = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.event_type == "sla.breached")
        )
    assert notified == 1
    listed = await world.get("agent", "/api/v1/tickets", params={"sla_breached": "true"})
    assert [t["number"] for t in listed.json()["items"]] == [number]


async def test_a_warning_comes_before_the_breach(
    world: World, worker: Callable[[datetime], Worker], event_clock: EventClock
) -> None:
    await make_policy(world, targets={"first_reply": {"minutes": 30}}, warning_minutes=10)
    created = event_clock.now
    number = (await world.create_ticket("owner"))["number"]
    await worker(created + timedelta(minutes=21)).run_once()
    assert await sla_events(world, number) == [("sla.warning", "first_reply")]
    # Answered in time: no breach ever comes.
    event_clock.advance(timedelta(minutes=25))
    reply = await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": "On it"})
    assert reply.status_code == 201
    await worker(created + timedelta(hours=2)).run_once()
    assert await sla_events(world, number) == [("sla.warning", "first_reply")]
    assert (await ticket(world, number))["sla"]["first_reply_due_at"] is None


async def test_pending_pauses_the_clock_and_moves_the_due_time(
    world: World, event_clock: EventClock
) -> None:
    await make_policy(world, targets={"resolution": {"minutes": 120}})
    created = event_clock.now
    number = (await world.create_ticket("owner"))["number"]
    due = at((await ticket(world, number))["sla"]["resolution_due_at"])
    assert due == created + timedelta(minutes=120)

    event_clock.advance(timedelta(minutes=30))
    pending = await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "pending"})
    assert pending.status_code == 200
    paused = (await ticket(world, number))["sla"]
    assert paused["paused"] is True and paused["resolution_due_at"] is None
    paused_list = await world.get("agent", "/api/v1/tickets", params={"sort": "sla_due_at"})
    assert paused_list.json()["items"] == []

    event_clock.advance(timedelta(hours=5))
    reopened = await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "open"})
    assert reopened.status_code == 200
    resumed = (await ticket(world, number))["sla"]
    assert resumed["paused"] is False
    assert at(resumed["resolution_due_at"]) == due + timedelta(hours=5)


async def test_next_reply_runs_for_each_customer_message_that_waits(
    world: World, event_clock: EventClock
) -> None:
    await make_policy(
        world, targets={"first_reply": {"minutes": 60}, "next_reply": {"minutes": 15}}
    )
    number = (await world.create_ticket("owner"))["number"]
    event_clock.advance(timedelta(minutes=5))
    await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": "Hello"})
    answered = (await ticket(world, number))["sla"]
    assert answered["first_reply_due_at"] is None and answered["next_reply_due_at"] is None

    event_clock.advance(timedelta(minutes=5))
    asked = event_clock.now
    await world.post("owner", f"/api/v1/tickets/{number}/comments", json={"body": "Still?"})
    event_clock.advance(timedelta(minutes=5))
    # A second message does not restart the clock of the first.
    await world.post("owner", f"/api/v1/tickets/{number}/comments", json={"body": "Hello?"})
    waiting = (await ticket(world, number))["sla"]
    assert at(waiting["next_reply_due_at"]) == asked + timedelta(minutes=15)
    # An internal note is no answer.
    await world.post(
        "agent", f"/api/v1/tickets/{number}/comments", json={"body": "hm", "internal": True}
    )
    assert (await ticket(world, number))["sla"]["next_reply_due_at"] is not None
    await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": "Done"})
    assert (await ticket(world, number))["sla"]["next_reply_due_at"] is None


async def test_a_reopened_ticket_counts_on_from_where_it_was_solved(
    world: World, event_clock: EventClock
) -> None:
    await make_policy(world, targets={"resolution": {"minutes": 60}})
    created = event_clock.now
    number = (await world.create_ticket("owner"))["number"]
    event_clock.advance(timedelta(minutes=20))
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "solved"})
    assert (await ticket(world, number))["sla"]["resolution_due_at"] is None
    event_clock.advance(timedelta(days=2))
    reopened_at = event_clock.now
    # The customer writes again: the ticket reopens, with 40 minutes left.
    answer = await world.post("owner", f"/api/v1/tickets/{number}/comments", json={"body": "No"})
    assert answer.status_code == 201
    shown = await ticket(world, number)
    assert shown["status"] == "open"
    assert at(shown["sla"]["resolution_due_at"]) == reopened_at + timedelta(minutes=40)
    assert at(shown["sla"]["resolution_due_at"]) > created


async def test_the_first_matching_policy_applies_and_follows_changes(
    world: World, event_clock: EventClock
) -> None:
    await make_policy(
        world,
        name="Urgent",
        position=0,
        conditions={"priorities": ["urgent"]},
        targets={"resolution": {"minutes": 60}},
    )
    await make_policy(world, name="Everyone", position=1, targets={"resolution": {"minutes": 600}})
    created = event_clock.now
    number = (await world.create_ticket("owner"))["number"]
    assert (await ticket(world, number))["sla"]["policy"] == "Everyone"
    event_clock.advance(timedelta(minutes=10))
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"priority": "urgent"})
    urgent = (await ticket(world, number))["sla"]
    assert urgent["policy"] == "Urgent"
    # The ten minutes used count against the new target.
    assert at(urgent["resolution_due_at"]) == created + timedelta(minutes=60)


async def test_queues_sort_by_due_time_and_filter_what_is_due_soon(
    world: World, event_clock: EventClock
) -> None:
    await make_policy(world, targets={"resolution": {"minutes": 60}})
    later = (await world.create_ticket("owner"))["number"]
    event_clock.advance(timedelta(minutes=-30))
    sooner = (await world.create_ticket("owner"))["number"]
    event_clock.advance(timedelta(minutes=30))
    none = (await world.create_ticket("owner"))["number"]
    await world.patch("agent", f"/api/v1/tickets/{none}", json={"status": "pending"})

    by_due = await world.get(
        "agent", "/api/v1/tickets", params={"sort": "sla_due_at", "order": "asc"}
    )
    assert [t["number"] for t in by_due.json()["items"]] == [sooner, later]
    page = await world.get(
        "agent", "/api/v1/tickets", params={"sort": "sla_due_at", "order": "asc", "limit": 1}
    )
    second = await world.get(
        "agent",
        "/api/v1/tickets",
        params={"sort": "sla_due_at", "order": "asc", "cursor": page.json()["next_cursor"]},
    )
    assert [t["number"] for t in second.json()["items"]] == [later]
    soon = await world.get("agent", "/api/v1/tickets", params={"due_within": 45})
    assert [t["number"] for t in soon.json()["items"]] == [sooner]


async def test_policies_are_checked_and_admins_only(world: World) -> None:
    refused = await world.post(
        "agent", POLICIES, json={"name": "x", "targets": {"resolution": {"minutes": 5}}}
    )
    assert refused.status_code == 403
    for bad in (
        {"name": "x", "targets": {}},
        {"name": "x", "targets": {"resolution": {"minutes": 5, "calendar": "nope"}}},
        {"name": "x", "targets": {"resolution": {"minutes": 0}}},
        {"name": "x", "targets": {"resolution": {"minutes": 5}}, "pause_statuses": ["open"]},
        {"name": "x", "targets": {"resolution": {"minutes": 5}}, "conditions": {"groups": ["g"]}},
        {
            "name": "x",
            "targets": {"resolution": {"minutes": 5}},
            "conditions": {"priorities": ["x"]},
        },
    ):
        answer = await world.post("admin", POLICIES, json=bad)
        assert answer.status_code == 422, (bad, answer.text)
    made = await make_policy(world, targets={"resolution": {"minutes": 5}})
    assert made["targets"] == {"resolution": {"minutes": 5, "calendar": "24-7"}}
    assert (
        await world.post(
            "admin", POLICIES, json={"name": "Standard", "targets": {"resolution": {"minutes": 5}}}
        )
    ).status_code == 409
    listed = await world.get("agent", POLICIES)
    assert [p["name"] for p in listed.json()] == ["Standard"]
    gone = await world.request("admin", "DELETE", f"{POLICIES}/{made['id']}")
    assert gone.status_code == 204


async def test_calendars_are_checked_and_the_built_in_one_stays(world: World) -> None:
    calendars = await world.get("agent", "/api/v1/calendars")
    assert [c["key"] for c in calendars.json()] == ["24-7"]
    assert calendars.json()[0]["windows"] is None
    good = {
        "key": "office",
        "name": "Office",
        "time_zone": "Europe/Berlin",
        "windows": {"mon": [["13:00", "17:00"], ["09:00", "12:00"]], "fri": [["09:00", "24:00"]]},
        "holiday_country": "DE",
        "holiday_subdivision": "BY",
        "custom_holidays": ["2026-12-24", "2026-12-24"],
    }
    made = await world.post("admin", "/api/v1/calendars", json=good)
    assert made.status_code == 201, made.text
    assert made.json()["windows"]["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert made.json()["custom_holidays"] == ["2026-12-24"]
    changes: tuple[dict[str, Any], ...] = (
        {"time_zone": "Mars/Olympus"},
        {"windows": {"mon": [["10:00", "09:00"]]}},
        {"windows": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}},
        {"windows": {"someday": [["09:00", "12:00"]]}},
        {"windows": {}},
        {"holiday_country": "XX"},
        {"custom_holidays": ["31.12.2026"]},
    )
    for change in changes:
        answer = await world.patch("admin", "/api/v1/calendars/office", json=change)
        assert answer.status_code == 422, (change, answer.text)
    assert (
        await world.patch("admin", "/api/v1/calendars/24-7", json={"name": "x"})
    ).status_code == 409
    await make_policy(world, targets={"resolution": {"minutes": 60, "calendar": "office"}})
    in_use = await world.request("admin", "DELETE", "/api/v1/calendars/office")
    assert in_use.status_code == 409


async def test_a_changed_policy_moves_open_tickets_through_a_job(
    world: World, worker: Callable[[datetime], Worker], event_clock: EventClock
) -> None:
    policy = await make_policy(world, targets={"resolution": {"minutes": 60}})
    created = event_clock.now
    number = (await world.create_ticket("owner"))["number"]
    changed = await world.patch(
        "admin", f"{POLICIES}/{policy['id']}", json={"targets": {"resolution": {"minutes": 90}}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["targets"]["resolution"]["minutes"] == 90
    await worker(created + timedelta(minutes=1)).run_once()
    due = (await ticket(world, number))["sla"]["resolution_due_at"]
    assert at(due) == created + timedelta(minutes=90)
    async with world.database.reader() as session:
        breached = await session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "sla.breached")
        )
    assert breached == 0


async def test_a_timer_and_a_policy_walk_at_once_record_one_warning(
    world: World, worker: Callable[[datetime], Worker], event_clock: EventClock
) -> None:
    # The policy's walk over open tickets (a job) and the ticket's timer (a job) are due
    # together and run at once: the ticket's row lock makes them take turns.
    policy = await make_policy(world, targets={"first_reply": {"minutes": 30}}, warning_minutes=10)
    created = event_clock.now
    numbers = [(await world.create_ticket("owner"))["number"] for _ in range(3)]
    await world.patch("admin", f"{POLICIES}/{policy['id']}", json={"warning_minutes": 12})
    runner = worker(created + timedelta(minutes=25))
    await asyncio.gather(runner.run_once(), worker(created + timedelta(minutes=25)).run_once())
    for number in numbers:
        assert await sla_events(world, number) == [("sla.warning", "first_reply")]
