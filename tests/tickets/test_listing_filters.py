"""The list's filters by subtopic, access level, channel, rating and time windows: alone,
combined with the others, and with every sort and a cursor page by page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from helpwire.accounts.actor import load_actor
from helpwire.accounts.models import User
from helpwire.tickets.models import AccessLevel, Priority, Ticket
from helpwire.tickets.schemas import TicketCreate
from helpwire.tickets.service import create_ticket
from helpwire.topics import service as topics
from tests.conftest import World

LIST = "/api/v1/tickets"


def at(day: int, month: int = 1, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


async def file_through(world: World, who: str, via: str, **fields: Any) -> int:
    """A ticket filed by ``who`` through channel ``via`` (as the portal or a face would)."""
    async with world.database.writer() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == who))
        assert user is not None
        actor = await load_actor(session, user=user)
        new = TicketCreate(subject=f"Filed through {via}", body="Help.", **fields)
        ticket = await create_ticket(session, actor=actor, new=new, via=via)
        return ticket.number


async def set_times(world: World, number: int, *, created: datetime, updated: datetime) -> None:
    async with world.database.writer() as session, session.begin():
        await session.execute(
            update(Ticket)
            .where(Ticket.number == number)
            .values(created_at=created, updated_at=updated)
        )


async def close_rated(world: World, who: str, number: int, score: int) -> None:
    response = await world.post(who, f"{LIST}/{number}/close", json={"score": score})
    assert response.status_code == 200, response.text


async def seed(world: World) -> dict[str, int]:
    """Five tickets, named by their requester, that differ in each of the new filters.

    name   topic/subtopic     access         via     rating  created        updated
    alice  billing/invoices   project_users  api     5       Jan 10 09:00   Feb 1 12:00
    bob    billing            all_users      web     2       Jan 20 00:00   Jan 25 08:00
    owner  network            account_users  api     -       Feb 5 00:00    Feb 5 00:00
    gus    -                  account_users  cocalc  -       Mar 1 10:00    Mar 2 10:00
    carol  shop/invoices      account_users  web     5       Jan 31 23:59   Mar 1 00:00
    """
    async with world.database.writer() as session, session.begin():
        await topics.create_topic(
            session,
            key="shop",
            names={"en": "Shop"},
            subtopics=[{"key": "invoices", "names": {"en": "Shop invoices"}}],
        )
    made = {
        "alice": (
            await world.create_ticket(
                "alice",
                priority="high",
                topic="billing",
                subtopic="invoices",
                access_level="project_users",
                projects=["p1"],
            )
        )["number"],
        "bob": await file_through(
            world,
            "bob",
            "web",
            priority=Priority.LOW,
            topic="billing",
            access_level=AccessLevel.ALL_USERS,
        ),
        "owner": (await world.create_ticket("owner", priority="urgent", topic="network"))["number"],
        "gus": await file_through(world, "gus", "cocalc"),
        "carol": await file_through(
            world, "carol", "web", priority=Priority.HIGH, topic="shop", subtopic="invoices"
        ),
    }
    await close_rated(world, "alice", made["alice"], 5)
    await close_rated(world, "bob", made["bob"], 2)
    await close_rated(world, "carol", made["carol"], 5)
    times = {
        "alice": (at(10, hour=9), at(1, 2, hour=12)),
        "bob": (at(20), at(25, hour=8)),
        "owner": (at(5, 2), at(5, 2)),
        "gus": (at(1, 3, hour=10), at(2, 3, hour=10)),
        "carol": (at(31, hour=23, minute=59), at(1, 3)),
    }
    for who, (created, updated) in times.items():
        await set_times(world, made[who], created=created, updated=updated)
    return made


async def listed(world: World, who: str, **params: Any) -> list[int]:
    """Numbers of the tickets listed, newest first, on one page."""
    response = await world.get(who, LIST, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return [t["number"] for t in response.json()["items"]]


async def paged(world: World, **params: Any) -> list[int]:
    """Numbers of the tickets listed, one ticket per page, following the cursor."""
    numbers: list[int] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        response = await world.get("agent", LIST, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        numbers += [t["number"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return numbers
        assert len(numbers) <= 10, "the cursor goes round in circles"


def assert_invalid(response: Any, field: str) -> str:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["type"] == "/problems/validation-error"
    assert field in [e["field"] for e in body["errors"]], body
    detail: str = body["detail"]
    return detail


async def test_subtopic_with_or_without_its_topic(world: World) -> None:
    t = await seed(world)
    assert await listed(world, "agent", subtopic="invoices") == [t["carol"], t["alice"]]
    assert await listed(world, "agent", topic="billing", subtopic="invoices") == [t["alice"]]
    assert await listed(world, "agent", topic="shop", subtopic="invoices") == [t["carol"]]
    assert await listed(world, "agent", topic="network", subtopic="invoices") == []
    assert await listed(world, "agent", subtopic="no-such-subtopic") == []


async def test_access_level_one_or_several(world: World) -> None:
    t = await seed(world)
    assert await listed(world, "agent", access_level="project_users") == [t["alice"]]
    assert await listed(world, "agent", access_level="all_users, project_users") == [
        t["bob"],
        t["alice"],
    ]
    assert await listed(world, "agent", access_level="account_users") == [
        t["gus"],
        t["owner"],
        t["carol"],
    ]
    # A customer's list is still what they may see: alice sees bob's all_users ticket.
    assert await listed(world, "alice", access_level="all_users") == [t["bob"]]
    assert await listed(world, "alice", access_level="account_users") == []


async def test_via_names_the_channel_in_any_case(world: World) -> None:
    t = await seed(world)
    assert await listed(world, "agent", via="api") == [t["owner"], t["alice"]]
    assert await listed(world, "agent", via="web") == [t["carol"], t["bob"]]
    assert await listed(world, "agent", via=" WEB ") == [t["carol"], t["bob"]]
    assert await listed(world, "agent", via="cocalc") == [t["gus"]]
    assert await listed(world, "agent", via="fax") == []


async def test_rated_and_rating(world: World) -> None:
    t = await seed(world)
    assert await listed(world, "agent", rated="true") == [t["carol"], t["bob"], t["alice"]]
    assert await listed(world, "agent", rated="false") == [t["gus"], t["owner"]]
    assert await listed(world, "agent", rating=5) == [t["carol"], t["alice"]]
    assert await listed(world, "agent", rating=2) == [t["bob"]]
    assert await listed(world, "agent", rating=1) == []
    assert await listed(world, "agent", rated="false", rating=5) == []


async def test_time_windows_take_dates_and_date_times(world: World) -> None:
    t = await seed(world)
    # A date is the start of its day in UTC: "after" includes that moment, "before" not.
    assert await listed(world, "agent", created_after="2024-02-05") == [t["gus"], t["owner"]]
    assert await listed(world, "agent", created_before="2024-02-05") == [
        t["carol"],
        t["bob"],
        t["alice"],
    ]
    assert await listed(
        world, "agent", created_after="2024-01-20", created_before="2024-01-31"
    ) == [t["bob"]]
    # Date-times: with Z, with an offset, or without one (UTC).
    assert await listed(world, "agent", created_after="2024-01-31T23:59:00Z") == [
        t["gus"],
        t["owner"],
        t["carol"],
    ]
    assert await listed(world, "agent", created_after="2024-02-01T00:59:00+01:00") == [
        t["gus"],
        t["owner"],
        t["carol"],
    ]
    assert await listed(world, "agent", created_before="2024-01-10T09:00:01") == [t["alice"]]
    assert await listed(world, "agent", updated_after="2024-03-01") == [t["gus"], t["carol"]]
    assert await listed(world, "agent", updated_before="2024-02-01T12:00:00Z") == [t["bob"]]
    assert await listed(
        world, "agent", updated_after="2024-02-01", updated_before="2024-03-01"
    ) == [t["owner"], t["alice"]]


async def test_the_new_filters_combine_with_each_other_and_the_old_ones(world: World) -> None:
    t = await seed(world)
    assert await listed(world, "agent", via="web", rating=5) == [t["carol"]]
    assert await listed(world, "agent", topic="billing", rated="true", via="api") == [t["alice"]]
    assert await listed(
        world, "agent", priority="high", created_before="2024-02-01", updated_after="2024-02-01"
    ) == [t["carol"], t["alice"]]
    assert await listed(world, "agent", access_level="account_users", status="closed") == [
        t["carol"]
    ]


async def test_each_new_filter_pages_by_cursor_under_a_sort(world: World) -> None:
    """Pages of one ticket, cursor after cursor, hold exactly the filtered list: each filter
    under another sort and order, so that every sort's keyset meets some filter."""
    await seed(world)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"subtopic": "invoices"}, "priority", "desc"),
        ({"access_level": "account_users,all_users"}, "updated_at", "asc"),
        ({"via": "web"}, "status", "desc"),
        ({"rated": "true"}, "updated_at", "desc"),
        ({"rating": 5}, "number", "asc"),
        ({"created_after": "2024-01-15", "created_before": "2024-03-01"}, "created_at", "asc"),
        ({"updated_after": "2024-01-31T00:00:00Z"}, "priority", "asc"),
        ({"rated": "false", "updated_before": "2024-03-02T12:00:00+01:00"}, "status", "asc"),
        ({"via": "api", "created_before": "2024-03-01"}, "created_at", "desc"),
    ]
    for filters, sort, order in cases:
        whole = await listed(world, "agent", sort=sort, order=order, **filters)
        assert len(whole) >= 2, filters  # more than one page of one
        assert await paged(world, sort=sort, order=order, **filters) == whole, filters


async def test_bad_values_are_refused_naming_the_field(world: World) -> None:
    await seed(world)
    for field, value in (
        ("created_after", "yesterday"),
        ("created_before", "2024-13-01"),
        ("updated_after", "2024-02-30"),
        ("updated_before", "31.01.2024"),
        ("updated_before", ""),
        # Out of the range of times once the offset is applied, not a 500.
        ("created_after", "0001-01-01T00:00:00+05:00"),
        ("created_before", "9999-12-31T23:59:59-14:00"),
        ("access_level", "secret"),
        ("access_level", "all_users,everyone"),
        ("rated", "maybe"),
        ("rating", 0),
        ("rating", 6),
        ("rating", "five"),
        ("rating", "9" * 30),
    ):
        detail = assert_invalid(await world.get("agent", LIST, params={field: value}), field)
        if field.endswith(("_after", "_before")):
            assert "ISO 8601" in detail
        if field == "access_level":
            assert str(value).split(",")[-1] in detail
            assert "account_users" in detail
