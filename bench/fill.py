"""Fill a database with a realistic support history, fast, for benchmarks.

    .venv/bin/python bench/fill.py --tickets 1000000 --database-url URL [--seed S]
        [--credentials PATH] [--batch N]

The database is migrated with helpwire's own migrations first (as ``helpwire serve``
would), and must hold no accounts, users or tickets yet. The rows come from
bench/generator.py in batches (constant memory), generated in a second process while this
one writes: ``COPY`` on PostgreSQL, ``executemany`` in large transactions on SQLite.
Secondary indexes and the search index are built once at the end rather than row by row;
then the ticket-number counter and the id sequences continue after the filled rows, so
the application works on the result as on a database it filled itself. Then API tokens
are made for an agent, an admin and two customers (through helpwire's own token service),
and the reports' daily counts are made from the ticket facts (reports.aggregates), as
migration 0018's job does; last, the tokens are printed as JSON, or written to
``--credentials``, with the search words the HTTP benchmark asks for.

See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import queue
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from generator import (
    BIGCORP,
    COLUMNS,
    DATETIME_COLUMNS,
    LEFT_EMPTY,
    OPTIONAL_TABLES,
    SEED,
    TABLE_ORDER,
    Generator,
    Rows,
    Shape,
)
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from helpwire.accounts import service as accounts
from helpwire.assembly import database_for
from helpwire.db.counters import TICKET_NUMBER, TICKET_NUMBER_SEQUENCE
from helpwire.db.engine import create_engine
from helpwire.db.migrate import upgrade
from helpwire.reports.aggregates import rebuild
from helpwire.settings import Settings

BATCH = 5_000  # tickets per batch
SQLITE_COMMIT_EVERY = 10  # batches per SQLite transaction
COPY_CHUNK = 50_000  # rows per COPY call
AGENT = "agent1"
INLINE_TICKETS = 10_000  # up to this many, no second process


class FillError(Exception):
    """Why the database cannot be filled; printed as one line."""


# --- the generator, in a process of its own --------------------------------------------


Convert = Callable[[Rows], Rows]


def _produce(
    shape: Shape,
    seed: int,
    optional: frozenset[str],
    batch: int,
    convert: Convert | None,
    out: Any,
) -> None:
    try:
        generator = Generator(shape, seed, optional)
        for rows in generator.tickets(batch):
            out.put(convert(rows) if convert else rows)
        out.put(None)
    except BaseException as exc:  # reported by the reader, which then stops
        out.put(exc)
        raise


@contextmanager
def ticket_batches(
    generator: Generator, batch: int, convert: Convert | None = None
) -> Iterator[Iterator[Rows]]:
    """The ticket batches of ``generator``, made by a second process (a Generator of the
    same shape and seed) so that generating (pure Python) and writing overlap on two
    cores. A few batches are buffered at most: memory stays constant. A small data set is
    made here: starting a process would take longer. ``convert`` turns the rows into
    what the writer takes, in the generating process (it has CPU to spare)."""
    shape = generator.shape
    if shape.tickets <= INLINE_TICKETS:
        yield (convert(rows) if convert else rows for rows in generator.tickets(batch))
        return
    context = multiprocessing.get_context("spawn")
    channel = context.Queue(maxsize=3)
    process = context.Process(
        target=_produce,
        args=(shape, generator.seed, generator.optional, batch, convert, channel),
        daemon=True,
    )
    process.start()

    def read() -> Iterator[Rows]:
        waited = 0.0
        while True:
            started = time.perf_counter()
            try:
                item = channel.get(timeout=5)
            except queue.Empty:
                item = queue.Empty
            waited += time.perf_counter() - started
            if item is queue.Empty:
                if not process.is_alive():
                    raise FillError("the generator process died")
                continue
            if item is None:
                # Much waiting means generating is the slower half; little, writing.
                _stage(f"waited {waited:.1f} s in all for the generator process")
                return
            if isinstance(item, BaseException):
                raise FillError(f"the generator failed: {item!r}") from item
            yield item

    try:
        yield read()
    finally:
        if process.is_alive():
            process.terminate()
        process.join()


# --- checks before writing ---------------------------------------------------------------


@dataclass(frozen=True)
class DbColumn:
    name: str
    required: bool  # NOT NULL without a default, not generated
    generated: bool  # computed by the database (GENERATED ALWAYS AS)


def _reflect(connection: Any) -> dict[str, list[DbColumn]]:
    inspector = inspect(connection)
    present = set(inspector.get_table_names())
    out: dict[str, list[DbColumn]] = {}
    for table in TABLE_ORDER:
        if table not in present:
            continue
        out[table] = [
            DbColumn(
                column["name"],
                required=not column["nullable"]
                and column.get("default") is None
                and column.get("computed") is None,
                generated=column.get("computed") is not None,
            )
            for column in inspector.get_columns(table)
        ]
    return out


def schema_problems(schema: dict[str, list[DbColumn]]) -> list[str]:
    """How the migrated schema and what the generator writes disagree: a table or column
    the generator writes that is not there, or a column of a filled table the generator
    neither writes nor leaves empty on purpose (generator.LEFT_EMPTY). Columns the
    database generates are its own."""
    problems = []
    for table in TABLE_ORDER:
        if table not in schema:
            if table not in OPTIONAL_TABLES:
                problems.append(f"table {table} is not in the schema")
            continue
        names = {column.name for column in schema[table]}
        written = set(COLUMNS[table])
        problems += [f"{table}.{name} is not in the schema" for name in sorted(written - names)]
        left = LEFT_EMPTY.get(table, frozenset())
        for column in schema[table]:
            if column.name in written or column.generated:
                continue
            if column.required:
                problems.append(f"{table}.{column.name} is required and not written")
            elif column.name not in left:
                problems.append(f"{table}.{column.name} is neither written nor left empty")
    return problems


async def prepare(engine: AsyncEngine) -> frozenset[str]:
    """Migrate to the newest revision, then make sure there is nothing to collide with
    and that the generator writes the schema as it is. Which of the optional tables the
    schema has."""
    await upgrade(engine)
    async with engine.connect() as connection:
        for table in ("accounts", "users", "tickets"):
            count = await connection.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
            if count:
                raise FillError(
                    f"the database is not empty: it holds {count} {table} rows; "
                    "fill a new database (a new SQLite file, or CREATE DATABASE)"
                )
        schema = await connection.run_sync(_reflect)
    problems = schema_problems(schema)
    if problems:
        raise FillError(
            "bench/generator.py does not match the migrations: "
            + "; ".join(problems)
            + " (update COLUMNS or LEFT_EMPTY and the rows in bench/generator.py)"
        )
    return OPTIONAL_TABLES & set(schema)


# --- SQLite ------------------------------------------------------------------------------


def _sqlite_time(value: datetime) -> str:
    """As SQLAlchemy's UTCDateTime stores a moment on SQLite: naive UTC text with
    microseconds ("2024-01-31 09:30:00.000000"). isoformat is many times faster than
    strftime, which counts at millions of rows."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def sqlite_rows(rows: Rows) -> Rows:
    """The rows with their moments as SQLite keeps them (text)."""
    for table, columns, values in rows.in_order():
        dated = [i for i, name in enumerate(columns) if name in DATETIME_COLUMNS]
        if not dated:
            continue
        converted = []
        for row in values:
            out = list(row)
            for i in dated:
                if out[i] is not None:
                    out[i] = _sqlite_time(out[i])
            converted.append(tuple(out))
        rows.tables[table] = converted
    return rows


def _sqlite_insert(connection: sqlite3.Connection, rows: Rows) -> None:
    for table, columns, values in rows.in_order():
        marks = ", ".join("?" for _ in columns)
        connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
            values,
        )


def _sqlite_deferred(connection: sqlite3.Connection) -> list[str]:
    """Drop the secondary indexes of the filled tables and the search triggers, returning
    the statements that make them again: one sorted build at the end is many times faster
    than keeping them up to date row by row. (Unique constraints' own indexes stay.)"""
    names = ", ".join(f"'{t}'" for t in TABLE_ORDER)
    found = connection.execute(
        "SELECT type, name, sql FROM sqlite_master "  # noqa: S608
        f"WHERE type IN ('index', 'trigger') AND tbl_name IN ({names}) AND sql IS NOT NULL"
    ).fetchall()
    for kind, name, _sql in found:
        connection.execute(f'DROP {kind.upper()} "{name}"')
    return [sql for _kind, _name, sql in found]


def fill_sqlite(path: Path, generator: Generator, batch: int) -> None:
    shape = generator.shape
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        # A fill is all or nothing for the caller: no journal, no syncing, a large cache.
        # WAL is put back at the end, as helpwire runs it.
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-1000000")  # 1 GB
        connection.execute("PRAGMA temp_store=MEMORY")
        connection.execute("PRAGMA foreign_keys=OFF")  # consistent by construction
        connection.execute("BEGIN")
        remake = _sqlite_deferred(connection)
        _sqlite_insert(connection, sqlite_rows(generator.people))
        connection.execute("COMMIT")
        with ticket_batches(generator, batch, sqlite_rows) as batches:
            for number, rows in enumerate(batches, start=1):
                if number % SQLITE_COMMIT_EVERY == 1:
                    connection.execute("BEGIN")
                _sqlite_insert(connection, rows)
                if number % SQLITE_COMMIT_EVERY == 0:
                    connection.execute("COMMIT")
                _progress(number * batch, shape.tickets)
        if connection.in_transaction:
            connection.execute("COMMIT")
        _stage("indexes")
        connection.execute("BEGIN")
        for statement in remake:
            connection.execute(statement)
        _sqlite_rebuild_fts(connection)
        _sqlite_counters(connection)
        connection.execute("COMMIT")
        _stage("analyze")
        connection.execute("ANALYZE")
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def _sqlite_rebuild_fts(connection: sqlite3.Connection) -> None:
    """Fill the search index's FTS5 tables (external content over the filled tables) in
    one pass each, their triggers having been dropped while filling."""
    found = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND sql LIKE 'CREATE VIRTUAL TABLE%' AND sql LIKE '%fts5%'"
    ).fetchall()
    for (name,) in found:
        connection.execute(f'INSERT INTO "{name}"("{name}") VALUES (\'rebuild\')')  # noqa: S608


def _sqlite_counters(connection: sqlite3.Connection) -> None:
    # SQLite's integer primary keys continue after the largest id by themselves.
    connection.execute(
        "UPDATE counters SET value = (SELECT coalesce(max(number), 0) FROM tickets) WHERE name = ?",
        (TICKET_NUMBER,),
    )


# --- PostgreSQL --------------------------------------------------------------------------


async def _pg_deferred(connection: Any) -> list[str]:
    """Drop the secondary indexes of the filled tables (not those behind a primary key or
    unique constraint), returning their definitions to make them again at the end."""
    found = await connection.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[]) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        list(TABLE_ORDER),
    )
    for row in found:
        await connection.execute(f'DROP INDEX "{row["indexname"]}"')
    return [row["indexdef"] for row in found]


async def _pg_copy(connection: Any, rows: Rows) -> None:
    for table, columns, values in rows.in_order():
        for start in range(0, len(values), COPY_CHUNK):
            await connection.copy_records_to_table(
                table, records=values[start : start + COPY_CHUNK], columns=list(columns)
            )


async def _pg_skip_foreign_key_checks(connection: Any) -> bool:
    """Foreign keys are checked by a trigger per row; the rows are consistent by
    construction, so a superuser skips them (session_replication_role). Others keep them."""
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL session_replication_role = replica")
    except Exception:
        return False
    await connection.execute("SET session_replication_role = replica")
    return True


async def fill_postgres(engine: AsyncEngine, generator: Generator, batch: int) -> None:
    async with engine.connect() as sa_connection:
        raw = await sa_connection.get_raw_connection()
        connection: Any = raw.driver_connection
        await connection.execute("SET statement_timeout = 0")
        await connection.execute("SET maintenance_work_mem = '1GB'")
        skipped = await _pg_skip_foreign_key_checks(connection)
        # One transaction: a fill that stops half-way leaves the database as it was.
        async with connection.transaction():
            remake = await _pg_deferred(connection)
            await _pg_copy(connection, generator.people)
            with ticket_batches(generator, batch) as batches:
                for number, rows in enumerate(batches, start=1):
                    await _pg_copy(connection, rows)
                    _progress(number * batch, generator.shape.tickets)
            _stage("indexes")
            for statement in remake:
                await connection.execute(statement)
            await _pg_counters(connection)
        if skipped:
            await connection.execute("RESET session_replication_role")
        _stage("analyze")
        # What autovacuum would have done by the time a real table had grown this big.
        await connection.execute("VACUUM ANALYZE")


async def _pg_counters(connection: Any) -> None:
    for table in TABLE_ORDER:
        if "id" not in COLUMNS[table] or table == "files":  # files have uuid ids
            continue
        # Later inserts must not collide with the copied ids.
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )
    await connection.execute(
        "UPDATE counters SET value = (SELECT coalesce(max(number), 0) FROM tickets) "
        "WHERE name = $1",
        TICKET_NUMBER,
    )
    # PostgreSQL numbers new tickets from a sequence (db/counters.py).
    await connection.execute(
        f"SELECT setval('{TICKET_NUMBER_SEQUENCE}', greatest(max(number), 1), count(*) > 0) "  # noqa: S608
        "FROM tickets"
    )


# --- credentials -------------------------------------------------------------------------


@dataclass
class Credentials:
    database_url: str
    tickets: int
    seed: int
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "database_url": self.database_url,
            "tickets": self.tickets,
            "seed": self.seed,
            "tokens": self.tokens,
            "words": self.words,
            "fill_seconds": round(self.seconds, 1),
        }


async def make_tokens(engine: AsyncEngine, generator: Generator) -> dict[str, dict[str, str]]:
    """API tokens through helpwire's own service: an agent, an admin, an account-wide
    customer of the largest account and a project-only one (its first two customers)."""
    customer, member = generator.customers[BIGCORP][:2]
    who = {
        "agent": AGENT,
        "admin": "admin",
        "customer": generator.username(customer),
        "member": generator.username(member),
    }
    database = database_for(engine)
    out = {}
    async with database.writing() as session:
        for role, username in who.items():
            user = await accounts.get_user(session, username=username)
            _row, token = await accounts.create_token(session, user=user, label="bench")
            out[role] = {"username": username, "token": token}
    return out


# --- the command -------------------------------------------------------------------------


def _progress(done: int, total: int) -> None:
    done = min(done, total)
    elapsed = time.perf_counter() - _STARTED
    print(
        f"\r  {elapsed:6.1f} s  {done:,} / {total:,} tickets", end="", file=sys.stderr, flush=True
    )
    if done == total:
        print(file=sys.stderr)


_STARTED = time.perf_counter()


def _stage(name: str) -> None:
    print(f"  {time.perf_counter() - _STARTED:6.1f} s  {name}", file=sys.stderr, flush=True)


async def fill(url: str, tickets: int, seed: int, batch: int) -> Credentials:
    settings = Settings(database_url=url)
    engine = create_engine(settings, bounded=False)
    started = time.perf_counter()
    try:
        _stage("migrating and checking the schema")
        optional = await prepare(engine)
        _stage("generating people")
        shape = Shape.for_tickets(tickets)
        generator = Generator(shape, seed, optional)
        _stage("writing")
        if settings.is_sqlite:
            await engine.dispose()  # the fill writes through sqlite3, alone
            database = make_url(settings.async_database_url).database
            assert database is not None
            await asyncio.to_thread(fill_sqlite, Path(database), generator, batch)
        else:
            await fill_postgres(engine, generator, batch)
        credentials = Credentials(url, tickets, seed, words=generator.words.as_dict())
        _stage("tokens")
        credentials.tokens = await make_tokens(engine, generator)
        _stage("the reports' daily counts")
        async with database_for(engine).writing() as session:
            await rebuild(session)
        _stage("done")
        credentials.seconds = time.perf_counter() - started
        return credentials
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tickets", type=int, required=True, help="how many tickets")
    parser.add_argument(
        "--database-url",
        required=True,
        help="sqlite:///path.db or postgresql://user@host/db (an empty or new database)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help="the generator's seed")
    parser.add_argument(
        "--credentials", type=Path, default=None, help="write tokens and words here (JSON)"
    )
    parser.add_argument("--batch", type=int, default=BATCH, help="tickets per batch")
    args = parser.parse_args(argv)
    if args.tickets < 1:
        parser.error("--tickets must be at least 1")
    try:
        credentials = asyncio.run(fill(args.database_url, args.tickets, args.seed, args.batch))
    except FillError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    document = json.dumps(credentials.as_dict(), indent=2)
    if args.credentials is not None:
        args.credentials.write_text(document + "\n")
        print(f"credentials written to {args.credentials}", file=sys.stderr)
    else:
        print(document)
    print(f"filled {args.tickets:,} tickets in {credentials.seconds:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
