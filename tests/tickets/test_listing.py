"""Listing tickets: filters, sorts, full-text search and cursor pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from helpwire.accounts.actor import load_actor
from helpwire.accounts.models import User
from helpwire.api.pagination import encode_cursor
from helpwire.tickets.models import PRIORITY_RANK, STATUS_RANK, Priority, Status
from helpwire.tickets.schemas import TicketCreate
from helpwire.tickets.service import create_ticket
from tests.conftest import World

LIST = "/api/v1/tickets"


def assert_invalid(response: httpx.Response, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == "/problems/validation-error"
    assert field in [e["field"] for e in body["errors"]], body
    return body


async def listed(world: World, who: str, **params: Any) -> list[int]:
    """Numbers of the tickets on the first page, in the order given."""
    response = await world.get(who, LIST, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    return [t["number"] for t in page["items"]]


async def all_pages(world: World, who: str, **params: Any) -> tuple[list[int], int]:
    """Every ticket number, page after page; and how many pages it took."""
    numbers: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await world.get(who, LIST, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        assert len(page["items"]) <= params["limit"]
        numbers.extend(t["number"] for t in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return numbers, pages
        assert len(page["items"]) == params["limit"]


async def reply(world: World, who: str, number: int, body: str, **fields: Any) -> None:
    response = await world.post(
        who, f"/api/v1/tickets/{number}/comments", json={"body": body, **fields}
    )
    assert response.status_code == 201, response.text


async def change(world: World, number: int, **fields: Any) -> dict[str, Any]:
    response = await world.patch("agent", f"/api/v1/tickets/{number}", json=fields)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def seed(world: World) -> dict[str, dict[str, Any]]:
    """Five tickets that differ in every filterable way; keyed by whose they are.

    alice: open, high, question, billing/invoices, assigned to agent, tag invoice, project p1
    bob:   pending, low, incident, network, assigned to agent2, tags eu+vpn, project p2
    gus:   new, urgent, bug, globex, project g1, unassigned
    owner: new, escalated (normal -> urgent), task, tag vpn, unassigned
    carol: solved, normal, problem, billing, filed by agent, assigned to agent
    """
    made = {
        "alice": await world.create_ticket(
            "alice",
            subject="Invoice total is wrong",
            priority="high",
            type="question",
            topic="billing",
            subtopic="invoices",
            tags=["invoice"],
            projects=["p1"],
        ),
        "bob": await world.create_ticket(
            "bob",
            subject="VPN drops",
            priority="low",
            type="incident",
            topic="network",
            tags=["vpn", "EU"],
            projects=["p2"],
        ),
        "gus": await world.create_ticket(
            "gus",
            subject="Globex cannot log in",
            priority="urgent",
            type="bug",
            projects=["g1"],
        ),
        "owner": await world.create_ticket("owner", subject="VPN slow", type="task", tags=["vpn"]),
        "carol": await world.create_ticket(
            "agent",
            subject="Refund for March",
            type="problem",
            topic="billing",
            requester="carol",
        ),
    }
    n = {who: t["number"] for who, t in made.items()}
    await reply(world, "agent", n["alice"], "Checking the invoice.")
    await change(world, n["alice"], assignee="agent")
    await change(world, n["bob"], status="pending", assignee="agent2")
    escalated = await world.post("agent", f"/api/v1/tickets/{n['owner']}/escalate")
    assert escalated.status_code == 200, escalated.text
    await change(world, n["carol"], status="solved", assignee="agent")
    listing = (await world.get("agent", LIST, params={"limit": 10})).json()
    by_number = {t["number"]: t for t in listing["items"]}
    return {who: by_number[number] for who, number in n.items()}


PRIORITIES = [Priority.NORMAL, Priority.LOW, Priority.URGENT, Priority.HIGH, Priority.NORMAL]


async def file_many(world: World, count: int) -> dict[int, tuple[datetime, Priority]]:
    """``count`` tickets filed by alice in one transaction, many of them sharing a created_at
    (ties) in an order unrelated to their numbers. Answers number -> (created_at, priority)."""
    base = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    made: dict[int, tuple[datetime, Priority]] = {}
    async with world.database.writer() as session, session.begin():
        alice = await session.scalar(select(User).where(User.username == "alice"))
        assert alice is not None
        actor = await load_actor(session, user=alice)
        for i in range(count):
            priority = PRIORITIES[i % len(PRIORITIES)]
            ticket = await create_ticket(
                session,
                actor=actor,
                new=TicketCreate(
                    subject=f"Bulk ticket {i}", body="Filed in bulk.", priority=priority
                ),
            )
            moment = base + timedelta(minutes=(i * 37) % 25)
            ticket.created_at = ticket.updated_at = moment
            made[ticket.number] = (moment, priority)
        await session.flush()
    return made


# --- filters ------------------------------------------------------------------------------


async def test_filters_by_status_priority_type_topic_tag_and_escalation(world: World) -> None:
    t = {who: ticket["number"] for who, ticket in (await seed(world)).items()}
    assert await listed(world, "agent", status="new") == [t["owner"], t["gus"]]
    assert await listed(world, "agent", status="new,pending") == [t["owner"], t["gus"], t["bob"]]
    assert await listed(world, "agent", status=" open , solved ") == [t["carol"], t["alice"]]
    assert await listed(world, "agent", status="hold") == []
    assert await listed(world, "agent", priority="urgent") == [t["owner"], t["gus"]]
    assert await listed(world, "agent", priority="low,high") == [t["bob"], t["alice"]]
    assert await listed(world, "agent", type="bug") == [t["gus"]]
    assert await listed(world, "agent", type="question,task") == [t["owner"], t["alice"]]
    assert await listed(world, "agent", topic="billing") == [t["carol"], t["alice"]]
    assert await listed(world, "agent", topic="network") == [t["bob"]]
    assert await listed(world, "agent", topic="no-such-topic") == []
    assert await listed(world, "agent", tag="vpn") == [t["owner"], t["bob"]]
    assert await listed(world, "agent", tag="VPN") == [t["owner"], t["bob"]]
    assert await listed(world, "agent", tag="eu") == [t["bob"]]
    assert await listed(world, "agent", escalated="true") == [t["owner"]]
    assert await listed(world, "agent", escalated="false") == [
        t["carol"],
        t["gus"],
        t["bob"],
        t["alice"],
    ]
    # Filters combine: every one must hold.
    assert await listed(world, "agent", status="new", priority="urgent", type="task") == [
        t["owner"]
    ]
    assert await listed(world, "agent", tag="vpn", status="pending") == [t["bob"]]


async def test_filters_by_assignee_and_requester_including_me_and_none(world: World) -> None:
    t = {who: ticket["number"] for who, ticket in (await seed(world)).items()}
    assert await listed(world, "admin", assignee="agent") == [t["carol"], t["alice"]]
    assert await listed(world, "admin", assignee="agent2") == [t["bob"]]
    assert await listed(world, "agent", assignee="me") == [t["carol"], t["alice"]]
    assert await listed(world, "agent2", assignee="me") == [t["bob"]]
    assert await listed(world, "admin", assignee="me") == []
    assert await listed(world, "agent", assignee="none") == [t["owner"], t["gus"]]
    assert await listed(world, "agent", assignee="nobody-by-that-name") == []

    assert await listed(world, "agent", requester="alice") == [t["alice"]]
    assert await listed(world, "agent", requester="carol") == [t["carol"]]
    assert await listed(world, "bob", requester="me") == [t["bob"]]
    assert await listed(world, "owner", requester="me") == [t["owner"]]
    assert await listed(world, "agent", requester="me") == []
    # owner sees the whole account, yet asking for bob's tickets gives only those.
    assert await listed(world, "owner", requester="bob") == [t["bob"]]


async def test_filters_by_account_and_project_within_what_the_asker_may_see(
    world: World,
) -> None:
    t = {who: ticket["number"] for who, ticket in (await seed(world)).items()}
    acme = [t["carol"], t["owner"], t["bob"], t["alice"]]
    assert await listed(world, "agent", account="acme") == acme
    assert await listed(world, "agent", account="globex") == [t["gus"]]
    assert await listed(world, "agent", project="p2") == [t["bob"]]
    assert await listed(world, "agent", project="p1") == [t["alice"]]
    assert await listed(world, "agent", project="g1") == [t["gus"]]
    assert await listed(world, "agent", account="acme", project="g1") == []

    assert await listed(world, "owner") == acme
    assert await listed(world, "owner", account="globex") == []
    assert await listed(world, "owner", project="p2") == [t["bob"]]
    assert await listed(world, "gus") == [t["gus"]]
    assert await listed(world, "gus", account="acme") == []
    assert await listed(world, "alice") == [t["alice"]]
    assert await listed(world, "alice", tag="vpn") == []


async def test_an_unknown_filter_value_or_a_limit_out_of_range_is_refused_naming_the_field(
    world: World,
) -> None:
    await file_many(world, 3)
    for field, value in (
        ("status", "done"),
        ("status", "new,done"),
        ("priority", "critical"),
        ("type", "rant"),
        ("sort", "subject"),
        ("order", "sideways"),
        ("escalated", "maybe"),
        ("limit", 0),
        ("limit", -1),
        ("limit", 201),
        ("limit", "lots"),
    ):
        body = assert_invalid(await world.get("agent", LIST, params={field: value}), field)
        if field in ("status", "priority", "type"):
            assert str(value).split(",")[-1] in body["detail"]
    for limit in (1, 200):
        response = await world.get("agent", LIST, params={"limit": limit})
        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) == min(limit, 3)


# --- sorting ------------------------------------------------------------------------------


async def test_each_sort_orders_the_list_both_ways_with_ties_broken_by_age(world: World) -> None:
    tickets = await seed(world)
    numbers = sorted(t["number"] for t in tickets.values())
    # Touch the tickets in a known order, so that updated_at differs from created_at.
    touched = [numbers[2], numbers[0], numbers[4], numbers[1], numbers[3]]
    for label, number in enumerate(touched):
        await change(world, number, tags=[f"touch-{label}"])
    current = {t["number"]: t for t in (await world.get("agent", LIST)).json()["items"]}

    expected_ascending = {
        "created_at": numbers,
        "number": numbers,
        "updated_at": touched,
        "priority": sorted(
            numbers, key=lambda n: (PRIORITY_RANK[Priority(current[n]["priority"])], n)
        ),
        "status": sorted(numbers, key=lambda n: (STATUS_RANK[Status(current[n]["status"])], n)),
    }
    # The fixture has ties in both priority and status, so the tie-break is exercised.
    assert len({current[n]["priority"] for n in numbers}) < len(numbers)
    assert len({current[n]["status"] for n in numbers}) < len(numbers)
    for sort, ascending in expected_ascending.items():
        assert await listed(world, "agent", sort=sort, order="asc") == ascending, sort
        assert await listed(world, "agent", sort=sort, order="desc") == ascending[::-1], sort

    # Without a sort, the newest come first.
    assert await listed(world, "agent") == numbers[::-1]
    low_to_urgent = [current[n]["priority"] for n in expected_ascending["priority"]]
    assert low_to_urgent == ["low", "normal", "high", "urgent", "urgent"]
    new_to_solved = [current[n]["status"] for n in expected_ascending["status"]]
    assert new_to_solved == ["new", "new", "open", "pending", "solved"]


# --- search -------------------------------------------------------------------------------


async def test_search_finds_words_of_the_subject_and_of_the_conversation(world: World) -> None:
    printer = (await world.create_ticket("alice", subject="Printer on fire"))["number"]
    login = (await world.create_ticket("alice", subject="Login trouble", priority="high"))["number"]
    await reply(world, "agent", login, "Have you tried the zeppelin printer mode?")
    assert await listed(world, "agent", q="fire") == [printer]
    assert await listed(world, "agent", q="FIRE") == [printer]
    assert await listed(world, "alice", q="fire") == [printer]
    assert await listed(world, "agent", q="zeppelin") == [login]
    assert await listed(world, "alice", q="zeppelin") == [login]
    assert await listed(world, "agent", q="typewriter") == []
    # The body the ticket was filed with is part of the conversation.
    assert await listed(world, "agent", q="help") == [login, printer]
    # Search combines with filters and sorts.
    assert await listed(world, "agent", q="printer") == [login, printer]
    assert await listed(world, "agent", q="printer", sort="number", order="asc") == [printer, login]
    assert await listed(world, "agent", q="printer", priority="high") == [login]
    assert await listed(world, "gus", q="printer") == []


async def test_search_finds_a_file_by_its_name(world: World) -> None:
    upload = await world.upload("alice", "crash-report.log", b"segfault at 0x0\n")
    plain = (await world.create_ticket("alice", subject="The app stops"))["number"]
    with_file = (await world.create_ticket("alice", subject="Another issue"))["number"]
    await reply(world, "alice", with_file, "Log attached.", files=[upload["id"]])
    assert plain != with_file
    for q in ("crash", "crash-report.log", "report", "crash report"):
        assert await listed(world, "agent", q=q) == [with_file], q
        assert await listed(world, "alice", q=q) == [with_file], q


async def test_words_of_an_internal_note_are_found_by_staff_but_not_by_the_customer(
    world: World,
) -> None:
    number = (await world.create_ticket("alice", subject="Charge twice"))["number"]
    audit = await world.upload("agent", "finance-audit.pdf", b"%PDF-1.4\n", "application/pdf")
    await reply(
        world,
        "agent",
        number,
        "Refund approved by finance.",
        internal=True,
        files=[audit["id"]],
    )
    for q in ("refund", "finance", "audit"):
        assert await listed(world, "agent", q=q) == [number], q
        assert await listed(world, "alice", q=q) == [], q
        assert await listed(world, "owner", q=q) == [], q
    # What the customer may see is still found for them.
    assert await listed(world, "alice", q="charge") == [number]


async def test_several_words_must_all_match(world: World) -> None:
    both = (await world.create_ticket("alice", subject="Printer on fire"))["number"]
    printer_only = (await world.create_ticket("alice", subject="Printer jammed"))["number"]
    fire_only = (await world.create_ticket("alice", subject="Fire drill on Friday"))["number"]
    assert await listed(world, "agent", q="printer") == [printer_only, both]
    assert await listed(world, "agent", q="fire") == [fire_only, both]
    assert await listed(world, "agent", q="printer fire") == [both]
    assert await listed(world, "agent", q="fire, printer!") == [both]
    assert await listed(world, "agent", q="printer fire drill") == []


async def test_the_words_of_a_search_may_be_spread_over_a_tickets_parts(world: World) -> None:
    number = (await world.create_ticket("alice", subject="Printer", body="out of toner"))["number"]
    await world.create_ticket("alice", subject="Toner order", body="for the copier")
    assert await listed(world, "agent", q="printer toner") == [number]
    # ... but a customer's search does not reach into internal notes to join them.
    await reply(world, "agent", number, "ticket for the lexmark", internal=True)
    assert await listed(world, "agent", q="printer lexmark") == [number]
    assert await listed(world, "alice", q="printer lexmark") == []


async def test_a_word_with_a_star_finds_every_word_starting_with_it(world: World) -> None:
    printer = (await world.create_ticket("alice", subject="Printer on fire"))["number"]
    printing = (await world.create_ticket("alice", subject="Printing is slow"))["number"]
    await world.create_ticket("alice", subject="Sprint planning")
    assert await listed(world, "agent", q="print") == []
    assert await listed(world, "agent", q="print*") == [printing, printer]
    assert await listed(world, "agent", q="print* fire") == [printer]


async def test_a_search_without_any_word_is_refused(world: World) -> None:
    await world.create_ticket("alice", subject="Printer on fire")
    for q in ("!!!", " ", "-- ..."):
        body = assert_invalid(await world.get("agent", LIST, params={"q": q}), "q")
        assert "word" in body["detail"]
    assert_invalid(await world.get("agent", LIST, params={"q": ""}), "q")


# --- pagination ---------------------------------------------------------------------------


async def test_paging_through_250_tickets_misses_none_and_repeats_none(world: World) -> None:
    made = await file_many(world, 250)
    everything = set(made)
    assert len(everything) == 250

    newest_first, pages = await all_pages(world, "agent", limit=7, sort="created_at", order="desc")
    assert pages == 36  # 35 full pages of 7, and the last with 5
    assert len(newest_first) == len(set(newest_first)) == 250
    assert set(newest_first) == everything
    assert newest_first == sorted(everything, key=lambda n: (made[n][0], n), reverse=True)

    by_priority, _ = await all_pages(world, "agent", limit=7, sort="priority", order="asc")
    assert len(by_priority) == len(set(by_priority)) == 250
    assert set(by_priority) == everything
    assert by_priority == sorted(everything, key=lambda n: (PRIORITY_RANK[made[n][1]], n))

    # A customer pages through only what they may see, just as completely.
    as_alice, _ = await all_pages(world, "alice", limit=7, sort="priority", order="desc")
    assert as_alice == by_priority[::-1]


async def test_a_ticket_filed_while_paging_is_neither_skipped_into_nor_repeated(
    world: World,
) -> None:
    made = await file_many(world, 30)
    first = await world.get("agent", LIST, params={"limit": 7, "sort": "created_at"})
    seen = [t["number"] for t in first.json()["items"]]
    newcomer = (await world.create_ticket("alice", subject="Filed meanwhile"))["number"]
    cursor = first.json()["next_cursor"]
    while cursor:
        page = (
            await world.get(
                "agent", LIST, params={"limit": 7, "sort": "created_at", "cursor": cursor}
            )
        ).json()
        seen.extend(t["number"] for t in page["items"])
        cursor = page["next_cursor"]
    assert newcomer not in seen
    assert sorted(seen) == sorted(made)
    top = (await world.get("agent", LIST, params={"limit": 1})).json()["items"]
    assert [t["number"] for t in top] == [newcomer]


async def test_a_cursor_made_for_another_sort_or_a_garbage_one_is_refused(world: World) -> None:
    await file_many(world, 10)
    first = await world.get("agent", LIST, params={"limit": 3, "sort": "created_at"})
    cursor = first.json()["next_cursor"]
    assert cursor
    for params in (
        {"sort": "priority"},
        {"sort": "number"},
        {"sort": "created_at", "order": "asc"},
    ):
        response = await world.get("agent", LIST, params={"limit": 3, "cursor": cursor, **params})
        body = assert_invalid(response, "cursor")
        assert "sort" in body["detail"]
    ok = await world.get("agent", LIST, params={"limit": 3, "cursor": cursor, "sort": "created_at"})
    assert ok.status_code == 200, ok.text

    when = "2024-03-01T09:00:00+00:00"
    garbage = [
        ("created_at", "garbage"),
        ("created_at", "!!!"),
        ("created_at", "e30"),  # {}: no sort, no position
        ("created_at", encode_cursor({"s": "created_at", "o": "desc"})),
        ("created_at", encode_cursor({"s": "created_at", "o": "desc", "v": "yesterday", "i": 1})),
        ("created_at", encode_cursor({"s": "created_at", "o": "desc", "v": when, "i": "x"})),
        ("number", encode_cursor({"s": "number", "o": "desc", "v": [1], "i": 1})),
        # Tampered cursors must not reach the database as values it cannot take.
        ("created_at", encode_cursor({"s": "created_at", "o": "desc", "v": when[:19], "i": 1})),
        ("number", encode_cursor({"s": "number", "o": "desc", "v": 10**30, "i": 1})),
        ("created_at", encode_cursor({"s": "created_at", "o": "desc", "v": when, "i": 10**30})),
        (
            "created_at",
            encode_cursor(
                {"s": "created_at", "o": "desc", "v": "9999-12-31T23:59:59-14:00", "i": 1}
            ),
        ),
        ("priority", encode_cursor({"s": "priority", "o": "desc", "v": 1e300, "i": 1})),
    ]
    for sort, garbled in garbage:
        response = await world.get("agent", LIST, params={"cursor": garbled, "sort": sort})
        assert_invalid(response, "cursor")


async def test_search_finds_what_an_html_comment_shows_not_what_was_stripped(world: World) -> None:
    number = (
        await world.create_ticket(
            "alice",
            body='<p onclick="zebra()">visible words</p><script>giraffe()</script>',
            body_format="html",
        )
    )["number"]
    assert await listed(world, "agent", q="visible") == [number]
    assert await listed(world, "agent", q="giraffe") == []
    assert await listed(world, "agent", q="zebra") == []
