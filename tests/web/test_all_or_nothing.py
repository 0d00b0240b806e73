"""A page that refuses a form (and answers the refusal as a page) keeps nothing of it."""

from __future__ import annotations

from tests.conftest import World
from tests.web.conftest import WebHarness


async def test_a_refused_reopen_leaves_the_ticket_closed(web: WebHarness, world: World) -> None:
    ticket = await world.create_ticket("alice")
    number = ticket["number"]
    closed = await world.post("alice", f"/api/v1/tickets/{number}/close", json={})
    assert closed.status_code == 200
    browser = await web.sign_in("alice")
    await browser.get(f"/tickets/{number}")
    before = await world.row_counts()
    refused = await browser.post(f"/tickets/{number}/reopen", {"body": "   "})
    assert refused.status_code == 422
    assert await world.row_counts() == before
    assert (await world.get("alice", f"/api/v1/tickets/{number}")).json()["status"] == "closed"


async def test_a_refused_admin_action_changes_nothing(web: WebHarness, world: World) -> None:
    browser = await web.sign_in("admin")
    await browser.get("/admin/users/admin")
    before = await world.row_counts()
    refused = await browser.post("/admin/users/admin/disable")
    assert refused.status_code == 409
    assert await world.row_counts() == before
    shown = (await world.get("admin", "/api/v1/users/admin")).json()
    assert shown["is_active"] is True
