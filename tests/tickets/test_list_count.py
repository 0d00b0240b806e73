"""A list's filters by name (looked up as ids first) and its count, capped for speed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql, sqlite

from helpwire.accounts.actor import Actor, load_actor
from helpwire.accounts.models import Account, Project, User
from helpwire.tickets import listing
from helpwire.tickets.listing import (
    NamedIds,
    SortField,
    SortOrder,
    TicketCount,
    TicketFilters,
    build_query,
    count_tickets,
    resolve_names,
)
from tests.conftest import World
from tests.tickets.test_listing import LIST, listed, seed

NAMED = TicketFilters(
    topic="billing",
    subtopic="invoices",
    assignee="agent",
    requester="alice",
    account="acme",
    project="p1",
)


async def as_actor(world: World, who: str) -> Actor:
    async with world.database.writer() as session:
        user = await session.scalar(select(User).where(User.username == who))
        assert user is not None
        return await load_actor(session, user=user)


async def names_of(world: World, who: str, filters: TicketFilters) -> NamedIds:
    actor = await as_actor(world, who)
    async with world.database.writer() as session:
        return await resolve_names(session, actor, filters)


async def counted(world: World, who: str, **params: Any) -> dict[str, Any]:
    response = await world.get(who, LIST, params={"limit": 1, **params})
    assert response.status_code == 200, response.text
    count: dict[str, Any] = response.json()["count"]
    return count


async def test_names_become_the_ids_they_stand_for_and_an_unknown_name_none(
    world: World,
) -> None:
    await seed(world)
    found = await names_of(world, "agent", NAMED)
    for field in ("topic", "subtopic", "assignee", "requester", "account", "project"):
        ids = getattr(found, field)
        assert ids is not None and len(ids) == 1, field
    unknown = await names_of(
        world,
        "agent",
        TicketFilters(
            topic="no-such",
            subtopic="no-such",
            assignee="no-such",
            requester="no-such",
            account="no-such",
            project="no-such",
        ),
    )
    assert unknown == NamedIds((), (), (), (), (), ())
    # "me" is the asker; "me" and "none" for the assignee need no look-up.
    agent = await as_actor(world, "agent")
    mine = await names_of(world, "agent", TicketFilters(requester="me", assignee="me"))
    assert mine == NamedIds(requester=(agent.user.id,))
    assert await names_of(world, "agent", TicketFilters(assignee="none")) == NamedIds()


async def test_the_query_filters_by_the_ids_not_by_a_subquery_on_the_names(world: World) -> None:
    await seed(world)
    agent = await as_actor(world, "agent")
    names = await names_of(world, "agent", NAMED)
    query = build_query(
        actor=agent,
        filters=NAMED,
        sort=SortField.PRIORITY,
        order=SortOrder.DESC,
        cursor=None,
        dialect="sqlite",
        names=names,
    )
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        sql = str(query.compile(dialect=dialect)).lower()
        for table in ("users", "topics", "subtopics", "accounts", "projects"):
            assert f"from {table}" not in sql, (table, sql)


async def test_an_unknown_name_lists_nothing_and_counts_zero(world: World) -> None:
    await seed(world)
    for field in ("topic", "subtopic", "assignee", "requester", "account", "project"):
        assert await listed(world, "agent", **{field: "no-such-name"}) == [], field
        assert await counted(world, "agent", **{field: "no-such-name"}) == {
            "value": 0,
            "exact": True,
        }


async def test_the_count_is_the_whole_lists_on_every_page(world: World) -> None:
    t = {who: ticket["number"] for who, ticket in (await seed(world)).items()}
    assert await counted(world, "agent") == {"value": 5, "exact": True}
    assert await counted(world, "agent", status="new") == {"value": 2, "exact": True}
    assert await counted(world, "agent", account="acme") == {"value": 4, "exact": True}
    first = (await world.get("agent", LIST, params={"limit": 2})).json()
    second = await world.get("agent", LIST, params={"limit": 2, "cursor": first["next_cursor"]})
    assert second.json()["count"] == first["count"] == {"value": 5, "exact": True}
    assert len(t) == 5


async def test_the_count_never_includes_a_ticket_the_asker_cannot_see(world: World) -> None:
    await seed(world)
    for who in ("alice", "bob", "gus", "owner", "carol", "agent"):
        seen = await listed(world, who)
        assert await counted(world, who) == {"value": len(seen), "exact": True}, who
    # alice sees her own ticket only, though acme has four.
    assert await counted(world, "alice", account="acme") == {"value": 1, "exact": True}
    assert await counted(world, "gus", account="acme") == {"value": 0, "exact": True}


async def test_past_the_cap_the_count_stops_there_and_says_it_is_not_exact(
    world: World,
) -> None:
    await seed(world)
    agent = await as_actor(world, "agent")
    alice = await as_actor(world, "alice")
    async with world.database.writer() as session:
        every = TicketFilters()
        assert await count_tickets(session, actor=agent, filters=every, cap=5) == TicketCount(
            5, True
        )
        assert await count_tickets(session, actor=agent, filters=every, cap=4) == TicketCount(
            4, False
        )
        assert await count_tickets(session, actor=agent, filters=every, cap=2) == TicketCount(
            2, False
        )
        # Under the cap for what the customer may see, however many the agent sees.
        assert await count_tickets(session, actor=alice, filters=every, cap=2) == TicketCount(
            1, True
        )


async def test_a_search_is_counted_to_a_lower_cap_than_a_list(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        await world.create_ticket("alice", subject=f"Toner empty {n}")
    # The caps are a hundred and ten thousand; lowered here so that three tickets pass one.
    monkeypatch.setattr(listing, "SEARCH_COUNT_CAP", 2)
    assert await counted(world, "agent", q="toner") == {"value": 2, "exact": False}
    assert await counted(world, "agent") == {"value": 3, "exact": True}
    monkeypatch.setattr(listing, "SEARCH_COUNT_CAP", 3)
    assert await counted(world, "agent", q="toner") == {"value": 3, "exact": True}


async def test_a_project_key_means_the_projects_of_the_accounts_the_list_can_show(
    world: World,
) -> None:
    """A key names a project in every account that has one; only the accounts whose
    tickets the list can hold count, so a common key is not thousands of ids."""
    async with world.database.writing() as session:
        projects = {
            (account, project_id)
            for account, project_id in (
                await session.execute(
                    select(Account.key, Project.id)
                    .join(Account, Account.id == Project.account_id)
                    .where(Project.key == "p1")
                )
            ).tuples()
        }
        acme = await session.scalar(select(Account.id).where(Account.key == "acme"))
        globex = await session.scalar(select(Account.id).where(Account.key == "globex"))
        assert acme is not None and globex is not None
        session.add(Project(account_id=globex, key="p1", name="Globex p1"))
    ids = dict(projects)
    globex_p1 = (await names_of(world, "agent", TicketFilters(project="p1"))).project
    assert isinstance(globex_p1, tuple) and len(globex_p1) == 2
    assert (await names_of(world, "alice", TicketFilters(project="p1"))).project == (ids["acme"],)
    in_acme = await names_of(world, "agent", TicketFilters(project="p1", account="acme"))
    assert in_acme.project == (ids["acme"],)
    assert (await names_of(world, "gus", TicketFilters(project="p1"))).project == tuple(
        set(globex_p1) - {ids["acme"]}
    )


def recording(world: World) -> tuple[list[str], Any]:
    """The statements sent from now on (stop with the returned function)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = world.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(engine, "before_cursor_execute", record)


async def test_sqlite_counts_a_search_in_the_index_order(world: World, engine_name: str) -> None:
    """Without an order, a condition on the tickets (a customer's account) made SQLite read
    the tickets and run the MATCH once per ticket: seconds at 100,000 tickets."""
    await world.create_ticket("alice", subject="Toner empty")
    alice = await as_actor(world, "alice")
    seen, stop = recording(world)
    try:
        async with world.database.writer() as session:
            found = await count_tickets(session, actor=alice, filters=TicketFilters(q="ton*"))
    finally:
        stop()
    assert found == TicketCount(1, True)
    (count,) = [s for s in seen if s.startswith("SELECT count(*)")]
    assert ("ORDER BY search_fts_tickets.rowid DESC" in count) == (engine_name == "sqlite")


async def test_a_searchs_first_page_is_counted_by_the_query_that_finds_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No count of its own: the page's query reads on to one match past the cap. Later
    pages count apart, and every page tells the same count."""
    for n in range(4):
        await world.create_ticket("alice", subject=f"Toner empty {n}")
    monkeypatch.setattr(listing, "SEARCH_COUNT_CAP", 3)
    seen, stop = recording(world)
    try:
        first = (await world.get("agent", LIST, params={"q": "toner", "limit": 1})).json()
    finally:
        stop()
    assert not [s for s in seen if s.startswith("SELECT count(*)")]
    assert first["count"] == {"value": 3, "exact": False}
    assert len(first["items"]) == 1
    cursor = first["next_cursor"]
    pages = 1
    while cursor is not None:
        params = {"q": "toner", "limit": 1, "cursor": cursor}
        page = (await world.get("agent", LIST, params=params)).json()
        assert page["count"] == first["count"]
        cursor, pages = page["next_cursor"], pages + 1
    assert pages == 4
    monkeypatch.setattr(listing, "SEARCH_COUNT_CAP", 4)
    assert await counted(world, "agent", q="toner") == {"value": 4, "exact": True}
    assert await counted(world, "alice", q="toner empty 2") == {"value": 1, "exact": True}
    assert await counted(world, "gus", q="toner") == {"value": 0, "exact": True}


async def test_staff_search_without_filters_reads_the_search_index_alone(world: World) -> None:
    """Nothing but the words narrows it: each match's ticket is not looked up to join it.
    A filter, or a customer's visibility, joins the tickets."""
    await world.create_ticket("alice", subject="Toner empty")
    for who, params, joined in (
        ("agent", {"q": "toner"}, False),
        ("agent", {"q": "toner", "sort": "relevance"}, False),
        ("agent", {"q": "toner", "status": "new"}, True),
        ("alice", {"q": "toner"}, True),
    ):
        seen, stop = recording(world)
        try:
            response = await world.get(who, LIST, params=params)
        finally:
            stop()
        assert response.json()["count"] == {"value": 1, "exact": True}, (who, params)
        (found,) = [s for s in seen if "@@" in s or "MATCH" in s]
        assert (" JOIN " in found) == joined, (who, params, found)


async def test_a_tags_count_by_staff_reads_the_tags_rows_alone(world: World) -> None:
    await world.create_ticket("alice", subject="One", tags=["vip"])
    await world.create_ticket("alice", subject="Two", tags=["vip", "late"])
    await world.create_ticket("alice", subject="Three", tags=["late"])
    seen, stop = recording(world)
    try:
        assert await counted(world, "agent", tag="vip") == {"value": 2, "exact": True}
    finally:
        stop()
    (count,) = [s for s in seen if s.startswith("SELECT count(*)")]
    assert "FROM ticket_tags" in count and "tickets" not in count.replace("ticket_tags", "")
    # With another filter, or for a customer, the tickets are joined and checked.
    assert await counted(world, "agent", tag="late", status="closed") == {
        "value": 0,
        "exact": True,
    }
    assert await counted(world, "alice", tag="late") == {"value": 2, "exact": True}
    assert await counted(world, "gus", tag="late") == {"value": 0, "exact": True}


async def test_a_key_of_many_projects_stays_a_subquery_with_the_same_answers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_WRITTEN_IDS projects a key's ids are not written into the statements (6,666
    bound parameters twice per list); the subquery finds the same tickets and count."""
    async with world.database.writing() as session:
        globex = await session.scalar(select(Account.id).where(Account.key == "globex"))
        assert globex is not None
        session.add(Project(account_id=globex, key="p1", name="Globex p1"))
    await world.create_ticket("owner", subject="Acme p1", projects=["p1"])
    await world.create_ticket("owner", subject="Acme p2", projects=["p2"])
    await world.create_ticket("gus", subject="Globex p1", projects=["p1"])
    await world.create_ticket("gus", subject="Globex none")
    written = [await listed(world, who, project="p1") for who in ("agent", "owner", "gus")]
    counts = [await counted(world, who, project="p1") for who in ("agent", "owner", "gus")]
    assert [len(numbers) for numbers in written] == [2, 1, 1]

    monkeypatch.setattr(listing, "MAX_WRITTEN_IDS", 1)
    named = await names_of(world, "agent", TicketFilters(project="p1"))
    assert not isinstance(named.project, tuple)  # two projects: the subquery
    assert [await listed(world, who, project="p1") for who in ("agent", "owner", "gus")] == written
    assert [await counted(world, who, project="p1") for who in ("agent", "owner", "gus")] == counts


async def test_a_search_with_a_tag_or_project_is_counted_with_them(world: World) -> None:
    """Staff searching with nothing else would count from the search index alone; a tag or
    a project narrows the count as it narrows the list, on every page."""
    await world.create_ticket("owner", subject="Toner one", tags=["vip"], projects=["p1"])
    await world.create_ticket("owner", subject="Toner two", tags=["vip"])
    await world.create_ticket("owner", subject="Toner three")
    agent = await as_actor(world, "agent")
    async with world.database.writer() as session:
        for filters, expected in (
            (TicketFilters(q="toner"), 3),
            (TicketFilters(q="toner", tag="vip"), 2),
            (TicketFilters(q="toner", project="p1"), 1),
            (TicketFilters(q="toner", tag="vip", project="p1"), 1),
        ):
            counted_ = await count_tickets(session, actor=agent, filters=filters)
            assert counted_ == TicketCount(expected, True), filters
    first = (await world.get("agent", LIST, params={"q": "toner", "tag": "vip", "limit": 1})).json()
    params = {"q": "toner", "tag": "vip", "limit": 1, "cursor": first["next_cursor"]}
    second = (await world.get("agent", LIST, params=params)).json()
    assert first["count"] == second["count"] == {"value": 2, "exact": True}
