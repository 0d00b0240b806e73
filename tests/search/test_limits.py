"""Search has limits that keep one query from occupying the database: a bounded number
of words, prefixes of at least three letters, and on PostgreSQL a time limit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from helpwire.db.session import Database
from helpwire.problems import ValidationProblem
from helpwire.search.service import (
    MAX_QUERY_TERMS,
    MIN_PREFIX_LENGTH,
    SEARCH_RANDOM_PAGE_COST,
    search_time_limit,
)
from tests.conftest import World

LIST = "/api/v1/tickets"


async def search(world: World, q: str) -> tuple[int, dict[str, Any]]:
    response = await world.get("agent", LIST, params={"q": q})
    body: dict[str, Any] = response.json()
    return response.status_code, body


def refused_on_q(status: int, body: dict[str, Any]) -> str:
    assert status == 422, body
    assert body["type"] == "/problems/validation-error"
    assert [e["field"] for e in body["errors"]] == ["q"]
    return str(body["errors"][0]["message"])


async def test_eight_different_words_are_searched_and_a_ninth_is_refused(world: World) -> None:
    subject = "alpha bravo charlie delta: something wrong"  # the body says "Please help."
    number = (await world.create_ticket("alice", subject=subject))["number"]
    words = ["alpha", "bravo", "charlie", "delta", "please", "help", "something", "wrong"]
    assert len(words) == MAX_QUERY_TERMS
    status, body = await search(world, " ".join(words))
    assert status == 200, body
    assert [t["number"] for t in body["items"]] == [number]
    status, body = await search(world, " ".join([*words, "echo"]))
    assert "at most 8" in refused_on_q(status, body)
    # The same word twice counts once.
    status, body = await search(world, " ".join([*words, "alpha", "ALPHA"]))
    assert status == 200, body


async def test_a_prefix_needs_at_least_three_letters(world: World) -> None:
    number = (await world.create_ticket("alice", subject="Printer jammed"))["number"]
    assert MIN_PREFIX_LENGTH == 3
    status, body = await search(world, "pri*")
    assert status == 200, body
    assert [t["number"] for t in body["items"]] == [number]
    for q in ("pr*", "printer j*", "w* c* h*"):
        status, body = await search(world, q)
        assert "at least 3 characters" in refused_on_q(status, body), q
    # Short words are fine when they are whole words.
    status, body = await search(world, "pr")
    assert status == 200, body


async def test_sixteen_one_letter_prefixes_are_refused_before_reaching_the_database(
    world: World,
) -> None:
    status, body = await search(world, " ".join(f"{c}*" for c in "wchabdefgiklmnop"))
    refused_on_q(status, body)


# Statements that run for seconds on each engine, whatever the data.
SLOW = {
    "postgres": "SELECT pg_sleep(3)",
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000000) "
    "SELECT count(*) FROM n",
}


async def test_a_search_out_of_time_is_a_422_on_q(database: Database, engine_name: str) -> None:
    async with database.reader() as session:
        with pytest.raises(ValidationProblem) as refused:
            async with search_time_limit(session, active=True, timeout_ms=50):
                await session.execute(text(SLOW[engine_name]))
    assert refused.value.status == 422
    assert [e["field"] for e in refused.value.errors] == ["q"]
    assert "took longer than 0.05 s" in refused.value.detail
    # The limit ended with the search: the connection goes on to serve others normally.
    # Both engines use a QueuePool here; the base Pool type does not declare size().
    for _ in range(database.engine.pool.size()):  # type: ignore[attr-defined]
        async with database.reader() as session:
            assert await session.scalar(text("SELECT 1")) == 1


async def test_the_time_limit_and_page_cost_last_as_long_as_the_search(
    database: Database, engine_name: str
) -> None:
    if engine_name != "postgres":
        pytest.skip("on SQLite the limit is a timer on the connection, not a setting")
    settings = text(
        "SELECT current_setting('statement_timeout'), current_setting('random_page_cost')"
    )
    async with database.reader() as session:
        before = tuple((await session.execute(settings)).one())
        async with search_time_limit(session, active=True, timeout_ms=5_000):
            inside = tuple((await session.execute(settings)).one())
        after = tuple((await session.execute(settings)).one())
    assert inside == ("5s", SEARCH_RANDOM_PAGE_COST) != before
    assert after == before
