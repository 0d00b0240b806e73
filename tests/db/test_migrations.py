"""One migration history for both engines, in step with the models."""

from __future__ import annotations

import importlib.util
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import JSON, DateTime, column, inspect, select, table, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql.expression import ColumnClause

from helpwire.db.engine import create_engine
from helpwire.db.migrate import MIGRATIONS_DIR, revision_status, schema_differences, upgrade
from helpwire.settings import Settings
from helpwire.tickets.models import PRIORITY_RANK_SQL, STATUS_RANK_SQL


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_from_empty_reaches_the_newest_revision(empty_engine: AsyncEngine) -> None:
    assert await revision_status(empty_engine) == (None, (await revision_status(empty_engine))[1])
    await upgrade(empty_engine)
    current, newest = await revision_status(empty_engine)
    assert current == newest is not None
    assert {"tickets", "comments", "events", "files", "users", "search_documents"} <= await _tables(
        empty_engine
    )


async def test_models_and_migrations_agree(empty_engine: AsyncEngine) -> None:
    await upgrade(empty_engine)
    assert await schema_differences(empty_engine) == []


async def test_upgrade_twice_is_harmless(empty_engine: AsyncEngine) -> None:
    await upgrade(empty_engine)
    await upgrade(empty_engine)
    assert (await revision_status(empty_engine))[0] is not None


async def test_downgrade_to_empty_and_back(empty_engine: AsyncEngine) -> None:
    from helpwire.db.migrate import downgrade

    await upgrade(empty_engine)
    await downgrade(empty_engine, "base")
    assert await _tables(empty_engine) <= {"alembic_version"}
    await upgrade(empty_engine)
    assert await schema_differences(empty_engine) == []


def test_the_rank_columns_of_the_migration_compute_what_the_models_say() -> None:
    # Alembic cannot compare generated-column expressions reliably (PostgreSQL rewrites
    # them), so the initial migration's copy of the SQL is held to the models' here.
    path = MIGRATIONS_DIR / "versions" / "0001_initial_schema.py"
    spec = importlib.util.spec_from_file_location("initial_schema", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.PRIORITY_RANK_SQL == PRIORITY_RANK_SQL
    assert migration.STATUS_RANK_SQL == STATUS_RANK_SQL


# Tables as they are at revision 0005, written without the models (which are at the head).
_JSON = JSON().with_variant(JSONB(), "postgresql")
_USERS = table(
    "users",
    *map(column, ("id", "username", "real_name", "role", "account_wide", "is_active")),
    column("created_at", DateTime(timezone=True)),
)
_TICKETS = table(
    "tickets",
    *map(column, ("id", "number", "uid", "subject", "type", "priority", "status")),
    *map(column, ("requester_id", "access_level", "escalated", "version", "comment_count")),
    column("internal_note_count"),
    column("attributes", _JSON),
    column("context", _JSON),
    column("created_at", DateTime(timezone=True)),
    column("updated_at", DateTime(timezone=True)),
)
_VIA: ColumnClause[str] = column("via")

# context at 0005 -> the channel the upgrade reads from it
_CONTEXTS: list[tuple[dict[str, Any], str]] = [
    ({"request_id": "r-1", "via": "web", "service": None}, "web"),
    ({"request_id": "r-2", "via": "Selectel"}, "selectel"),  # lower case, as it is compared
    ({"request_id": "r-3", "via": ""}, "api"),
    ({"request_id": "r-4", "via": None}, "api"),
    ({"request_id": "r-5"}, "api"),  # never set: the answers showed "api"
]


async def _seed_at_0005(engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            _USERS.insert().values(
                id=1, username="alice", real_name="Alice", role="customer",
                account_wide=False, is_active=True, created_at=now,
            )
        )  # fmt: skip
        for n, (context, _via) in enumerate(_CONTEXTS, start=1):
            await conn.execute(
                _TICKETS.insert().values(
                    id=n, number=n, uid=str(uuid.uuid4()), subject=f"Ticket {n}",
                    type="question", priority="normal", status="new", requester_id=1,
                    access_level="account_users", escalated=False, version=1,
                    comment_count=0, internal_note_count=0, attributes={}, context=context,
                    created_at=now, updated_at=now,
                )
            )  # fmt: skip


async def _tickets(engine: AsyncEngine, *columns: Any) -> list[Any]:
    async with engine.connect() as conn:
        query = select(_TICKETS.c.id, _TICKETS.c.context, *columns).order_by(_TICKETS.c.id)
        return list((await conn.execute(query)).all())


async def test_the_channel_moves_from_context_to_its_column_and_back(
    empty_engine: AsyncEngine,
) -> None:
    await upgrade(empty_engine, "0005")
    await _seed_at_0005(empty_engine)

    await upgrade(empty_engine, "0006")

    rows = await _tickets(empty_engine, _VIA)
    assert [row.via for row in rows] == [via for _context, via in _CONTEXTS]
    # The key leaves context; the rest of it stays as it was.
    assert [row.context for row in rows] == [
        {key: value for key, value in context.items() if key != "via"}
        for context, _via in _CONTEXTS
    ]

    from helpwire.db.migrate import downgrade

    await downgrade(empty_engine, "0005")

    async with empty_engine.connect() as conn:
        columns = await conn.run_sync(lambda c: inspect(c).get_columns("tickets"))
    assert "via" not in {c["name"] for c in columns}
    rows = await _tickets(empty_engine)
    assert [row.context for row in rows] == [{**context, "via": via} for context, via in _CONTEXTS]


async def test_postgresql_keeps_statistics_on_many_words_of_the_search_index(
    empty_engine: AsyncEngine, engine_name: str
) -> None:
    """The planner's estimate for a rare word comes from how many words ANALYZE keeps; with
    the default target it took a word in 200 of a million tickets for one in 2,400."""
    if engine_name != "postgres":
        pytest.skip("a PostgreSQL planner setting; SQLite's FTS5 has no such estimate")
    from helpwire.db.migrate import downgrade

    targets = text(
        "SELECT attname, attstattarget FROM pg_attribute "
        "WHERE attrelid = 'search_tickets'::regclass AND attname IN ('public_tsv', 'all_tsv')"
    )
    await upgrade(empty_engine)
    async with empty_engine.connect() as conn:
        assert dict((await conn.execute(targets)).tuples().all()) == {
            "public_tsv": 2000,
            "all_tsv": 2000,
        }
    await downgrade(empty_engine, "0008")
    async with empty_engine.connect() as conn:
        assert set(dict((await conn.execute(targets)).tuples().all()).values()) == {-1}


_CUSTOMER_SEARCH_INDEX = text(
    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_search_tickets_account_public_tsv'"
)


async def test_postgresql_finds_a_customers_matches_in_one_index(
    empty_engine: AsyncEngine, engine_name: str
) -> None:
    """A GIN index over the account and the public words (btree_gin), and a downgrade that
    drops it."""
    if engine_name != "postgres":
        pytest.skip("a PostgreSQL index; SQLite's FTS5 index holds the account already")
    from helpwire.db.migrate import downgrade

    await upgrade(empty_engine)
    async with empty_engine.connect() as conn:
        definition = await conn.scalar(_CUSTOMER_SEARCH_INDEX)
    assert definition is not None and "gin (account_id, public_tsv)" in definition
    await downgrade(empty_engine, "0010")
    async with empty_engine.connect() as conn:
        assert await conn.scalar(_CUSTOMER_SEARCH_INDEX) is None


async def test_a_role_that_may_not_create_btree_gin_upgrades_without_that_index(
    empty_database_url: str, engine_name: str
) -> None:
    """Creating the extension needs the CREATE privilege on the database (or contrib
    installed at all): without it the upgrade goes on, and searches use the indexes they
    had before."""
    if engine_name != "postgres":
        pytest.skip("a PostgreSQL extension")
    role = f"helpwire_noext_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(
        Settings(database_url=empty_database_url).async_database_url, isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as conn:
        await conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        await conn.execute(text(f"GRANT CREATE ON SCHEMA public TO {role}"))
    engine = create_engine(
        Settings(database_url=make_url(empty_database_url).set(username=role).render_as_string())
    )
    try:
        await upgrade(engine)
        current, newest = await revision_status(engine)
        assert current == newest
        async with engine.connect() as conn:
            assert await conn.scalar(_CUSTOMER_SEARCH_INDEX) is None
            assert await conn.scalar(text("SELECT to_regclass('search_tickets')")) is not None
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP OWNED BY {role}"))
            await conn.execute(text(f"DROP ROLE {role}"))
        await admin.dispose()
