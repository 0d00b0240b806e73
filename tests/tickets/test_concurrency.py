"""Many requests at once: ticket numbers stay gap-free and unique, an Idempotency-Key
creates one ticket however many times it arrives (DESIGN.md 3 and 4)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from helpwire.settings import Settings
from tests.conftest import World

TICKETS = "/api/v1/tickets"
REPLAYED = "idempotent-replayed"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Fifty requests at once share the pool's twenty connections. On a busy machine (the
    # suite runs on every core) the last ones waited past the 5 s default and were
    # answered 503, which says nothing of what these tests are about: the numbers.
    return settings.model_copy(update={"database_pool_timeout_seconds": 60.0})


async def test_fifty_tickets_filed_at_once_get_the_numbers_one_to_fifty(world: World) -> None:
    filers = ["alice", "bob", "carol", "owner", "gus"]

    answers = await asyncio.gather(
        *(
            world.post(
                filers[i % len(filers)],
                TICKETS,
                json={"subject": f"Ticket {i}", "body": f"Concurrent ticket {i}"},
            )
            for i in range(50)
        )
    )

    assert [a.status_code for a in answers] == [201] * 50, [a.text for a in answers][:3]
    numbers = sorted(a.json()["number"] for a in answers)
    assert numbers == list(range(1, 51))
    counts = await world.row_counts()
    assert counts["tickets"] == 50
    assert counts["comments"] == 50
    assert counts["ticket_number"] == 50
    # Each answer describes the ticket it created, under the number it was given.
    for answer in answers:
        again = await world.get("agent", f"{TICKETS}/{answer.json()['number']}")
        assert again.json()["subject"] == answer.json()["subject"]


async def test_twenty_retries_of_one_request_at_once_create_exactly_one_ticket(
    world: World,
) -> None:
    body = {"subject": "Double-clicked submit", "body": "Only file this once."}
    headers = {"Idempotency-Key": "submit-7f3a"}

    answers = await asyncio.gather(
        *(world.post("alice", TICKETS, json=body, headers=headers) for _ in range(20))
    )

    assert [a.status_code for a in answers] == [201] * 20, [a.text for a in answers][:3]
    assert len({a.json()["number"] for a in answers}) == 1
    first = next(a for a in answers if REPLAYED not in a.headers)
    replays = [a for a in answers if a is not first]
    assert all(a.headers.get(REPLAYED) == "true" for a in replays)
    assert all(a.json() == first.json() for a in replays)
    assert all(a.headers["location"] == first.headers["location"] for a in replays)
    assert all(a.headers["etag"] == first.headers["etag"] for a in replays)
    counts = await world.row_counts()
    assert counts["tickets"] == 1
    assert counts["comments"] == 1
    assert counts["idempotency_keys"] == 1
    assert counts["ticket_number"] == 1
    mine = await world.get("alice", TICKETS)
    assert [t["number"] for t in mine.json()["items"]] == [first.json()["number"]]


async def test_a_later_retry_gets_the_stored_answer_and_creates_nothing(world: World) -> None:
    body = {"subject": "Flaky network", "body": "Did this arrive?"}
    headers = {"Idempotency-Key": "retry-after-timeout"}
    first = await world.post("alice", TICKETS, json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    # The ticket moves on in the meantime; the replay still says what the first answer said.
    moved = await world.patch(
        "agent", f"{TICKETS}/{first.json()['number']}", json={"priority": "high"}
    )
    assert moved.status_code == 200
    before = await world.row_counts()

    retry = await world.post("alice", TICKETS, json=body, headers=headers)

    assert retry.status_code == 201
    assert retry.headers[REPLAYED] == "true"
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert await world.row_counts() == before


async def test_one_key_used_by_two_people_is_two_separate_requests(world: World) -> None:
    body = {"subject": "Same key", "body": "Keys belong to whoever sent them."}
    headers = {"Idempotency-Key": "shared-key"}

    alices, bobs = await asyncio.gather(
        world.post("alice", TICKETS, json=body, headers=headers),
        world.post("bob", TICKETS, json=body, headers=headers),
    )

    assert (alices.status_code, bobs.status_code) == (201, 201)
    assert REPLAYED not in alices.headers and REPLAYED not in bobs.headers
    assert alices.json()["requester"]["username"] == "alice"
    assert bobs.json()["requester"]["username"] == "bob"
    assert {alices.json()["number"], bobs.json()["number"]} == {1, 2}


async def test_concurrent_replies_to_one_ticket_all_land(world: World) -> None:
    number = (await world.create_ticket("alice", access_level="all_users"))["number"]
    writers = ["alice", "bob", "carol", "owner", "agent", "agent2", "admin"] * 3

    answers: list[httpx.Response] = await asyncio.gather(
        *(
            world.post(who, f"{TICKETS}/{number}/comments", json={"body": f"Reply {i}"})
            for i, who in enumerate(writers)
        )
    )

    assert [a.status_code for a in answers] == [201] * len(writers)
    ticket = (await world.get("agent", f"{TICKETS}/{number}")).json()
    assert ticket["comment_count"] == len(writers) + 1
    conversation = (await world.get("alice", f"{TICKETS}/{number}/comments")).json()["items"]
    assert len(conversation) == len(writers) + 1
    assert len({c["id"] for c in conversation}) == len(writers) + 1
