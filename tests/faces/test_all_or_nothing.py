"""A request a face refuses leaves the database exactly as it was."""

from __future__ import annotations

import uuid

from tests.conftest import World

SELECTEL = "/selectel/tickets/v1/tickets"


async def _closed_ticket(world: World) -> int:
    ticket = await world.create_ticket("alice")
    number = int(ticket["number"])
    response = await world.post("alice", f"/api/v1/tickets/{number}/close", json={})
    assert response.status_code == 200, response.text
    return number


async def test_selectel_refused_reopen_changes_nothing(world: World) -> None:
    number = await _closed_ticket(world)
    before = await world.row_counts()
    response = await world.client.post(
        f"{SELECTEL}/{number}/reopen",
        headers={"X-Token": world.tokens["alice"]},
        json={"files": [str(uuid.uuid4())], "body": "x"},
    )
    assert response.status_code == 400, response.text
    assert await world.row_counts() == before
    ticket = (await world.get("alice", f"/api/v1/tickets/{number}")).json()
    assert ticket["status"] == "closed"


async def test_selectel_refused_comment_on_a_closed_ticket_changes_nothing(world: World) -> None:
    number = await _closed_ticket(world)
    before = await world.row_counts()
    response = await world.client.post(
        f"{SELECTEL}/{number}/comments",
        headers={"X-Token": world.tokens["alice"]},
        json={"body": "x"},
    )
    assert response.status_code == 409, response.text
    assert "error" in response.json()
    assert await world.row_counts() == before


async def test_ucloud_refusal_changes_nothing(world: World) -> None:
    before = await world.row_counts()
    response = await world.client.post(
        "/api/support/ticket",
        headers=world.headers("alice"),
        json={"subject": "s", "message": "x" * (512 * 1024 + 1)},
    )
    assert response.status_code == 413, response.text
    assert "why" in response.json()
    assert await world.row_counts() == before


async def test_cocalc_refusal_changes_nothing(world: World) -> None:
    before = await world.row_counts()
    response = await world.client.post(
        "/api/v1/create_support_ticket",
        headers=world.headers("alice"),
        json={"email_address": "alice@acme.test", "subject": "s", "body": "b", "nope": 1},
    )
    assert response.status_code == 400, response.text
    assert "error" in response.json()
    assert await world.row_counts() == before


async def test_f5_refused_reopen_changes_nothing(world: World) -> None:
    ticket = await world.create_ticket("owner")
    before = await world.row_counts()
    response = await world.client.post(
        f"/api/web/namespaces/system/customer_support/{ticket['number']}/reopen",
        headers={"Authorization": f"APIToken {world.tokens['owner']}"},
        json={},
    )
    assert response.json() == {"err": "E_NOT_CLOSED"}
    assert await world.row_counts() == before
