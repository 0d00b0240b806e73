"""Presence on the console's ticket page without a browser: the page's heartbeat answers who
else is there in words, and a reply sent after someone else wrote is held back (nothing
sent, the new comment shown, a "send anyway" choice) whether or not scripts run."""

from __future__ import annotations

import re

from fastapi import FastAPI

from tests.conftest import World
from tests.presence.test_presence import set_clock
from tests.web.conftest import Browser, WebHarness

_SEEN = re.compile(r'name="seen_comment" value="(\d+)"')


def seen_on(page: str) -> str:
    found = _SEEN.search(page)
    assert found, "the reply form carries no seen_comment"
    return found.group(1)


async def open_ticket(browser: Browser, number: int) -> str:
    page = await browser.get(f"/agent/tickets/{number}")
    assert page.status_code == 200
    return page.text


async def test_the_heartbeat_says_who_views_and_who_replies(
    web: WebHarness, world: World, app: FastAPI
) -> None:
    set_clock(app)
    await world.patch("admin", "/api/v1/users/agent2", json={"real_name": "Maya"})
    number = (await world.create_ticket("alice"))["number"]
    agent = await web.sign_in("agent")
    maya = await web.sign_in("agent2")
    await open_ticket(agent, number)
    await open_ticket(maya, number)

    first = await maya.post(f"/agent/tickets/{number}/presence", {"state": "replying"})
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    assert first.json()["present"] == []

    seen = (await agent.post(f"/agent/tickets/{number}/presence", {"state": "viewing"})).json()
    assert seen["present"] == [
        {"username": "agent2", "state": "replying", "text": "Maya is replying"}
    ]
    assert seen["newest_comment"]["mine"] is False and seen["every_ms"] > 0

    await maya.post(f"/agent/tickets/{number}/presence", {"state": "anything"})
    again = (await agent.post(f"/agent/tickets/{number}/presence", {"state": "viewing"})).json()
    assert again["present"][0]["text"] == "Maya is viewing"

    left = await maya.post(f"/agent/tickets/{number}/presence/leave")
    assert left.status_code == 204
    gone = (await agent.post(f"/agent/tickets/{number}/presence", {"state": "viewing"})).json()
    assert gone["present"] == []

    # The same CSRF rule as every form; customers have no presence.
    stale = await agent.post(f"/agent/tickets/{number}/presence", {"csrf_token": "stale"})
    assert stale.status_code == 403
    alice = await web.sign_in("alice")
    await alice.get("/tickets")
    refused = await alice.post(f"/agent/tickets/{number}/presence", {"state": "viewing"})
    assert refused.status_code == 403


async def test_a_reply_after_someone_else_wrote_is_held_back(web: WebHarness, world: World) -> None:
    await world.patch("admin", "/api/v1/users/agent2", json={"real_name": "Maya"})
    number = (await world.create_ticket("alice"))["number"]
    agent = await web.sign_in("agent")
    page = await open_ticket(agent, number)
    seen = seen_on(page)

    # Maya answers while the agent is still writing.
    written = await world.post(
        "agent2", f"/api/v1/tickets/{number}/comments", json={"body": "Maya answers first"}
    )
    assert written.status_code == 201
    before = await world.row_counts()
    held = await agent.post(
        f"/agent/tickets/{number}/comment",
        {"body": "My own answer", "internal": "0", "seen_comment": seen},
    )
    assert held.status_code == 409
    assert await world.row_counts() == before  # nothing sent
    assert "Nothing was sent: someone wrote on this ticket since you opened it." in held.text
    assert (
        "Maya replied" in held.text and "Maya answers first" in held.text
    )  # shown in the timeline
    assert ">My own answer</textarea>" in held.text  # the draft kept
    assert 'name="send_anyway" value="1"' in held.text and "Send reply anyway" in held.text
    assert seen_on(held.text) == str(written.json()["id"])

    sent = await agent.post(
        f"/agent/tickets/{number}/comment",
        {"body": "My own answer", "internal": "0", "seen_comment": seen, "send_anyway": "1"},
    )
    assert sent.status_code == 303
    comments = (await world.get("agent", f"/api/v1/tickets/{number}/comments")).json()["items"]
    assert [c["body"] for c in comments][-2:] == ["Maya answers first", "My own answer"]


async def test_own_comments_and_pages_without_the_field_are_not_held(
    web: WebHarness, world: World
) -> None:
    number = (await world.create_ticket("alice"))["number"]
    agent = await web.sign_in("agent")
    seen = seen_on(await open_ticket(agent, number))
    # The agent's own note (another tab) is nothing new to them.
    mine = await world.post(
        "agent", f"/api/v1/tickets/{number}/comments", json={"body": "Mine", "internal": True}
    )
    assert mine.status_code == 201
    first = await agent.post(
        f"/agent/tickets/{number}/comment",
        {"body": "Next", "internal": "1", "seen_comment": seen},
    )
    assert first.status_code == 303
    # A post that does not say what it saw is not guessed at.
    await world.post("agent2", f"/api/v1/tickets/{number}/comments", json={"body": "Later"})
    second = await agent.post(
        f"/agent/tickets/{number}/comment", {"body": "Without", "internal": "1"}
    )
    assert second.status_code == 303
