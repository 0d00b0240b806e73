"""A page of tickets costs a fixed number of queries, whatever the page holds: the list
query reads the page's ids from the tickets table alone, and the tickets of those ids are
loaded with what they show."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select, text

from helpwire.accounts.actor import load_actor
from helpwire.accounts.models import User
from helpwire.db.session import Database
from helpwire.tickets import field_values, service
from helpwire.tickets.serialize import ticket_out
from tests.conftest import World
from tests.tickets.test_listing import all_pages, change

LIST = "/api/v1/tickets"


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


def ticket_queries(seen: list[str]) -> list[str]:
    """The statements that find a page: the tickets' ids, in the list's order."""
    return [
        s
        for s in seen
        if s.startswith(("SELECT tickets.id FROM tickets", "SELECT tickets.id FROM ticket_tags"))
    ]


def page_loads(seen: list[str]) -> list[str]:
    """The statements that load the page's tickets by their ids."""
    return [s for s in seen if s.startswith("SELECT tickets.id, tickets.number")]


async def test_a_page_of_many_different_tickets_costs_what_a_page_of_one_costs(
    world: World, database: Database
) -> None:
    first = await world.create_ticket("alice", topic="billing", subtopic="invoices", tags=["a"])
    await world.patch("agent", f"/api/v1/tickets/{first['number']}", json={"assignee": "agent"})
    with statements(database) as one:
        assert len((await world.get("agent", LIST)).json()["items"]) == 1

    people = ["alice", "bob", "owner", "gus", "carol"]
    for i in range(20):
        ticket = await world.create_ticket(
            people[i % len(people)],
            topic=["billing", "network"][i % 2],
            tags=[f"t{i}", "shared"],
        )
        assignee = ["agent", "agent2", "admin"][i % 3]
        changed = await world.patch(
            "agent", f"/api/v1/tickets/{ticket['number']}", json={"assignee": assignee}
        )
        assert changed.status_code == 200, changed.text
    with statements(database) as many:
        page = (await world.get("agent", LIST)).json()
    assert len(page["items"]) == 21
    assert {t["requester"]["username"] for t in page["items"]} == set(people)
    assert {t["assignee"]["username"] for t in page["items"]} == {"agent", "agent2", "admin"}
    assert len(many) == len(one)

    # The page itself is read from the tickets table without joining anything to it; its
    # tickets are then loaded by id, with their people, account and topics joined.
    (query,) = ticket_queries(many)
    assert " JOIN " not in query.upper()
    (load,) = page_loads(many)
    assert "WHERE TICKETS.ID IN" in load.upper()


async def test_a_filtered_page_joins_nothing_either(world: World, database: Database) -> None:
    await world.create_ticket("alice", tags=["vpn"])
    with statements(database) as seen:
        response = await world.get("agent", LIST, params={"requester": "alice", "tag": "vpn"})
    assert len(response.json()["items"]) == 1
    (query,) = ticket_queries(seen)
    # The tag's rows, newest first, and their tickets: no user is joined to find alice's.
    assert query.upper().count(" JOIN ") == 1
    assert "JOIN tickets ON tickets.id = ticket_tags.ticket_id" in query
    with statements(database) as seen:
        params = {"requester": "alice", "tag": "vpn", "sort": "updated_at"}
        response = await world.get("agent", LIST, params=params)
    assert len(response.json()["items"]) == 1
    (query,) = ticket_queries(seen)
    assert " JOIN " not in query.upper()


async def answer_from_the_orm(database: Database, who: str, number: int) -> dict[str, Any]:
    """Ticket ``number`` as the routes that change a ticket answer it (its ORM object)."""
    async with database.writing() as session:
        user = (await session.scalars(select(User).where(User.username == who))).one()
        actor = await load_actor(session, user=user)
        ticket = await service.get_ticket(session, actor=actor, number=number)
        values = await field_values.values_for(
            session, ticket_ids=[ticket.id], staff=actor.is_staff
        )
        answer = ticket_out(ticket, staff=actor.is_staff, fields=values.get(ticket.id, {}))
        return answer.model_dump(mode="json")


async def test_each_ticket_of_a_list_is_answered_as_a_get_answers_it(
    world: World, database: Database
) -> None:
    """A list and a GET read their tickets as plain rows (tickets.listed), a change loads
    the ORM object: all three answers must be the same, field for field, for staff and for
    customers."""
    first = await world.create_ticket(
        "owner",
        subject="Invoice wrong",
        topic="billing",
        subtopic="invoices",
        tags=["zeta", "alpha"],
        projects=["p2", "p1"],
        access_level="project_users",
    )
    number = first["number"]
    changes = [
        await world.patch("agent", f"{LIST}/{number}", json={"assignee": "agent"}),
        await world.post(
            "agent", f"{LIST}/{number}/comments", json={"body": "n", "internal": True}
        ),
        await world.post("owner", f"{LIST}/{number}/close", json={}),
        await world.post("owner", f"{LIST}/{number}/rating", json={"score": 4, "comment": "ok"}),
    ]
    assert [c.status_code for c in changes] == [200, 201, 200, 200], [c.text for c in changes]
    await world.create_ticket("owner", subject="Follow-up", follow_up_of=number)
    await world.create_ticket("alice", subject="Alice's own")
    await world.create_ticket("bob", subject="Plain")
    for who in ("agent", "owner", "alice"):
        page = (await world.get(who, LIST)).json()["items"]
        assert page, who
        for item in page:
            one = await world.get(who, f"{LIST}/{item['number']}")
            assert one.status_code == 200, one.text
            assert item == one.json(), (who, item["number"])
            assert item == await answer_from_the_orm(database, who, item["number"])


async def test_one_ticket_is_read_with_one_statement(world: World, database: Database) -> None:
    """A GET reads the ticket with everything it shows, its tags and projects gathered per
    ticket by a subquery (the join of the projects' two tables to the one ticket is what
    SQLite built whole first: 460 ms at a million tickets)."""
    number = (await world.create_ticket("owner", projects=["p1", "p2"], tags=["b", "a"]))["number"]
    for who in ("agent", "owner"):
        with statements(database) as seen:
            response = await world.get(who, f"{LIST}/{number}")
        assert (response.json()["projects"], response.json()["tags"]) == (["p1", "p2"], ["a", "b"])
        (by_number,) = [s for s in seen if "tickets.number = " in s]
        assert "ticket_projects" in by_number and "ticket_tags" in by_number
        token_lookup, *rest = [s for s in seen if s.startswith("SELECT")]
        assert "api_tokens" in token_lookup and rest == [by_number], seen


async def test_a_count_joins_the_tag_and_an_empty_list_reads_no_page(
    world: World, database: Database
) -> None:
    """The count reads the tag's rows and, with another filter, joins their tickets (it
    stops at its cap); it comes first, and a list it finds empty (a mistyped tag) is not
    walked for a page."""
    await world.create_ticket("alice", tags=["vpn"])
    with statements(database) as seen:
        found = (await world.get("agent", LIST, params={"tag": "vpn", "status": "new"})).json()
    assert [len(found["items"]), found["count"]] == [1, {"value": 1, "exact": True}]
    (count,) = [s for s in seen if s.startswith("SELECT count(*)")]
    assert "JOIN ticket_tags ON" in count
    assert seen.index(count) < seen.index(ticket_queries(seen)[0])

    with statements(database) as seen:
        missing = (await world.get("agent", LIST, params={"tag": "no-such-tag"})).json()
    assert missing == {
        "items": [],
        "next_cursor": None,
        "count": {"value": 0, "exact": True},
        "ranking": None,
    }
    assert ticket_queries(seen) == [] and page_loads(seen) == []


async def test_a_tags_list_newest_first_reads_the_tags_rows_in_order(
    world: World, database: Database
) -> None:
    """The tag's rows carry their ticket's creation time: the page is read from their index
    in the list's order, pages by cursor without a gap or a repeat, and a tag set later
    (PATCH) is dated as its ticket, not as the change."""
    numbers = [(await world.create_ticket("alice", tags=["vpn"]))["number"] for _ in range(4)]
    untagged = (await world.create_ticket("alice", subject="no tag"))["number"]
    await world.create_ticket("gus", tags=["vpn"])  # another account: not alice's
    tagged_later = (await change(world, untagged, tags=["vpn", "eu"]))["number"]
    with statements(database) as seen:
        first = (await world.get("agent", LIST, params={"tag": "vpn", "limit": 2})).json()
    (page,) = [s for s in seen if s.startswith("SELECT tickets.id FROM ticket_tags JOIN")]
    assert "ORDER BY ticket_tags.ticket_created_at DESC, ticket_tags.ticket_id DESC" in page
    assert first["count"] == {"value": 6, "exact": True}
    everyone, pages = await all_pages(world, "agent", tag="vpn", limit=2)
    assert pages == 3 and len(everyone) == 6
    # Newest first by the tickets' own creation: the one tagged last sits where it was filed.
    assert everyone[1:] == [tagged_later, *numbers[::-1]]
    mine, _ = await all_pages(world, "alice", tag="vpn", limit=3)
    assert mine == [tagged_later, *numbers[::-1]]
    oldest_first, _ = await all_pages(world, "alice", tag="vpn", limit=2, order="asc")
    assert oldest_first == mine[::-1]
    async with database.reader() as session:
        stale = await session.scalar(
            text(
                "SELECT count(*) FROM ticket_tags g JOIN tickets t ON t.id = g.ticket_id"
                " WHERE g.ticket_created_at <> t.created_at"
            )
        )
    assert stale == 0
