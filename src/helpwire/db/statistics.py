"""Keeping SQLite's planner statistics current (PostgreSQL's autovacuum does it there).

Without statistics SQLite guesses how selective each index is, and on skewed data guesses
wrong: a customer of a 100,000-ticket account sorting by priority took 149 ms through the
account's index where walking the (priority_rank, id) one takes 0.15 ms. So, as SQLite's
documentation advises for long-lived connections: ``PRAGMA optimize=0x10002`` when a
connection opens and again periodically (an hourly housekeeping job), and a full
``ANALYZE`` when the database has no statistics at all (a new or just-migrated database).
``analysis_limit`` bounds each index's sampling, so that this stays quick on a large file.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

# Rows sampled per index: enough to tell a selective index from a skewed one.
ANALYSIS_LIMIT = 1000
# Before 3.46, ``optimize`` considers only the tables this connection has queried, so a
# fresh connection would never refresh anything: such versions run a bounded ANALYZE.
_OPTIMIZE_ALL_TABLES = (3, 46, 0)


def statements(*, has_statistics: bool, version: tuple[int, ...]) -> list[str]:
    """What to run: a first ANALYZE, or the optimize that refreshes stale statistics."""
    refresh = (
        "PRAGMA optimize=0x10002"
        if has_statistics and version >= _OPTIMIZE_ALL_TABLES
        else "ANALYZE"
    )
    return [f"PRAGMA analysis_limit={ANALYSIS_LIMIT}", refresh]


def optimize_on_open(dbapi_connection: Any) -> None:
    """Refresh statistics as a connection opens. A file that cannot be written just now
    (locked past the busy timeout, read-only) keeps its statistics: a later connection or
    the hourly job refreshes them, and the connection is not refused for it."""
    cursor = dbapi_connection.cursor()
    try:
        # The driver's adapter cursor: execute returns nothing, rows come from fetchone.
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        has_statistics = cursor.fetchone() is not None
        if has_statistics:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM sqlite_stat1)")
            has_statistics = bool(cursor.fetchone()[0])
        version = sqlite3.sqlite_version_info
        if has_statistics and version < _OPTIMIZE_ALL_TABLES:
            return  # a bounded ANALYZE at every open is more than needed: the job does it
        for statement in statements(has_statistics=has_statistics, version=version):
            cursor.execute(statement)
    except sqlite3.OperationalError:
        pass
    finally:
        cursor.close()


async def refresh_statistics(session: AsyncSession) -> None:
    """The periodic refresh (the housekeeping job); a no-op on PostgreSQL."""
    if session.bind.dialect.name != "sqlite":
        return
    connection = await session.connection()
    has_table = await connection.exec_driver_sql(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1')"
    )
    has_statistics = bool(has_table.scalar())
    if has_statistics:
        rows = await connection.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM sqlite_stat1)")
        has_statistics = bool(rows.scalar())
    for statement in statements(has_statistics=has_statistics, version=sqlite3.sqlite_version_info):
        await connection.exec_driver_sql(statement)
