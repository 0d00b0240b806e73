"""Automations: tickets that have waited long enough in a state are acted on, once per
ticket and wait, by the recurring job (run here with the clock the test sets)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from helpwire.db.base import utcnow
from helpwire.housekeeping import AUTOMATIONS_EVERY, AUTOMATIONS_KIND, job_registry
from helpwire.jobs.registry import JobContext
from helpwire.rules.running import automations_job
from helpwire.settings import Settings
from helpwire.tickets import service as tickets_service
from tests.conftest import World
from tests.rules.test_triggers import rule_lines, ticket

AUTOMATIONS = "/api/v1/automations"


async def make_automation(world: World, **spec: Any) -> dict[str, Any]:
    response = await world.post("admin", AUTOMATIONS, json={"name": "a", **spec})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def run_automations(world: World, at: datetime) -> None:
    job = automations_job(mail=None)
    async with world.database.writing() as session:
        await job(
            JobContext(session, job_id=0, kind=AUTOMATIONS_KIND, payload={}, attempt=1, now=at)
        )


def test_the_automations_run_every_minute(settings: Settings) -> None:
    recurring = job_registry(settings).recurring[AUTOMATIONS_KIND]
    assert recurring.every == AUTOMATIONS_EVERY == timedelta(minutes=1)


async def test_solved_for_96_hours_is_closed_once(world: World) -> None:
    await make_automation(
        world,
        name="Close solved",
        conditions=[
            {"field": "status", "op": "is", "value": "solved"},
            {"field": "minutes_since_status_change", "op": "gte", "value": 96 * 60},
        ],
        actions=[{"type": "set_status", "value": "closed"}],
    )
    number = (await world.create_ticket("owner"))["number"]
    fresh = (await world.create_ticket("owner"))["number"]
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "solved"})
    solved_at = utcnow()
    await world.patch("agent", f"/api/v1/tickets/{fresh}", json={"status": "open"})

    await run_automations(world, solved_at + timedelta(hours=95))
    assert (await ticket(world, number))["status"] == "solved"
    await run_automations(world, solved_at + timedelta(hours=97))
    assert (await ticket(world, number))["status"] == "closed"
    assert (await ticket(world, fresh))["status"] == "open"
    lines = await rule_lines(world, number)
    assert [(line["rule"]["name"], line["why"]) for line in lines] == [("Close solved", "time")]


async def test_each_ticket_is_acted_on_once_per_wait(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_automation(
        world,
        name="Remind",
        conditions=[
            {"field": "status", "op": "is", "value": "pending"},
            {"field": "minutes_since_status_change", "op": "gte", "value": 72 * 60},
        ],
        actions=[{"type": "reply", "value": "Hello {{ ticket.requester.first_name }}, any news?"}],
    )
    number = (await world.create_ticket("owner"))["number"]
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "pending"})
    start = utcnow()
    for hours in (73, 80, 200):
        await run_automations(world, start + timedelta(hours=hours))
    comments = (await world.get("agent", f"/api/v1/tickets/{number}/comments")).json()["items"]
    reminders = [c for c in comments if c["body"].startswith("Hello")]
    assert len(reminders) == 1 and reminders[0]["internal"] is False
    # Days later, pending again is a new wait, reminded once more.
    again = start + timedelta(hours=300)
    monkeypatch.setattr(tickets_service, "utcnow", lambda: again)
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "open"})
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "pending"})
    await run_automations(world, again + timedelta(hours=73))
    await run_automations(world, again + timedelta(hours=74))
    comments = (await world.get("agent", f"/api/v1/tickets/{number}/comments")).json()["items"]
    assert len([c for c in comments if c["body"].startswith("Hello")]) == 2


async def test_new_and_unassigned_for_30_minutes_is_escalated(world: World) -> None:
    rule = await make_automation(
        world,
        name="Escalate waiting",
        conditions=[
            {"field": "status", "op": "is", "value": "new"},
            {"field": "assignee", "op": "is", "value": None},
            {"field": "minutes_since_created", "op": "gte", "value": 30},
        ],
        actions=[
            {"type": "set_priority", "value": "urgent"},
            {"type": "add_tags", "value": ["waiting"]},
        ],
    )
    waiting = (await world.create_ticket("owner"))["number"]
    taken = (await world.create_ticket("owner"))["number"]
    await world.patch("agent", f"/api/v1/tickets/{taken}", json={"assignee": "agent"})
    created = utcnow()
    dry = await world.post("agent", f"{AUTOMATIONS}/{rule['id']}/dry-run")
    assert dry.json()["tickets"] == []
    await run_automations(world, created + timedelta(minutes=31))
    shown = await ticket(world, waiting)
    assert shown["priority"] == "urgent" and shown["tags"] == ["waiting"]
    assert (await ticket(world, taken))["priority"] == "normal"


async def test_automations_are_checked(world: World) -> None:
    no_wait = await world.post(
        "admin",
        AUTOMATIONS,
        json={
            "name": "x",
            "conditions": [{"field": "status", "op": "is", "value": "new"}],
            "actions": [{"type": "set_status", "value": "open"}],
        },
    )
    assert no_wait.status_code == 422
    text = await world.post(
        "admin",
        AUTOMATIONS,
        json={
            "name": "x",
            "conditions": [
                {"field": "text", "op": "contains", "value": "x"},
                {"field": "minutes_since_update", "op": "gte", "value": 5},
            ],
            "actions": [{"type": "set_status", "value": "open"}],
        },
    )
    assert text.status_code == 422
    refused = await world.post(
        "agent", AUTOMATIONS, json={"name": "x", "conditions": [], "actions": []}
    )
    assert refused.status_code == 403
