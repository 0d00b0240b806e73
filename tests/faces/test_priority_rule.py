"""One rule for a customer changing priority, natively and through F5's Priority call: the
requester or an account-wide user may set low, normal or high on a ticket that is not
closed; urgent comes only by escalating."""

from __future__ import annotations

import httpx

from tests.conftest import World

F5_CALL = "/api/web/namespaces/system/customer_support/{number}/priority"


async def native(world: World, who: str, number: int, priority: str) -> httpx.Response:
    return await world.patch(who, f"/api/v1/tickets/{number}", json={"priority": priority})


async def f5(world: World, who: str, number: int, priority: str) -> httpx.Response:
    return await world.client.post(
        F5_CALL.format(number=number),
        headers={"Authorization": f"APIToken {world.tokens[who]}"},
        json={"priority": f"PRIORITY_{priority.upper()}"},
    )


async def priority_of(world: World, number: int) -> str:
    shown: str = (await world.get("agent", f"/api/v1/tickets/{number}")).json()["priority"]
    return shown


async def test_the_requester_raises_priority_natively_and_through_f5(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    raised = await native(world, "alice", number, "high")
    assert raised.status_code == 200, raised.text
    assert raised.json()["priority"] == "high"
    lowered = await f5(world, "alice", number, "normal")
    assert lowered.json() == {"err": "EOK"}
    assert await priority_of(world, number) == "normal"


async def test_urgent_is_refused_on_both(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    before = await world.row_counts()
    refused = await native(world, "alice", number, "urgent")
    assert refused.status_code == 403, refused.text
    assert "escalat" in refused.json()["detail"]
    assert (await f5(world, "alice", number, "urgent")).json() == {"err": "E_NOT_ELIGIBLE"}
    assert await priority_of(world, number) == "normal"
    assert await world.row_counts() == before


async def test_a_colleague_who_only_sees_the_ticket_is_refused_on_both(world: World) -> None:
    # alice files it for project p1 with project access: bob (p2) cannot see it, carol
    # neither; an all_users ticket is seen by carol, who is not its requester.
    number = (await world.create_ticket("alice", access_level="all_users"))["number"]
    refused = await native(world, "carol", number, "high")
    assert refused.status_code == 403, refused.text
    assert (await f5(world, "carol", number, "high")).json() == {"err": "E_NOT_ELIGIBLE"}
    assert await priority_of(world, number) == "normal"


async def test_a_closed_ticket_keeps_its_priority_on_both(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    assert (await world.post("alice", f"/api/v1/tickets/{number}/close", json={})).is_success
    refused = await native(world, "alice", number, "high")
    assert refused.status_code == 409, refused.text
    assert (await f5(world, "alice", number, "high")).json() == {"err": "E_NOT_OPEN"}
    assert await priority_of(world, number) == "normal"
