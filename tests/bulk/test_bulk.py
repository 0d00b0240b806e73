"""Bulk changes: many tickets by number or by the list's filter, one change, each ticket
all or nothing with its own events, every ticket reported; staff only, bounded."""

from __future__ import annotations

from typing import Any

import pytest

from helpwire.bulk import service
from tests.conftest import World

BULK = "/api/v1/tickets/bulk"


async def ticket(world: World, number: int) -> dict[str, Any]:
    response = await world.get("agent", f"/api/v1/tickets/{number}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def events(world: World, number: int) -> list[dict[str, Any]]:
    response = await world.get("agent", f"/api/v1/tickets/{number}/events")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_one_change_to_many_tickets_each_with_its_own_events(world: World) -> None:
    numbers = [(await world.create_ticket("owner", tags=["old"]))["number"] for _ in range(3)]
    response = await world.post(
        "agent",
        BULK,
        json={
            "tickets": numbers,
            "change": {
                "status": "pending",
                "priority": "high",
                "assignee": "agent2",
                "add_tags": ["vip"],
                "remove_tags": ["old"],
            },
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["changed"] == 3 and body["failed"] == 0
    assert [r["number"] for r in body["results"]] == numbers
    assert all(r["ok"] and r["problem"] is None for r in body["results"])
    for number in numbers:
        shown = await ticket(world, number)
        assert shown["status"] == "pending" and shown["priority"] == "high"
        assert shown["assignee"]["username"] == "agent2" and shown["tags"] == ["vip"]
        kinds = [e["type"] for e in await events(world, number)]
        assert kinds == [
            "ticket.created",
            "ticket.updated",
            "ticket.assigned",
            "ticket.status_changed",
        ]
        moved = (await events(world, number))[-1]
        assert moved["actor"]["username"] == "agent"
        assert moved["data"]["before"] == "new" and moved["data"]["after"] == "pending"


async def test_a_refused_ticket_is_left_as_it_was_and_the_others_change(world: World) -> None:
    first = (await world.create_ticket("owner"))["number"]
    closed = (await world.create_ticket("owner"))["number"]
    last = (await world.create_ticket("owner"))["number"]
    assert (await world.post("agent", f"/api/v1/tickets/{closed}/close", json={})).is_success
    before = await ticket(world, closed)
    before_events = await events(world, closed)

    response = await world.post(
        "agent",
        BULK,
        json={"tickets": [first, closed, 99999, last], "change": {"status": "solved"}},
    )
    assert response.status_code == 207, response.text
    body = response.json()
    assert body["changed"] == 2 and body["failed"] == 2
    results = {r["number"]: r for r in body["results"]}
    assert results[first]["ok"] and results[last]["ok"]
    assert results[closed]["problem"]["status"] == 409
    assert results[closed]["problem"]["type"] == "/problems/illegal-transition"
    assert results[99999]["problem"]["status"] == 404
    assert (await ticket(world, first))["status"] == "solved"
    assert (await ticket(world, last))["status"] == "solved"
    assert await ticket(world, closed) == before
    assert await events(world, closed) == before_events


async def test_a_half_done_ticket_is_rolled_back_alone(world: World) -> None:
    """The tags would apply before the refused status: the ticket keeps neither."""
    closed = (await world.create_ticket("owner"))["number"]
    other = (await world.create_ticket("owner"))["number"]
    assert (await world.post("agent", f"/api/v1/tickets/{closed}/close", json={})).is_success
    response = await world.post(
        "agent",
        BULK,
        json={"tickets": [closed, other], "change": {"status": "open", "add_tags": ["x"]}},
    )
    assert response.status_code == 207, response.text
    assert (await ticket(world, closed))["tags"] == []
    assert (await ticket(world, other))["tags"] == ["x"]


async def test_tickets_by_the_list_filter(world: World) -> None:
    urgent = [(await world.create_ticket("owner", priority="urgent"))["number"] for _ in range(2)]
    calm = (await world.create_ticket("owner", priority="low"))["number"]
    response = await world.post(
        "agent",
        BULK,
        json={"filter": {"priority": "urgent,high"}, "change": {"group": None, "assignee": "me"}},
    )
    # "me" is no username: the change itself is refused, once, before any ticket.
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "change.assignee"

    response = await world.post(
        "agent",
        BULK,
        json={"filter": {"priority": "urgent,high"}, "change": {"assignee": "agent"}},
    )
    assert response.status_code == 200, response.text
    assert sorted(r["number"] for r in response.json()["results"]) == sorted(urgent)
    assert (await ticket(world, calm))["assignee"] is None

    bad = await world.post(
        "agent", BULK, json={"filter": {"status": "nope"}, "change": {"priority": "low"}}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "filter.status"


async def test_a_macro_for_every_ticket(world: World) -> None:
    made = await world.post(
        "admin",
        "/api/v1/macros",
        json={
            "name": "Closing up",
            "shared": True,
            "body": "Solved for you, {{ ticket.requester.first_name }}.",
            "actions": [{"type": "set_status", "value": "solved"}],
        },
    )
    assert made.status_code == 201, made.text
    numbers = [(await world.create_ticket("owner"))["number"] for _ in range(2)]
    response = await world.post(
        "agent", BULK, json={"tickets": numbers, "change": {"macro": made.json()["id"]}}
    )
    assert response.status_code == 200, response.text
    for number in numbers:
        assert (await ticket(world, number))["status"] == "solved"
        comments = (await world.get("agent", f"/api/v1/tickets/{number}/comments")).json()
        assert comments["items"][-1]["body"] == "Solved for you, Olga."

    unknown = await world.post("agent", BULK, json={"tickets": numbers, "change": {"macro": 999}})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["code"] == "unknown_macro"


async def test_customers_never_bulk_and_the_size_is_bounded(world: World) -> None:
    number = (await world.create_ticket("owner"))["number"]
    counts = await world.row_counts()
    for who in ("owner", "acme-portal"):
        refused = await world.post(
            who, BULK, json={"tickets": [number], "change": {"priority": "low"}}
        )
        assert refused.status_code == 403, refused.text
    anonymous = await world.client.post(
        BULK, json={"tickets": [number], "change": {"priority": "low"}}
    )
    assert anonymous.status_code == 401

    too_many = await world.post(
        "agent", BULK, json={"tickets": list(range(1, 102)), "change": {"priority": "low"}}
    )
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"].startswith("tickets")
    both = await world.post(
        "agent",
        BULK,
        json={"tickets": [number], "filter": {}, "change": {"priority": "low"}},
    )
    assert both.status_code == 422
    nothing = await world.post("agent", BULK, json={"tickets": [number], "change": {}})
    assert nothing.status_code == 422
    assert nothing.json()["errors"][0]["field"] == "change"
    assert await world.row_counts() == counts


async def test_a_filter_matching_more_than_the_maximum_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_BULK_TICKETS", 2)
    for _ in range(3):
        await world.create_ticket("owner")
    counts = await world.row_counts()
    refused = await world.post(
        "agent", BULK, json={"filter": {"status": "new"}, "change": {"priority": "low"}}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["code"] == "too_many"
    assert await world.row_counts() == counts
    narrower = await world.post(
        "agent",
        BULK,
        json={"filter": {"status": "new", "priority": "high"}, "change": {"priority": "low"}},
    )
    assert narrower.status_code == 200 and narrower.json()["results"] == []
