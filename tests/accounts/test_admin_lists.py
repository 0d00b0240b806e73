"""Admin lists load what they show in a fixed number of queries, however long they get."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from helpwire.db.session import Database
from tests.conftest import World


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements run while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


async def test_listing_users_and_accounts_costs_the_same_for_ten_more_of_each(
    world: World, database: Database
) -> None:
    with statements(database) as before_users:
        users = await world.get("admin", "/api/v1/users")
    with statements(database) as before_accounts:
        accounts = await world.get("admin", "/api/v1/accounts")
    assert users.status_code == accounts.status_code == 200
    for i in range(10):
        created = await world.post(
            "admin", "/api/v1/accounts", json={"key": f"extra{i}", "projects": ["a", "b"]}
        )
        assert created.status_code == 201, created.text
        created = await world.post(
            "admin",
            "/api/v1/users",
            json={
                "username": f"extra-user{i}",
                "role": "customer",
                "account": f"extra{i}",
                "account_wide": False,
                "projects": ["b"],
            },
        )
        assert created.status_code == 201, created.text

    with statements(database) as after_users:
        users = await world.get("admin", "/api/v1/users")
    with statements(database) as after_accounts:
        accounts = await world.get("admin", "/api/v1/accounts")
    assert len(after_users) == len(before_users)
    assert len(after_accounts) == len(before_accounts)

    by_name = {u["username"]: u for u in users.json()}
    assert by_name["extra-user3"]["projects"] == ["b"]
    assert by_name["alice"]["projects"] == ["p1"]
    assert by_name["admin"]["projects"] == []  # the asking admin too, already in the session
    by_key = {a["key"]: a for a in accounts.json()}
    assert [p["key"] for p in by_key["extra7"]["projects"]] == ["a", "b"]
    assert [p["key"] for p in by_key["acme"]["projects"]] == ["p1", "p2"]
