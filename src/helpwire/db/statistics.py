"""Keeping SQLite's planner statistics current (PostgreSQL's autovacuum does it there).

Without statistics SQLite guesses how selective each index is, and on skewed data guesses
wrong: a customer of a 100,000-ticket account sorting by priority took 149 ms through the
account's index where walking the (priority_rank, id) one takes 0.15 ms. So, as SQLite's
documentation advises for long-lived connections: ``PRAGMA optimize=0x10002`` when a
process's first connection opens and again periodically (an hourly housekeeping job), and a
full ``ANALYZE`` when the database has no statistics at all (a new or just-migrated
database).
``analysis_limit`` bounds each index's sampling, so that this stays quick on a large file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection
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


class StatisticsOnOpen:
    """Looks at the statistics when the first of an engine's connections opens, not at
    every one: the pool opens connections as load rises and overflow connections under
    every burst, and each look is two queries, and a write (the ANALYZE) while a database
    is still empty, which gathers no rows and so would be repeated at every open. Later
    changes are the hourly job's. A look the file refused (locked past the busy timeout,
    read-only) is tried again at the next open."""

    def __init__(self) -> None:
        self.done = False

    def __call__(self, dbapi_connection: Any) -> None:
        if not self.done:
            self.done = optimize_on_open(dbapi_connection)


def optimize_on_open(dbapi_connection: Any) -> bool:
    """Refresh statistics as a connection opens; False when the file refused it just now.
    It keeps its statistics then, and the connection is not refused for it."""
    cursor = dbapi_connection.cursor()

    def scalar(sql: str) -> Any:
        # The driver's adapter cursor: execute returns nothing, rows come from fetchone.
        cursor.execute(sql)
        return cursor.fetchone()[0]

    try:
        has_statistics = _has_statistics(scalar)
        version = sqlite3.sqlite_version_info
        if has_statistics and version < _OPTIMIZE_ALL_TABLES:
            return True  # a bounded ANALYZE at open is more than needed: the job does it
        for statement in statements(has_statistics=has_statistics, version=version):
            cursor.execute(statement)
    except sqlite3.OperationalError:
        return False
    finally:
        cursor.close()
    return True


async def refresh_statistics(session: AsyncSession) -> None:
    """The periodic refresh (the housekeeping job); a no-op on PostgreSQL."""
    if session.bind.dialect.name != "sqlite":
        return
    connection = await session.connection()
    await connection.run_sync(_refresh)


def _refresh(connection: Connection) -> None:
    def scalar(sql: str) -> Any:
        return connection.exec_driver_sql(sql).scalar()

    version = sqlite3.sqlite_version_info
    for statement in statements(has_statistics=_has_statistics(scalar), version=version):
        connection.exec_driver_sql(statement)


def _has_statistics(scalar: Callable[[str], Any]) -> bool:
    """Whether ``sqlite_stat1`` exists and holds rows (ANALYZE of empty tables adds none)."""
    if not scalar("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1')"):
        return False
    return bool(scalar("SELECT EXISTS (SELECT 1 FROM sqlite_stat1)"))
