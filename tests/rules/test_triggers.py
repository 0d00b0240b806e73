"""Triggers: conditions on the ticket and the event, actions through the tickets service,
assignment that passes over who is away, a line in the timeline for each run, and loops
that stop."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from helpwire.db.session import Database
from helpwire.housekeeping import job_registry
from helpwire.jobs.worker import Worker
from helpwire.settings import Settings
from tests.conftest import World
from tests.relays import FakeClock

TRIGGERS = "/api/v1/triggers"


async def make_trigger(world: World, **spec: Any) -> dict[str, Any]:
    response = await world.post("admin", TRIGGERS, json={"name": "t", **spec})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def ticket(world: World, number: int) -> dict[str, Any]:
    body: dict[str, Any] = (await world.get("agent", f"/api/v1/tickets/{number}")).json()
    return body


async def rule_lines(world: World, number: int) -> list[dict[str, Any]]:
    events = (await world.get("agent", f"/api/v1/tickets/{number}/events")).json()["items"]
    return [e["data"] for e in events if e["type"] == "rule.applied"]


async def test_a_new_ticket_is_routed_by_its_words_and_the_timeline_says_why(world: World) -> None:
    await world.post("admin", "/api/v1/groups", json={"key": "billing", "name": "Billing"})
    await make_trigger(
        world,
        name="Invoices to billing",
        events=["ticket.created"],
        conditions=[
            {"field": "text", "op": "contains", "value": "INVOICE"},
            {"field": "priority", "op": "in", "value": ["normal", "high"]},
        ],
        actions=[
            {"type": "set_group", "value": "billing"},
            {"type": "add_tags", "value": ["Billing"]},
            {"type": "add_note", "value": "Routed for {{ ticket.requester.first_name }}."},
        ],
    )
    routed = await world.create_ticket("owner", subject="Question", body="My invoice is wrong")
    other = await world.create_ticket("owner", subject="Printer", body="It is on fire")

    shown = await ticket(world, routed["number"])
    assert shown["group"] == "billing" and shown["tags"] == ["billing"]
    lines = await rule_lines(world, routed["number"])
    assert len(lines) == 1
    assert lines[0]["rule"]["name"] == "Invoices to billing" and lines[0]["why"] == "ticket.created"
    assert lines[0]["skipped"] == []
    comments = (await world.get("agent", f"/api/v1/tickets/{routed['number']}/comments")).json()
    note = comments["items"][-1]
    assert note["internal"] is True and note["body"] == "Routed for Olga."
    assert note["author"]["username"] == "_rules"
    assert (await ticket(world, other["number"]))["group"] is None
    assert await rule_lines(world, other["number"]) == []
    # Customers see none of it.
    seen = await world.get("owner", f"/api/v1/tickets/{routed['number']}/events")
    assert all(e["type"] != "rule.applied" for e in seen.json()["items"])


async def test_comments_by_customers_and_agents_are_events_of_their_own(world: World) -> None:
    await make_trigger(
        world,
        events=["comment.customer"],
        actions=[{"type": "set_priority", "value": "high"}],
    )
    number = (await world.create_ticket("owner"))["number"]
    await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": "Hi"})
    assert (await ticket(world, number))["priority"] == "normal"
    await world.post("owner", f"/api/v1/tickets/{number}/comments", json={"body": "Hurry"})
    assert (await ticket(world, number))["priority"] == "high"


async def test_round_robin_passes_over_agents_who_are_away(world: World) -> None:
    await world.post(
        "admin",
        "/api/v1/groups",
        json={"key": "desk", "name": "Desk", "members": ["admin", "agent", "agent2"]},
    )
    await world.patch("admin", "/api/v1/users/agent", json={"available": False})
    await make_trigger(
        world,
        events=["ticket.created"],
        actions=[{"type": "assign_round_robin", "group": "desk"}],
    )
    assignees = []
    for _ in range(4):
        number = (await world.create_ticket("owner"))["number"]
        assignees.append((await ticket(world, number))["assignee"]["username"])
    assert assignees == ["admin", "agent2", "admin", "agent2"]


async def test_least_open_tickets_goes_to_whoever_has_fewest(world: World) -> None:
    await world.post(
        "admin",
        "/api/v1/groups",
        json={"key": "desk", "name": "Desk", "members": ["agent", "agent2"]},
    )
    for _ in range(2):
        number = (await world.create_ticket("owner"))["number"]
        await world.patch("agent", f"/api/v1/tickets/{number}", json={"assignee": "agent"})
    await make_trigger(
        world, events=["ticket.created"], actions=[{"type": "assign_least_open", "group": "desk"}]
    )
    number = (await world.create_ticket("owner"))["number"]
    assert (await ticket(world, number))["assignee"]["username"] == "agent2"


async def test_a_trigger_that_would_loop_stops(world: World) -> None:
    # Each undoes the other: without a stop they would change the ticket for ever.
    for name, has, becomes in (("ping", "ping", "pong"), ("pong", "pong", "ping")):
        await make_trigger(
            world,
            name=name,
            events=["ticket.updated"],
            conditions=[{"field": "tags", "op": "includes", "value": [has]}],
            actions=[
                {"type": "remove_tags", "value": [has]},
                {"type": "add_tags", "value": [becomes]},
            ],
        )
    number = (await world.create_ticket("owner"))["number"]
    changed = await world.patch("agent", f"/api/v1/tickets/{number}", json={"tags": ["ping"]})
    assert changed.status_code == 200
    lines = await rule_lines(world, number)
    assert sorted(line["rule"]["name"] for line in lines) == ["ping", "pong"]
    assert (await ticket(world, number))["tags"] == ["ping"]


async def test_what_a_ticket_refuses_is_skipped_and_said(world: World) -> None:
    await make_trigger(
        world,
        events=["ticket.status_changed"],
        conditions=[{"field": "status", "op": "is", "value": "closed"}],
        actions=[
            {"type": "add_note", "value": "Closed."},
            {"type": "add_tags", "value": ["done"]},
        ],
    )
    number = (await world.create_ticket("owner"))["number"]
    closed = await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "closed"})
    assert closed.status_code == 200
    line = (await rule_lines(world, number))[0]
    # A closed ticket takes no more notes; the tag still comes.
    assert line["done"] == ["changed tags"]
    assert line["skipped"][0].startswith("add_note refused")
    assert (await ticket(world, number))["status"] == "closed"


async def test_triggers_are_checked_admins_only_and_dry_run(world: World) -> None:
    assert (
        await world.post("agent", TRIGGERS, json={"name": "x", "events": [], "actions": []})
    ).status_code == 403
    for bad in (
        {"events": [], "actions": [{"type": "set_status", "value": "open"}]},
        {"events": ["nope"], "actions": [{"type": "set_status", "value": "open"}]},
        {"events": ["ticket.created"], "actions": []},
        {"events": ["ticket.created"], "actions": [{"type": "set_status", "value": "later"}]},
        {"events": ["ticket.created"], "actions": [{"type": "fly"}]},
        {
            "events": ["ticket.created"],
            "conditions": [{"field": "colour", "op": "is", "value": "red"}],
            "actions": [{"type": "set_status", "value": "open"}],
        },
        {
            "events": ["ticket.created"],
            "actions": [{"type": "add_note", "value": "{{ unclosed"}],
        },
    ):
        answer = await world.post("admin", TRIGGERS, json={"name": "x", **bad})
        assert answer.status_code == 422, (bad, answer.text)
    urgent = (await world.create_ticket("owner", priority="high"))["number"]
    await world.create_ticket("owner")
    rule = await make_trigger(
        world,
        events=["ticket.updated"],
        conditions=[{"field": "priority", "op": "is", "value": "high"}],
        actions=[{"type": "set_status", "value": "open"}],
    )
    dry = await world.post("agent", f"{TRIGGERS}/{rule['id']}/dry-run")
    assert dry.status_code == 200
    assert dry.json()["tickets"] == [urgent] and dry.json()["checked"] == 2
    assert (await ticket(world, urgent))["status"] == "new"
    off = await world.patch("admin", f"{TRIGGERS}/{rule['id']}", json={"is_active": False})
    assert off.json()["is_active"] is False
    await world.patch("agent", f"/api/v1/tickets/{urgent}", json={"subject": "Again"})
    assert (await ticket(world, urgent))["status"] == "new"


async def test_the_rules_user_cannot_be_taken_over(world: World) -> None:
    await make_trigger(
        world, events=["ticket.created"], actions=[{"type": "add_tags", "value": ["x"]}]
    )
    await world.create_ticket("owner")
    activate = await world.patch("admin", "/api/v1/users/_rules", json={"is_active": True})
    assert activate.status_code == 409
    token = await world.post("admin", "/api/v1/tokens", json={"username": "_rules"})
    assert token.status_code == 409
    person = await world.post("admin", "/api/v1/users", json={"username": "_me", "role": "agent"})
    assert person.status_code == 422


async def test_a_breach_fires_a_trigger_that_escalates_and_writes_a_macro(
    world: World, database: Database, settings: Settings
) -> None:
    macro = await world.post(
        "admin",
        "/api/v1/macros",
        json={
            "name": "Sorry",
            "shared": True,
            "body": "Sorry for the wait, {{ ticket.requester.first_name }}.",
        },
    )
    await world.post(
        "admin",
        "/api/v1/sla-policies",
        json={"name": "Fast", "targets": {"first_reply": {"minutes": 1}}},
    )
    await make_trigger(
        world,
        events=["sla.breached"],
        actions=[
            {"type": "set_priority", "value": "urgent"},
            {"type": "apply_macro", "value": macro.json()["id"]},
        ],
    )
    number = (await world.create_ticket("owner"))["number"]
    clock = FakeClock()
    clock.now += timedelta(minutes=5)
    await Worker(database, job_registry(settings), clock=clock).run_once()

    shown = await ticket(world, number)
    assert shown["priority"] == "urgent"
    comments = (await world.get("agent", f"/api/v1/tickets/{number}/comments")).json()["items"]
    assert comments[-1]["body"] == "Sorry for the wait, Olga."
    lines = await rule_lines(world, number)
    assert lines[0]["why"] == "sla.breached"
    assert lines[0]["done"] == ["changed priority", "wrote the macro “Sorry”"]
