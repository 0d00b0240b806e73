"""The per-ticket search index stays current with every write, and sort=relevance."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from helpwire.search.models import SearchTicket
from helpwire.search.service import refresh_ticket_document
from helpwire.tickets import listing
from helpwire.tickets.models import Ticket
from tests.conftest import World
from tests.tickets.test_listing import all_pages, assert_invalid, change, listed, reply

LIST = "/api/v1/tickets"


async def test_a_changed_subject_is_found_by_its_new_words_only(world: World) -> None:
    number = (await world.create_ticket("alice", subject="Printer on fire"))["number"]
    await change(world, number, subject="Scanner jammed")
    for who in ("agent", "alice"):
        assert await listed(world, who, q="scanner") == [number], who
        assert await listed(world, who, q="printer") == [], who
    # The rest of the ticket's text is still there.
    await reply(world, "alice", number, "It smells of toner.")
    assert await listed(world, "alice", q="scanner toner") == [number]


async def test_an_internal_note_stays_hidden_from_customers_as_the_ticket_grows(
    world: World,
) -> None:
    number = (await world.create_ticket("alice", subject="Invoice question"))["number"]
    await reply(world, "agent", number, "Customer is on the watchlist.", internal=True)
    await reply(world, "alice", number, "Any news?")
    await reply(world, "agent", number, "Looking into it.")
    await change(world, number, subject="Invoice question (March)")
    for who in ("alice", "owner"):
        assert await listed(world, who, q="watchlist") == [], who
        assert await listed(world, who, q="march news") == [number], who
    assert await listed(world, "agent", q="watchlist march") == [number]
    # Another account's customer finds nothing of it, public words included.
    assert await listed(world, "gus", q="invoice") == []


async def test_relevance_puts_the_best_match_first_and_pages_through_all(world: World) -> None:
    strong = (
        await world.create_ticket("alice", subject="Toner toner toner", body="Toner is empty.")
    )["number"]
    weak = (await world.create_ticket("alice", subject="Monthly order", body="paper, toner"))[
        "number"
    ]
    unrelated = (await world.create_ticket("alice", subject="Login trouble"))["number"]
    assert await listed(world, "agent", q="toner") == [weak, strong]  # newest first
    assert await listed(world, "agent", q="toner", sort="relevance") == [strong, weak]
    assert await listed(world, "alice", q="toner", sort="relevance") == [strong, weak]
    assert await listed(world, "agent", q="toner", sort="relevance", order="asc") == [weak, strong]
    numbers, pages = await all_pages(world, "agent", q="toner", sort="relevance", limit=1)
    assert (numbers, pages) == ([strong, weak], 2)
    assert unrelated not in numbers


async def test_relevance_says_how_many_matches_it_ranked_and_counts_from_them(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest RELEVANCE_CANDIDATES matches are ranked; the answer says how many were
    and whether that was all of them, on every page."""
    numbers = [
        (await world.create_ticket("alice", subject="Toner " * (n + 1)))["number"] for n in range(3)
    ]
    params = {"q": "toner", "sort": "relevance"}
    answer = (await world.get("agent", LIST, params=params)).json()
    assert answer["ranking"] == {"ranked": 3, "complete": True}
    assert answer["count"] == {"value": 3, "exact": True}
    assert [t["number"] for t in answer["items"]] == numbers[::-1]
    assert (await world.get("agent", LIST, params={"q": "toner"})).json()["ranking"] is None

    monkeypatch.setattr(listing, "RELEVANCE_CANDIDATES", 2)
    monkeypatch.setattr(listing, "SEARCH_COUNT_CAP", 2)
    first = (await world.get("agent", LIST, params={**params, "limit": 1})).json()
    assert first["ranking"] == {"ranked": 2, "complete": False}
    assert first["count"] == {"value": 2, "exact": False}
    # The two newest are ranked: the oldest (and strongest) match is left out.
    assert [t["number"] for t in first["items"]] == [numbers[2]]
    second = (
        await world.get(
            "agent", LIST, params={**params, "limit": 1, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [t["number"] for t in second["items"]] == [numbers[1]]
    assert (second["ranking"], second["count"], second["next_cursor"]) == (
        first["ranking"],
        first["count"],
        None,
    )
    # A customer's relevance list ranks and counts only what they may see.
    assert (await world.get("gus", LIST, params=params)).json()["ranking"] == {
        "ranked": 0,
        "complete": True,
    }


async def test_relevance_without_a_search_is_refused_naming_sort(world: World) -> None:
    await world.create_ticket("alice", subject="Printer on fire")
    response = await world.get("agent", LIST, params={"sort": "relevance"})
    assert_invalid(response, "sort")


async def test_newest_first_search_pages_through_every_match_once(world: World) -> None:
    numbers = []
    for i in range(7):
        body: dict[str, Any] = {"subject": f"Widget report {i}"}
        numbers.append((await world.create_ticket("alice", **body))["number"])
    await world.create_ticket("alice", subject="Gadget report")
    found, pages = await all_pages(world, "alice", q="widget", limit=3)
    assert (found, pages) == (numbers[::-1], 3)
    found, _ = await all_pages(world, "agent", q="wid*", order="asc", limit=2)
    assert found == numbers


async def test_the_row_grown_comment_by_comment_equals_one_built_from_all_texts(
    world: World,
) -> None:
    """A comment's words are appended to the ticket's row instead of the row being rebuilt
    from the whole conversation; the appended row must be the rebuilt one, word for word."""
    file_id = (await world.upload("alice", "crash-report.log", b"trace"))["id"]
    number = (
        await world.create_ticket(
            "alice", subject="Sync fails", body="Since Monday.", files=[file_id]
        )
    )["number"]
    await reply(world, "agent", number, "Seen before on v2.", internal=True)
    await reply(world, "alice", number, "Still failing!")
    await reply(world, "agent", number, "Escalated to ops.", internal=True)
    async with world.database.writing() as session:
        ticket_id = await session.scalar(select(Ticket.id).where(Ticket.number == number))
        assert ticket_id is not None
        grown = await session.get(SearchTicket, ticket_id)
        assert grown is not None
        appended = (grown.public_text, grown.internal_text)
        await refresh_ticket_document(session, ticket_id)
        await session.refresh(grown)
        assert (grown.public_text, grown.internal_text) == appended
    assert appended == (
        "sync fails since monday crash report log still failing",
        "seen before on v2 escalated to ops",
    )
