"""List and search at scale, through the real service layer.

Fills scratch databases (a SQLite file and, when it is reachable, a PostgreSQL database)
with a realistic support history, then times the ticket lists the UI and the API ask for:
``helpwire.tickets.listing.list_tickets`` with an agent, an account-wide customer and a
project-only customer, each in a fresh read session, as a request would run it.

Every number is compared with baselines measured in the same run, on the same engine:
- the same query on a small database (1,000 tickets, same distributions): a query that
  keeps its cost as the table grows shows a ratio near 1;
- a plain indexed ``SELECT`` of 25 tickets by id: the floor of one page's round trip.

Run ``.venv/bin/python bench/list_search.py --help``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fill import BATCH, fill
from generator import BIGCORP, SEED, Words
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from helpwire.accounts.actor import Actor, load_actor
from helpwire.accounts.models import User
from helpwire.assembly import database_for
from helpwire.db.engine import create_engine
from helpwire.db.session import Database
from helpwire.problems import Problem
from helpwire.settings import Settings
from helpwire.tickets.listing import (
    MAX_PAGE,
    SortField,
    SortOrder,
    TicketFilters,
    list_tickets,
)
from helpwire.tickets.models import Status

DEFAULT_POSTGRES = os.environ.get(
    "HELPWIRE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
RELEVANCE = SortField.RELEVANCE
SMALL = 1_000  # tickets in the baseline database
PAGE = 25
DEEP_PAGES = 1_000

# --- the data set ----------------------------------------------------------------------
# bench/generator.py makes it and bench/fill.py writes it (the same code as `fill.py`).

HEAVY_RANK = 20  # the requester filter names bigcorp's 20th most active customer


@dataclass
class Target:
    """One filled database of one engine."""

    engine_name: str
    tickets: int
    url: str
    cleanup: Callable[[], Awaitable[None]]


async def _admin_sql(admin_url: str, statement: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def make_sqlite(directory: Path, tickets: int, keep: bool) -> tuple[Target, Words]:
    path = directory / f"helpwire-bench-{tickets}.db"
    _remove_sqlite_files(path)
    url = f"sqlite+aiosqlite:///{path}"
    filled = await fill(url, tickets, SEED, BATCH)

    async def cleanup() -> None:
        if not keep:
            _remove_sqlite_files(path)

    return Target("sqlite", tickets, url, cleanup), Words(**filled.words)


async def make_postgres(admin: str, tickets: int, keep: bool) -> tuple[Target, Words]:
    admin_url = Settings(database_url=admin).async_database_url
    name = f"helpwire_bench_{tickets}_{os.getpid()}"
    await _admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin_sql(admin_url, f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    async def cleanup() -> None:
        if not keep:
            await _admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    try:
        filled = await fill(url, tickets, SEED, BATCH)
    except BaseException:
        await cleanup()
        raise
    return Target("postgresql", tickets, url, cleanup), Words(**filled.words)


async def postgres_reachable(admin: str) -> str | None:
    engine = create_async_engine(Settings(database_url=admin).async_database_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure means "not here"; the reason is printed
        return f"{exc.__class__.__name__}: {exc}"
    finally:
        await engine.dispose()


# --- the timed queries -----------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    label: str
    filters: TicketFilters = field(default_factory=TicketFilters)
    sort: SortField = SortField.CREATED_AT
    deep: bool = False  # start at page DEEP_PAGES, reached by following cursors


def queries(words: Words, heavy_requester: str) -> list[Query]:
    return [
        Query("newest first, page 1"),
        Query(f"newest first, page {DEEP_PAGES:,} (cursor)", deep=True),
        Query("status=open", TicketFilters(statuses=(Status.OPEN,))),
        Query("requester=<busy customer>", TicketFilters(requester=heavy_requester)),
        Query("assignee=none", TicketFilters(assignee="none")),
        Query("tag=tag40", TicketFilters(tag="tag40")),
        Query("project=p1", TicketFilters(project="p1")),
        Query("topic=topic3", TicketFilters(topic="topic3")),
        Query("escalated=true", TicketFilters(escalated=True)),
        Query("sort=priority, page 1", sort=SortField.PRIORITY),
        Query(f"sort=priority, page {DEEP_PAGES:,}", sort=SortField.PRIORITY, deep=True),
        Query("sort=status, page 1", sort=SortField.STATUS),
        Query("sort=updated_at, page 1", sort=SortField.UPDATED_AT),
        Query(f"q={words.rare} (rare word)", TicketFilters(q=words.rare)),
        Query(f"q={words.mid} (~1 % of tickets)", TicketFilters(q=words.mid)),
        Query(f"q={words.common} (most tickets)", TicketFilters(q=words.common)),
        Query(f"q={words.two} (two words)", TicketFilters(q=words.two)),
        Query(f"q={words.prefix} (prefix)", TicketFilters(q=words.prefix)),
        Query("q=<8 three-letter prefixes>", TicketFilters(q=words.broad)),
        Query(f"sort=relevance q={words.rare}", TicketFilters(q=words.rare), RELEVANCE),
        Query(f"sort=relevance q={words.mid}", TicketFilters(q=words.mid), RELEVANCE),
        Query(f"sort=relevance q={words.common}", TicketFilters(q=words.common), RELEVANCE),
        Query(f"sort=relevance q={words.two}", TicketFilters(q=words.two), RELEVANCE),
    ]


@dataclass
class Timing:
    samples: list[float]
    rows: int
    note: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)] * 1000


async def _actors(database: Database) -> dict[str, Actor]:
    names = {"agent": "agent1", "customer": None, "member": None}
    async with database.reader() as session:
        bigcorp = (
            await session.scalars(
                select(User)
                .where(User.role == "customer", User.account_id == BIGCORP)
                .order_by(User.id)
                .limit(2)
            )
        ).all()
        names["customer"], names["member"] = bigcorp[0].username, bigcorp[1].username
        actors = {}
        for role, username in names.items():
            user = await session.scalar(select(User).where(User.username == username))
            assert user is not None
            actors[role] = await load_actor(session, user=user)
    return actors


async def _heavy_requester(database: Database) -> str:
    async with database.reader() as session:
        rows = await session.execute(
            text(
                "SELECT u.username FROM tickets t JOIN users u ON u.id = t.requester_id "
                "WHERE t.account_id = :account GROUP BY u.username "
                "ORDER BY count(*) DESC, u.username LIMIT 1 OFFSET :rank"
            ),
            {"account": BIGCORP, "rank": HEAVY_RANK},
        )
        names = rows.scalars().all()
        if not names:  # a tiny data set: any bigcorp customer
            rows = await session.execute(
                text("SELECT username FROM users WHERE account_id = :a ORDER BY id LIMIT 1"),
                {"a": BIGCORP},
            )
            names = rows.scalars().all()
        return str(names[0])


async def _page(
    database: Database, actor: Actor, query: Query, cursor: str | None, limit: int = PAGE
) -> tuple[int, str | None]:
    async with database.reader() as session:
        tickets, next_cursor = await list_tickets(
            session,
            actor=actor,
            filters=query.filters,
            sort=query.sort,
            order=SortOrder.DESC,
            limit=limit,
            cursor=cursor,
        )
        return len(tickets), next_cursor


async def _deep_cursor(database: Database, actor: Actor, query: Query) -> tuple[str | None, int]:
    """The cursor of page DEEP_PAGES, or of the last page when there are fewer, and the
    page's number. Walked in steps of MAX_PAGE where possible: a cursor holds the position
    of the last ticket, not the page size, so it is the same cursor, reached 8 times faster."""
    cursor: str | None = None
    to_skip = (DEEP_PAGES - 1) * PAGE
    skipped = 0
    step = MAX_PAGE
    while skipped < to_skip:
        count, next_cursor = await _page(
            database, actor, query, cursor, limit=min(step, to_skip - skipped)
        )
        if next_cursor is None:
            if step == PAGE:
                break  # the page after this one is empty: this is the last page
            step = PAGE  # near the end: go on page by page to land on the last one
            continue
        cursor, skipped = next_cursor, skipped + count
    return cursor, 1 + skipped // PAGE


async def time_query(database: Database, actor: Actor, query: Query, repeat: int) -> Timing:
    cursor = None
    note = ""
    if query.deep:
        cursor, page = await _deep_cursor(database, actor, query)
        if page < DEEP_PAGES:
            note = f"page {page}"
    samples: list[float] = []
    rows = 0
    for attempt in range(repeat + 1):  # the first run warms caches and is not counted
        started = time.perf_counter()
        try:
            rows, _next = await _page(database, actor, query, cursor)
        except Problem as problem:
            note = f"{problem.status}"
            rows = 0
        elapsed = time.perf_counter() - started
        if attempt:
            samples.append(elapsed)
    return Timing(samples, rows, note)


async def time_plain_select(database: Database, repeat: int) -> Timing:
    """The floor: 25 ticket rows by primary key, no ORM objects, no filters."""
    samples = []
    rows = 0
    for attempt in range(repeat + 1):
        started = time.perf_counter()
        async with database.reader() as session:
            result = await session.execute(
                text("SELECT * FROM tickets WHERE id > :after ORDER BY id LIMIT 25"),
                {"after": 500},
            )
            rows = len(result.all())
        if attempt:
            samples.append(time.perf_counter() - started)
    return Timing(samples, rows)


ACTORS = ("agent", "customer", "member")
Results = dict[str, dict[str, Timing]]  # query label -> actor -> timing


async def run_target(target: Target, words: Words, repeat: int) -> tuple[Results, Timing]:
    engine: AsyncEngine = create_engine(Settings(database_url=target.url))
    database = database_for(engine)
    try:
        actors = await _actors(database)
        heavy = await _heavy_requester(database)
        results: Results = {}
        for query in queries(words, heavy):
            results[query.label] = {
                role: await time_query(database, actors[role], query, repeat) for role in ACTORS
            }
            medians = " ".join(f"{_cell(t).strip()}" for t in results[query.label].values())
            print(f"  {target.engine_name} {query.label}: {medians}", file=sys.stderr)
        return results, await time_plain_select(database, repeat)
    finally:
        await engine.dispose()


# --- the report ------------------------------------------------------------------------


def _cell(timing: Timing) -> str:
    text_value = f"{timing.median_ms:.1f}/{timing.p95_ms:.1f}"
    if timing.note:
        text_value += f" ({timing.note})"
    return text_value


def report(
    engine_name: str, tickets: int, big: Results, small: Results, floor: Timing
) -> list[str]:
    width = max(len(label) for label in big) + 2
    lines = [
        "",
        f"{engine_name}: {tickets:,} tickets; median/p95 ms of one {PAGE}-ticket page "
        f"(baseline: same query at {SMALL:,} tickets)",
        f"{'query':<{width}}"
        + "".join(f"{role:>18}" for role in ACTORS)
        + f"{'agent @' + format(SMALL, ','):>18}{'ratio':>8}",
    ]
    for label, per_actor in big.items():
        base = small[label]["agent"]
        ratio = per_actor["agent"].median_ms / base.median_ms if base.median_ms else 0.0
        lines.append(
            f"{label:<{width}}"
            + "".join(f"{_cell(per_actor[role]):>18}" for role in ACTORS)
            + f"{_cell(base):>18}{ratio:>7.1f}x"
        )
    lines.append(
        f"{'plain SELECT of 25 rows by id':<{width}}{floor.median_ms:>18.1f}"
        "   (the floor: one round trip, no ORM)"
    )
    return lines


def _json(results: Results) -> dict[str, dict[str, Any]]:
    return {
        label: {
            role: {
                "median_ms": round(t.median_ms, 2),
                "p95_ms": round(t.p95_ms, 2),
                "rows": t.rows,
                "note": t.note,
            }
            for role, t in per_actor.items()
        }
        for label, per_actor in results.items()
    }


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tickets", type=int, default=300_000, help="tickets in the big data set")
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per query (median)")
    parser.add_argument(
        "--engines", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql"
    )
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        help="a PostgreSQL server URL whose user may create databases (scratch databases "
        "helpwire_bench_* are created there and dropped at the end)",
    )
    parser.add_argument("--dir", type=Path, default=None, help="where the SQLite files go")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "postgresql" in engines:
        reason = await postgres_reachable(args.postgres)
        if reason is not None:
            print(f"PostgreSQL skipped: {args.postgres} is not reachable ({reason})")
            engines.remove("postgresql")
    directory = args.dir or Path(tempfile.mkdtemp(prefix="helpwire-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        return await _run(args, engines, directory)
    finally:
        if args.dir is None and not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


async def _run(args: argparse.Namespace, engines: list[str], directory: Path) -> int:
    out: dict[str, Any] = {"tickets": args.tickets, "repeat": args.repeat, "engines": {}}
    collected: dict[str, dict[int, tuple[Results, Timing]]] = {name: {} for name in engines}
    lines: list[str] = []
    for tickets in (SMALL, args.tickets):
        for name in engines:
            started = time.perf_counter()
            if name == "sqlite":
                target, words = await make_sqlite(directory, tickets, args.keep)
            else:
                target, words = await make_postgres(args.postgres, tickets, args.keep)
            print(
                f"filled {name} ({tickets:,}) in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
            try:
                started = time.perf_counter()
                results, floor = await run_target(target, words, args.repeat)
                print(
                    f"timed {name} ({tickets:,}) in {time.perf_counter() - started:.0f} s",
                    file=sys.stderr,
                )
            finally:
                await target.cleanup()
            per_engine = out["engines"].setdefault(name, {})
            per_engine[str(tickets)] = {
                "results": _json(results),
                "plain_select_ms": round(floor.median_ms, 2),
            }
            collected[name][tickets] = (results, floor)
    for name in engines:
        big, floor = collected[name][args.tickets]
        small, _ = collected[name][SMALL]
        lines += report(name, args.tickets, big, small, floor)
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


async def _main_cancellable() -> int:
    # Stopped with SIGTERM (or Ctrl-C), the run still drops its scratch databases.
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    return await main()


def _main_sync() -> None:
    raise SystemExit(asyncio.run(_main_cancellable()))


if __name__ == "__main__":
    _main_sync()
