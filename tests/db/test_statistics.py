"""SQLite's planner statistics: gathered when missing, refreshed by the hourly job."""

from __future__ import annotations

from sqlalchemy import text

from helpwire.db.session import Database
from helpwire.db.statistics import ANALYSIS_LIMIT, refresh_statistics, statements
from helpwire.housekeeping import job_registry
from helpwire.settings import Settings
from tests.conftest import World


def test_a_database_without_statistics_is_analyzed_and_one_with_them_optimized() -> None:
    limit = f"PRAGMA analysis_limit={ANALYSIS_LIMIT}"
    assert statements(has_statistics=False, version=(3, 46, 0)) == [limit, "ANALYZE"]
    assert statements(has_statistics=True, version=(3, 46, 0)) == [
        limit,
        "PRAGMA optimize=0x10002",
    ]
    # Before 3.46 optimize looks only at tables the connection queried: a bounded ANALYZE.
    assert statements(has_statistics=True, version=(3, 45, 3)) == [limit, "ANALYZE"]


def test_the_refresh_is_an_hourly_housekeeping_job_on_sqlite_only(settings: Settings) -> None:
    # PostgreSQL's autovacuum keeps its statistics: the job is not scheduled there.
    recurring = job_registry(settings).recurring
    assert ("housekeeping.sqlite_statistics" in recurring) == settings.is_sqlite


async def test_the_refresh_leaves_statistics_for_the_tickets_indexes(
    world: World, database: Database
) -> None:
    await world.create_ticket("alice", subject="Printer on fire")
    async with database.writing() as session:
        if session.bind.dialect.name != "sqlite":
            await refresh_statistics(session)  # autovacuum's work there: nothing to do
            return
        await session.execute(text("DELETE FROM sqlite_stat1"))
        await refresh_statistics(session)
        indexed = set(await session.scalars(text("SELECT DISTINCT tbl FROM sqlite_stat1")))
    assert "tickets" in indexed
