"""Staff follow tickets: for themselves or for a colleague, never customers; the list
shows the CC addresses too; a merge or a split keeps the followers on the conversation;
and a channel whose filters name followers (a personal channel) hears only of the
tickets they follow."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from helpwire.notify.models import Delivery
from tests.conftest import World

TICKETS = "/api/v1/tickets"


async def followers(world: World, number: int, who: str = "agent") -> list[str]:
    response = await world.get(who, f"{TICKETS}/{number}/followers")
    assert response.status_code == 200, response.text
    return [f["username"] for f in response.json()["followers"]]


async def test_staff_follow_for_themselves_or_for_a_colleague(world: World) -> None:
    ticket = await world.create_ticket("owner")
    number = ticket["number"]
    assert await followers(world, number) == []
    customer_etag = (await world.get("owner", f"{TICKETS}/{number}")).headers["ETag"]

    mine = await world.post("agent", f"{TICKETS}/{number}/followers", json={})
    assert mine.status_code == 201, mine.text
    assert mine.json()["username"] == "agent" and mine.json()["added_by"] == "agent"
    twice = await world.post("agent", f"{TICKETS}/{number}/followers", json={"username": "agent"})
    assert twice.status_code == 200
    colleague = await world.post(
        "admin", f"{TICKETS}/{number}/followers", json={"username": "agent2"}
    )
    assert colleague.status_code == 201
    assert colleague.json() | {"created_at": None} == {
        "username": "agent2",
        "real_name": "Kim Agent",
        "added_by": "admin",
        "created_at": None,
    }
    assert await followers(world, number) == ["agent", "agent2"]

    customer = await world.post(
        "agent", f"{TICKETS}/{number}/followers", json={"username": "owner"}
    )
    assert customer.status_code == 422
    assert customer.json()["errors"][0]["code"] == "not_staff"
    nobody = await world.post("agent", f"{TICKETS}/{number}/followers", json={"username": "x"})
    assert nobody.status_code == 422 and nobody.json()["errors"][0]["code"] == "unknown_user"
    assert (await world.post("agent", f"{TICKETS}/999999/followers", json={})).status_code == 404

    removed = await world.request("agent", "DELETE", f"{TICKETS}/{number}/followers/agent2")
    assert removed.status_code == 204
    again = await world.request("agent", "DELETE", f"{TICKETS}/{number}/followers/agent2")
    assert again.status_code == 204
    assert await followers(world, number) == ["agent"]

    events = (await world.get("agent", f"{TICKETS}/{number}/events")).json()["items"]
    changes = [e["data"]["changes"]["followers"] for e in events if e["type"] == "ticket.updated"]
    assert changes == [
        {"before": [], "after": ["agent"]},
        {"before": ["agent"], "after": ["agent", "agent2"]},
        {"before": ["agent", "agent2"], "after": ["agent"]},
    ]
    assert all(e["internal"] for e in events if e["type"] == "ticket.updated")
    # Customers learn nothing of it: no list, no events, the same ETag as before.
    customer_events = (await world.get("owner", f"{TICKETS}/{number}/events")).json()["items"]
    assert [e["type"] for e in customer_events] == ["ticket.created"]
    after = await world.get("owner", f"{TICKETS}/{number}")
    assert after.headers["ETag"] == customer_etag


async def test_customers_neither_see_nor_change_followers(world: World) -> None:
    ticket = await world.create_ticket("owner")
    number = ticket["number"]
    before = await world.row_counts()
    for who in ("owner", "alice", "gus"):
        assert (await world.get(who, f"{TICKETS}/{number}/followers")).status_code == 403
        posted = await world.post(who, f"{TICKETS}/{number}/followers", json={})
        assert posted.status_code == 403
        deleted = await world.request(who, "DELETE", f"{TICKETS}/{number}/followers/agent")
        assert deleted.status_code == 403
    assert await world.row_counts() == before


async def test_followers_stay_with_the_conversation_through_a_merge_and_a_split(
    world: World,
) -> None:
    source = await world.create_ticket("owner")
    target = await world.create_ticket("owner")
    await world.post("agent", f"{TICKETS}/{source['number']}/followers", json={})
    await world.post("agent2", f"{TICKETS}/{target['number']}/followers", json={})
    extra = await world.post(
        "owner", f"{TICKETS}/{target['number']}/comments", json={"body": "one more thing"}
    )
    merged = await world.post(
        "admin", f"{TICKETS}/{source['number']}/merge", json={"into": target["number"]}
    )
    assert merged.status_code == 200
    assert await followers(world, target["number"]) == ["agent2", "agent"]
    split = await world.post(
        "admin",
        f"{TICKETS}/{target['number']}/split",
        json={"comment_ids": [extra.json()["id"]]},
    )
    assert sorted(await followers(world, split.json()["number"])) == ["agent", "agent2"]


async def deliveries_of(world: World, channel_id: int) -> list[tuple[str, int | None]]:
    async with world.database.reader() as session:
        rows = await session.scalars(
            select(Delivery).where(Delivery.channel_id == channel_id).order_by(Delivery.id)
        )
        return [(row.event_type, row.ticket_number) for row in rows]


async def test_a_personal_channel_hears_of_every_change_to_the_tickets_its_person_follows(
    world: World,
) -> None:
    spec: dict[str, Any] = {
        "name": "sam's webhook",
        "kind": "webhook",
        "url": "http://127.0.0.1:9/hook",
        "filters": {"followers": ["agent"]},
    }
    created = await world.post("admin", "/api/v1/channels", json=spec)
    assert created.status_code == 201, created.text
    channel = created.json()
    assert channel["filters"]["followers"] == ["agent"]
    refused = await world.post(
        "admin",
        "/api/v1/channels",
        json={**spec, "name": "x", "filters": {"followers": ["owner", "nobody"]}},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "filters.followers"

    followed = await world.create_ticket("owner")
    other = await world.create_ticket("owner")
    await world.post("agent", f"{TICKETS}/{followed['number']}/followers", json={})
    for number in (followed["number"], other["number"]):
        await world.post("owner", f"{TICKETS}/{number}/comments", json={"body": "hello?"})
        await world.patch("admin", f"{TICKETS}/{number}", json={"priority": "high"})
    merged = await world.post(
        "admin", f"{TICKETS}/{other['number']}/merge", json={"into": followed["number"]}
    )
    assert merged.status_code == 200
    # The follow itself is internal (a channel without internal events skips it); every
    # change after it, the merge into the followed ticket included, is heard.
    assert await deliveries_of(world, channel["id"]) == [
        ("comment.created", followed["number"]),
        ("ticket.updated", followed["number"]),
        ("ticket.merged", followed["number"]),
    ]


async def test_the_list_filters_by_what_the_caller_follows(world: World) -> None:
    followed = await world.create_ticket("owner")
    other = await world.create_ticket("owner")
    await world.post("agent", f"{TICKETS}/{followed['number']}/followers", json={})
    await world.post("agent2", f"{TICKETS}/{other['number']}/followers", json={})

    async def numbers(who: str, following: str) -> list[int]:
        response = await world.get(who, TICKETS, params={"following": following})
        assert response.status_code == 200, response.text
        return [t["number"] for t in response.json()["items"]]

    assert await numbers("agent", "true") == [followed["number"]]
    assert await numbers("agent", "false") == [other["number"]]
    assert await numbers("agent2", "true") == [other["number"]]
    # Customers follow nothing.
    assert await numbers("owner", "true") == []
    bad = await world.get("agent", TICKETS, params={"following": "maybe"})
    assert bad.status_code == 422
