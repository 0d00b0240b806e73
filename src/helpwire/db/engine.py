"""Engine and session factories, with the per-dialect set-up each engine needs."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from helpwire.db.secrets import SecretBox, attach
from helpwire.db.statistics import StatisticsOnOpen
from helpwire.settings import Settings

# A session asks for this execution option when it is going to write. On SQLite the
# transaction then starts with BEGIN IMMEDIATE, taking the write lock up front: a deferred
# transaction that upgrades to a writer later fails at once with "database is locked"
# instead of waiting its turn.
WRITE_INTENT = "helpwire_write_intent"

# A pooled PostgreSQL connection idle for longer than this is checked (a ping) before use.
# Pinging every checkout cost three round trips per request; a connection in steady use
# is not pinged, and one that breaks in use is handled by the pool instead (below).
IDLE_PING_SECONDS = 10.0


# PostgreSQL's default cost of a random page read (4) models a spinning disk; the tickets
# and the search index of a helpdesk that answers fast are in memory or on SSD. With the
# default, a tag's open tickets were found by hashing all 62,000 open tickets of a million
# (10 ms) rather than by walking the tag's 3,582 rows newest first (1 ms), and a customer's
# search joined the account's tickets by hash (search.service). Measured at a million
# tickets, no list or search got slower with 1.1.
RANDOM_PAGE_COST = "1.1"


def create_engine(settings: Settings, *, bounded: bool = True) -> AsyncEngine:
    """The engine. Waits are bounded, so that a database that is down or unreachable is
    answered within seconds (503) rather than holding requests: connecting
    (HELPWIRE_DATABASE_CONNECT_TIMEOUT_SECONDS), waiting for a pooled connection
    (HELPWIRE_DATABASE_POOL_TIMEOUT_SECONDS) and, when ``bounded``, each statement on
    PostgreSQL (HELPWIRE_DATABASE_COMMAND_TIMEOUT_SECONDS). Commands run by an operator
    (migrations) pass ``bounded=False``: a long index build must not be cut short."""
    engine = _create_engine(settings, bounded=bounded)
    # The keys for the encrypted columns travel with the engine (see db/secrets.py).
    attach(engine, SecretBox.from_settings(settings))
    return engine


def _create_engine(settings: Settings, *, bounded: bool) -> AsyncEngine:
    url = settings.async_database_url
    if url.startswith("sqlite"):
        return _create_sqlite_engine(url, settings)
    connect_args: dict[str, Any] = {
        "timeout": settings.database_connect_timeout_seconds,
        # asyncpg prepares statements and reuses them per connection; from the sixth run
        # on, PostgreSQL may switch to one generic plan for all values, chosen for an
        # average that fits no real one: a customer's search went from 15 ms to 1.4 s that
        # way (bigger accounts, rarer words). So every statement is planned for its actual
        # values: a list query's plan costs a millisecond or two, a write's a few
        # microseconds, and setting it here spares each list a round trip to set it.
        # No parallel workers: every statement the service sends reads a bounded number of
        # rows (pages, capped counts), and starting workers took longer than the statement
        # (a tag's page at a million tickets: 12 ms with two workers, 7 ms without).
        # Reads planned at the cost of reads from memory or SSD (RANDOM_PAGE_COST).
        "server_settings": {
            "plan_cache_mode": "force_custom_plan",
            "max_parallel_workers_per_gather": "0",
            "random_page_cost": RANDOM_PAGE_COST,
        },
    }
    if bounded:
        connect_args["command_timeout"] = settings.database_command_timeout_seconds
    engine = create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout_seconds,
        connect_args=connect_args,
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Service resumes by itself after the server dropped connections (restart, failover,
    an idle timeout): a connection that fails with a disconnect error is invalidated by
    SQLAlchemy, and with it every connection the pool made before (they went down with
    the server), so only requests already under way see the outage (503). Connections that
    sat idle are pinged before use, so that one dropped overnight is replaced silently
    rather than failing the first request of the morning."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["helpwire_idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("helpwire_idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and checks out (or opens) another.
            raise sa_exc.DisconnectionError(str(exc)) from exc


SQLITE_CACHE_KIB = 512


def _create_sqlite_engine(url: str, settings: Settings) -> AsyncEngine:
    busy_timeout_s = settings.sqlite_busy_timeout_ms / 1000
    engine = create_async_engine(
        url,
        connect_args={"timeout": busy_timeout_s},
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        # SQLite has one writer at a time: under a burst of writes, a request waiting for a
        # pooled connection is waiting its turn to write, as one waiting on the file lock is.
        # Both waits get the busy timeout, so a burst queues rather than being refused (503);
        # a file that cannot be opened still fails at once.
        pool_timeout=max(settings.database_pool_timeout_seconds, busy_timeout_s),
    )
    busy_timeout = settings.sqlite_busy_timeout_ms
    statistics_on_open = StatisticsOnOpen()

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: in WAL mode, NORMAL may lose the last commits on power loss, and a 2xx
        # promises the ticket is kept.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")
        # Each connection keeps a page cache of its own (2 MB by default), and a worker pools
        # up to twice HELPWIRE_DATABASE_POOL_SIZE connections: 40 MB of a worker's memory
        # held twice over what the operating system caches for the file anyway. 512 KB each
        # keeps the pages a statement reuses; the rest comes from the system's cache.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()
        statistics_on_open(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_INTENT, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
