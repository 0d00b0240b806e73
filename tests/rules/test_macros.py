"""Macros: personal and shared, found by words, previewed without a change, applied as one
reply and its changes, all or nothing."""

from __future__ import annotations

from typing import Any

from tests.conftest import World
from tests.rules.test_triggers import ticket

MACROS = "/api/v1/macros"


async def make_macro(world: World, who: str = "admin", **spec: Any) -> dict[str, Any]:
    response = await world.post(who, MACROS, json={"name": "m", **spec})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_preview_changes_nothing_and_applying_does_it_all(world: World) -> None:
    macro = await make_macro(
        world,
        name="Waiting for logs",
        shared=True,
        body="Hi {{ ticket.requester.first_name }}, please send the logs of #{{ ticket.number }}."
        " — {{ agent.first_name }}",
        actions=[
            {"type": "set_status", "value": "pending"},
            {"type": "add_tags", "value": ["logs"]},
        ],
    )
    number = (await world.create_ticket("owner"))["number"]
    before = await ticket(world, number)
    counts = await world.row_counts()

    preview = await world.post(
        "agent", f"/api/v1/tickets/{number}/macros/{macro['id']}?preview=true"
    )
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["preview"] is True and shown["comment"] is None
    assert shown["body"] == f"Hi Olga, please send the logs of #{number}. — Sam"
    assert [c["type"] for c in shown["changes"]] == ["set_status", "add_tags"]
    assert await world.row_counts() == counts
    assert await ticket(world, number) == before

    applied = await world.post("agent", f"/api/v1/tickets/{number}/macros/{macro['id']}")
    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert body["comment"]["body"] == shown["body"] and body["comment"]["internal"] is False
    assert body["comment"]["author"]["username"] == "agent"
    after = await ticket(world, number)
    assert after["status"] == "pending" and after["tags"] == ["logs"]


async def test_a_refused_change_refuses_the_whole_macro(world: World) -> None:
    await world.post("admin", "/api/v1/groups", json={"key": "old", "name": "Old"})
    macro = await make_macro(
        world, shared=True, body="Moving you on.", actions=[{"type": "set_group", "value": "old"}]
    )
    await world.patch("admin", "/api/v1/groups/old", json={"is_active": False})
    number = (await world.create_ticket("owner"))["number"]
    counts = await world.row_counts()
    refused = await world.post("agent", f"/api/v1/tickets/{number}/macros/{macro['id']}")
    assert refused.status_code == 422, refused.text
    assert await world.row_counts() == counts


async def test_personal_macros_are_their_owners_and_shared_ones_admins(world: World) -> None:
    mine = await make_macro(world, "agent", name="My greeting", body="Hello!")
    assert mine["shared"] is False and mine["owner"] == "agent"
    shared_by_agent = await world.post(
        "agent", MACROS, json={"name": "x", "body": "x", "shared": True}
    )
    assert shared_by_agent.status_code == 403
    await make_macro(world, name="Refund policy", shared=True, body="Refunds take 5 days.")

    as_agent = await world.get("agent", MACROS)
    assert [m["name"] for m in as_agent.json()] == ["My greeting", "Refund policy"]
    as_agent2 = await world.get("agent2", MACROS)
    assert [m["name"] for m in as_agent2.json()] == ["Refund policy"]
    assert (await world.get("agent2", f"{MACROS}/{mine['id']}")).status_code == 404
    found = await world.get("agent", MACROS, params={"q": "REFUND"})
    assert [m["name"] for m in found.json()] == ["Refund policy"]
    by_text = await world.get("agent", MACROS, params={"q": "5 days"})
    assert [m["name"] for m in by_text.json()] == ["Refund policy"]

    shared = as_agent.json()[1]
    changed = await world.patch("agent", f"{MACROS}/{shared['id']}", json={"body": "No."})
    assert changed.status_code == 403
    own = await world.patch("agent", f"{MACROS}/{mine['id']}", json={"body": "Hi {{ agent.name }}"})
    assert own.status_code == 200
    assert (await world.request("agent", "DELETE", f"{MACROS}/{mine['id']}")).status_code == 204
    assert (await world.get("owner", MACROS)).status_code == 403
    number = (await world.create_ticket("owner"))["number"]
    customer = await world.post("owner", f"/api/v1/tickets/{number}/macros/{shared['id']}")
    assert customer.status_code == 403
    bad = await world.post("agent", MACROS, json={"name": "x", "body": "{% if %}"})
    assert bad.status_code == 422
    empty = await world.post("agent", MACROS, json={"name": "x"})
    assert empty.status_code == 422
