"""Groups of staff: made by admins, read by staff, a ticket's optional team; the list
filters by a group, by the caller's groups and by none; counts of what each has open."""

from __future__ import annotations

from typing import Any

from tests.conftest import World

GROUPS = "/api/v1/groups"


async def make_group(world: World, key: str, members: list[str]) -> dict[str, Any]:
    response = await world.post(
        "admin", GROUPS, json={"key": key, "name": key.title(), "members": members}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def set_group(world: World, number: int, group: str | None) -> dict[str, Any]:
    response = await world.patch("agent", f"/api/v1/tickets/{number}", json={"group": group})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def numbers(world: World, who: str, **params: Any) -> list[int]:
    response = await world.get(who, "/api/v1/tickets", params=params)
    assert response.status_code == 200, response.text
    return sorted(t["number"] for t in response.json()["items"])


async def test_admins_make_groups_of_staff_and_staff_read_them(world: World) -> None:
    made = await make_group(world, "billing", ["agent2", "agent", "agent"])
    assert [m["username"] for m in made["members"]] == ["agent", "agent2"]
    assert made["open_tickets"] == 0 and made["is_active"] is True

    listed = await world.get("agent", GROUPS)
    assert [g["key"] for g in listed.json()] == ["billing"]
    assert (await world.get("owner", GROUPS)).status_code == 403
    refused = await world.post("agent", GROUPS, json={"key": "x", "name": "X"})
    assert refused.status_code == 403

    customer = await world.post("admin", GROUPS, json={"key": "c", "name": "C", "members": ["bob"]})
    assert customer.status_code == 422
    assert customer.json()["errors"][0]["field"] == "members[0]"
    twice = await world.post("admin", GROUPS, json={"key": "billing", "name": "Again"})
    assert twice.status_code == 409
    bad_key = await world.post("admin", GROUPS, json={"key": "Not A Key", "name": "X"})
    assert bad_key.status_code == 422

    changed = await world.patch("admin", f"{GROUPS}/billing", json={"members": ["admin"]})
    assert [m["username"] for m in changed.json()["members"]] == ["admin"]


async def test_a_ticket_joins_a_group_and_the_timeline_says_so(world: World) -> None:
    await make_group(world, "network", ["agent"])
    ticket = await world.create_ticket("owner")
    number = ticket["number"]
    assert ticket["group"] is None

    answer = await set_group(world, number, "network")
    assert answer["group"] == "network"
    events = (await world.get("agent", f"/api/v1/tickets/{number}/events")).json()["items"]
    assert events[-1]["data"]["changes"]["group"] == {"before": None, "after": "network"}
    # Customers neither see nor set the team.
    seen = (await world.get("owner", f"/api/v1/tickets/{number}")).json()
    assert seen["group"] is None
    refused = await world.patch("owner", f"/api/v1/tickets/{number}", json={"group": None})
    assert refused.status_code == 403
    unknown = await world.patch("agent", f"/api/v1/tickets/{number}", json={"group": "nope"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["code"] == "unknown_group"

    assert (await set_group(world, number, None))["group"] is None


async def test_lists_filter_by_group_by_my_groups_and_by_none(world: World) -> None:
    await make_group(world, "first-line", ["agent"])
    await make_group(world, "second-line", ["agent2"])
    mine, theirs, nobodys = [(await world.create_ticket("owner"))["number"] for _ in range(3)]
    await set_group(world, mine, "first-line")
    await set_group(world, theirs, "second-line")

    assert await numbers(world, "agent", group="first-line") == [mine]
    assert await numbers(world, "agent", group="mine") == [mine]
    assert await numbers(world, "agent2", group="mine") == [theirs]
    assert await numbers(world, "admin", group="mine") == []
    assert await numbers(world, "agent", group="none") == [nobodys]
    assert await numbers(world, "agent", group="no-such-group") == []
    listed = (await world.get("agent", "/api/v1/tickets", params={"group": "second-line"})).json()
    assert listed["count"] == {"value": 1, "exact": True}
    assert listed["items"][0]["group"] == "second-line"

    groups = {g["key"]: g["open_tickets"] for g in (await world.get("agent", GROUPS)).json()}
    assert groups == {"first-line": 1, "second-line": 1}
    solved = await world.patch("agent", f"/api/v1/tickets/{mine}", json={"status": "solved"})
    assert solved.status_code == 200
    one = (await world.get("agent", f"{GROUPS}/first-line")).json()
    assert one["open_tickets"] == 0


async def test_a_group_with_tickets_is_deactivated_not_deleted(world: World) -> None:
    await make_group(world, "retired", ["agent"])
    await make_group(world, "unused", [])
    number = (await world.create_ticket("owner"))["number"]
    await set_group(world, number, "retired")

    refused = await world.request("admin", "DELETE", f"{GROUPS}/retired")
    assert refused.status_code == 409
    assert "deactivate" in refused.json()["detail"]
    assert (await world.request("admin", "DELETE", f"{GROUPS}/unused")).status_code == 204
    assert (await world.get("agent", f"{GROUPS}/unused")).status_code == 404

    off = await world.patch("admin", f"{GROUPS}/retired", json={"is_active": False})
    assert off.json()["is_active"] is False
    assert [g["key"] for g in (await world.get("agent", GROUPS)).json()] == []
    every = await world.get("agent", GROUPS, params={"include_inactive": "true"})
    assert [g["key"] for g in every.json()] == ["retired"]
    # Its tickets keep showing it; no ticket joins it any more.
    assert (await world.get("agent", f"/api/v1/tickets/{number}")).json()["group"] == "retired"
    other = (await world.create_ticket("owner"))["number"]
    joined = await world.patch("agent", f"/api/v1/tickets/{other}", json={"group": "retired"})
    assert joined.status_code == 422


async def test_availability_is_shown_and_changed_by_admins(world: World) -> None:
    made = await make_group(world, "desk", ["agent"])
    assert made["members"][0]["available"] is True
    away = await world.patch("admin", "/api/v1/users/agent", json={"available": False})
    assert away.status_code == 200 and away.json()["available"] is False
    desk = (await world.get("agent", f"{GROUPS}/desk")).json()
    assert desk["members"][0]["available"] is False
    refused = await world.patch("agent", "/api/v1/users/agent", json={"available": True})
    assert refused.status_code == 403
