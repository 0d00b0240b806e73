"""Staff filing a ticket for a customer who phoned, chatted or walked in, and a reply that
sets the ticket's status in the same request ("send as pending")."""

from __future__ import annotations

from typing import Any

from tests.conftest import World


async def events(world: World, number: int) -> list[dict[str, Any]]:
    response = await world.get("agent", f"/api/v1/tickets/{number}/events")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_staff_file_for_a_customer_and_say_how_they_came(world: World) -> None:
    made = await world.create_ticket("agent", requester="owner", via="phone", priority="high")
    assert made["requester"]["username"] == "owner" and made["context"]["via"] == "phone"
    assert made["account"] == "acme" and made["priority"] == "high"
    created = (await events(world, made["number"]))[0]
    assert created["type"] == "ticket.created"
    assert created["actor"]["username"] == "agent"
    assert created["data"]["requester"] == "owner" and created["data"]["via"] == "phone"
    # The customer sees it as theirs; the list filters by the channel.
    mine = (await world.get("owner", "/api/v1/tickets", params={"requester": "me"})).json()
    assert [t["number"] for t in mine["items"]] == [made["number"]]
    walked = await world.create_ticket("admin", requester="gus", via="walk_in")
    listed = (await world.get("agent", "/api/v1/tickets", params={"via": "walk_in"})).json()
    assert [t["number"] for t in listed["items"]] == [walked["number"]]


async def test_customers_neither_name_a_channel_nor_file_for_others(world: World) -> None:
    counts = await world.row_counts()
    body = {"subject": "S", "body": "B"}
    channel = await world.post("owner", "/api/v1/tickets", json={**body, "via": "phone"})
    assert channel.status_code == 403 and channel.json()["errors"][0]["field"] == "via"
    other = await world.post("owner", "/api/v1/tickets", json={**body, "requester": "alice"})
    assert other.status_code == 403
    unknown = await world.post("agent", "/api/v1/tickets", json={**body, "via": "pigeon"})
    assert unknown.status_code == 422
    assert await world.row_counts() == counts


async def test_a_reply_sets_the_status_in_the_same_request(world: World) -> None:
    number = (await world.create_ticket("owner"))["number"]
    sent = await world.post(
        "agent",
        f"/api/v1/tickets/{number}/comments",
        json={"body": "Could you send the logs?", "status": "pending"},
    )
    assert sent.status_code == 201, sent.text
    shown = (await world.get("agent", f"/api/v1/tickets/{number}")).json()
    assert shown["status"] == "pending"
    moves = [
        (e["data"]["before"], e["data"]["after"], e["data"].get("reason"))
        for e in await events(world, number)
        if e["type"] == "ticket.status_changed"
    ]
    assert moves == [("new", "open", "agent_reply"), ("open", "pending", "with_reply")]

    solved = await world.post(
        "agent",
        f"/api/v1/tickets/{number}/comments",
        json={"body": "Fixed.", "status": "solved"},
    )
    assert solved.status_code == 201
    assert (await world.get("agent", f"/api/v1/tickets/{number}")).json()["status"] == "solved"


async def test_a_refused_status_sends_nothing(world: World) -> None:
    number = (await world.create_ticket("owner"))["number"]
    counts = await world.row_counts()
    back = await world.post(
        "agent", f"/api/v1/tickets/{number}/comments", json={"body": "Hi", "status": "new"}
    )
    assert back.status_code == 409, back.text
    customer = await world.post(
        "owner", f"/api/v1/tickets/{number}/comments", json={"body": "Hi", "status": "solved"}
    )
    assert customer.status_code == 403
    assert customer.json()["errors"][0]["field"] == "status"
    assert await world.row_counts() == counts
