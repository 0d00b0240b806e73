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
import bisect
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from helpwire.accounts.actor import Actor, load_actor
from helpwire.accounts.models import User
from helpwire.assembly import database_for
from helpwire.db.engine import create_engine
from helpwire.db.migrate import upgrade
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
SMALL = 1_000  # tickets in the baseline database
PAGE = 25
DEEP_PAGES = 1_000
SEED = 20261122

# --- the data set ----------------------------------------------------------------------

# The head of the vocabulary: words support tickets are made of, most frequent first.
SUPPORT_WORDS = (  # noqa: SIM905 (a sentence of words reads better than a list of strings)
    "the to and a i of is in it for not my on with this error we can when you have be "
    "that but are after from our since please help login server account password was "
    "update does working invoice payment access user new issue problem page again get "
    "connection network timeout email report file upload download database backup "
    "restore cluster node disk memory cpu billing charge refund plan upgrade license "
    "token api request response status failed failure crash slow latency dns domain "
    "certificate ssl vpn firewall port address instance volume snapshot image deploy "
    "build pipeline job queue worker cron schedule export import sync mobile browser "
    "chrome firefox windows linux macos app settings profile notification alert "
    "dashboard graph metrics logs console terminal ssh key permission denied forbidden "
    "invalid missing broken wrong reset change delete remove create cannot unable "
    "customer order shipping delivery tracking invoice receipt tax vat currency "
    "subscription trial cancel renew contract quota limit storage bucket object "
    "kubernetes docker container registry helm ingress loadbalancer proxy gateway"
).split()
VOCABULARY_SIZE = 20_000
TAGS = 300
TOPICS = 12


def _vocabulary(rng: random.Random) -> list[str]:
    words = list(dict.fromkeys(SUPPORT_WORDS))
    seen = set(words)
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    while len(words) < VOCABULARY_SIZE:
        word = "".join(
            rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4))
        )
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def _zipf_cumulative(n: int, s: float) -> list[float]:
    total = 0.0
    out = []
    for rank in range(1, n + 1):
        total += 1 / rank**s
        out.append(total)
    return out


@dataclass(frozen=True)
class Shape:
    """How many of each thing; scaled from the number of tickets."""

    tickets: int
    accounts: int
    customers: int
    agents: int = 40
    start: datetime = datetime(2023, 11, 22, tzinfo=UTC)
    span: timedelta = timedelta(days=3 * 365)

    @classmethod
    def for_tickets(cls, tickets: int) -> Shape:
        return cls(
            tickets=tickets, accounts=max(20, tickets // 150), customers=max(60, tickets // 15)
        )


# Parents before children, as the foreign keys want them.
TABLE_ORDER = (
    "accounts", "projects", "topics", "subtopics", "users", "project_members", "tickets",
    "ticket_projects", "ticket_tags", "comments", "search_documents",
)  # fmt: skip


@dataclass
class Rows:
    """What is written, table by table."""

    tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = field(default_factory=dict)

    def add(self, table: str, columns: list[str], row: tuple[Any, ...]) -> None:
        self.tables.setdefault(table, (columns, []))[1].append(row)

    def in_order(self) -> list[tuple[str, list[str], list[tuple[Any, ...]]]]:
        return [(t, *self.tables[t]) for t in TABLE_ORDER if t in self.tables]


@dataclass(frozen=True)
class Words:
    """The search terms of the timed queries, picked from the vocabulary by frequency."""

    rare: str
    two: str
    prefix: str
    broad: str


def search_words(vocabulary: Sequence[str]) -> Words:
    # The tail is rare (a few dozen documents), the head common; a prefix of a mid word.
    return Words(
        rare=vocabulary[VOCABULARY_SIZE - 40],
        two=f"{vocabulary[40]} {vocabulary[130]}",
        prefix=vocabulary[60][:5] + "*",
        broad=" ".join(w[:3] + "*" for w in vocabulary[30:38]),
    )


BIGCORP = 1  # the largest account: 10% of all tickets
HEAVY_RANK = 20  # the requester filter names bigcorp's 20th most active customer


def _account_of_customers(shape: Shape, rng: random.Random) -> list[list[int]]:
    """Customer user ids per account (index 0 unused); bigcorp has a tenth of them."""
    accounts: list[list[int]] = [[] for _ in range(shape.accounts + 1)]
    weights = _zipf_cumulative(shape.accounts - 1, 0.9)
    first_customer = 2 + shape.agents  # 1 is the admin, then the agents
    for index in range(shape.customers):
        user_id = first_customer + index
        if index < shape.customers // 10:
            accounts[BIGCORP].append(user_id)
        elif index < shape.customers // 10 + shape.accounts - 1:
            accounts[index - shape.customers // 10 + 2].append(user_id)  # nobody is alone
        else:
            accounts[2 + bisect.bisect(weights, rng.random() * weights[-1])].append(user_id)
    return accounts


def generate(shape: Shape) -> tuple[Rows, Words]:
    """The whole data set, the same for every engine (seeded)."""
    rng = random.Random(SEED)  # noqa: S311 (test data, not secrets)
    vocabulary = _vocabulary(rng)
    word_cum = _zipf_cumulative(len(vocabulary), 1.1)
    tag_names = [f"tag{i}" for i in range(TAGS)]
    tag_cum = _zipf_cumulative(TAGS, 1.0)
    topic_cum = _zipf_cumulative(TOPICS, 1.0)
    agent_cum = _zipf_cumulative(shape.agents, 0.7)
    rows = Rows()
    created = shape.start - timedelta(days=30)

    def words(low: int, high: int) -> str:
        return " ".join(rng.choices(vocabulary, cum_weights=word_cum, k=rng.randint(low, high)))

    account_cols = ["id", "key", "name", "created_at"]
    for account_id in range(1, shape.accounts + 1):
        key = "bigcorp" if account_id == BIGCORP else f"acct{account_id}"
        rows.add("accounts", account_cols, (account_id, key, key.title(), created))
    project_cols = ["id", "account_id", "key", "name", "created_at"]
    projects: list[list[int]] = [[] for _ in range(shape.accounts + 1)]
    project_id = 0
    for account_id in range(1, shape.accounts + 1):
        for number in range(1, (6 if account_id == BIGCORP else rng.randint(1, 3)) + 1):
            project_id += 1
            projects[account_id].append(project_id)
            rows.add("projects", project_cols, (project_id, account_id, f"p{number}", "", created))
    topic_cols = ["id", "key", "names", "position", "is_active"]
    subtopic_cols = ["id", "topic_id", "key", "names", "position", "is_active"]
    for topic in range(1, TOPICS + 1):
        names = json.dumps({"en": f"Topic {topic}"})
        rows.add("topics", topic_cols, (topic, f"topic{topic}", names, topic, True))
        for sub in range(3):
            rows.add(
                "subtopics",
                subtopic_cols,
                (topic * 3 + sub, topic, f"sub{sub}", names, sub, True),
            )

    user_cols = [
        "id", "username", "email", "real_name", "role", "account_id", "account_wide",
        "password_hash", "is_active", "created_at",
    ]  # fmt: skip
    rows.add(
        "users", user_cols, (1, "admin", None, "Admin", "admin", None, True, None, True, created)
    )
    for index in range(shape.agents):
        user_id = 2 + index
        rows.add(
            "users",
            user_cols,
            (user_id, f"agent{index + 1}", None, "Agent", "agent", None, True, None, True, created),
        )
    customers = _account_of_customers(shape, rng)
    member_cols = ["project_id", "user_id"]
    account_of: dict[int, int] = {}
    for account_id, users in enumerate(customers):
        for position, user_id in enumerate(users):
            account_of[user_id] = account_id
            # The bench's customers (bigcorp's first two): one account-wide, one in p1 only.
            wide = position != 1 and (position == 0 or rng.random() < 0.7)
            rows.add(
                "users",
                user_cols,
                (
                    user_id,
                    f"u{user_id}",
                    None,
                    "",
                    "customer",
                    account_id,
                    wide,
                    None,
                    True,
                    created,
                ),
            )
            if not wide or rng.random() < 0.3:
                rows.add("project_members", member_cols, (projects[account_id][0], user_id))
    # The ticket's requester: an account by weight (bigcorp 10%), then one of its
    # customers by 1/rank, so that each account has a few busy requesters.
    account_cum = _zipf_cumulative(shape.accounts - 1, 0.9)
    harmonic = _zipf_cumulative(max(len(u) for u in customers), 1.0)

    ticket_cols = [
        "id", "number", "uid", "subject", "type", "priority", "status", "topic_id",
        "subtopic_id", "attributes", "requester_id", "assignee_id", "account_id",
        "access_level", "context", "tp_id", "external_url", "escalated", "comment_count",
        "internal_note_count", "customer_read_at", "agent_read_at",
        "last_customer_activity_at", "last_agent_activity_at", "version", "created_at",
        "updated_at", "solved_at", "closed_at",
    ]  # fmt: skip
    comment_cols = [
        "id", "ticket_id", "author_id", "body", "body_format", "body_html", "internal",
        "created_at",
    ]  # fmt: skip
    doc_cols = ["id", "ticket_id", "kind", "source_id", "internal", "body"]
    comment_id = 0
    doc_id = 0
    step = shape.span / shape.tickets
    types = ["question", "incident", "problem", "task", "bug", "suggestion"]
    for ticket_id in range(1, shape.tickets + 1):
        if rng.random() < 0.10:
            account_id = BIGCORP
        else:
            account_id = 2 + bisect.bisect(account_cum, rng.random() * account_cum[-1])
        users = customers[account_id]
        pick = bisect.bisect(harmonic, rng.random() * harmonic[len(users) - 1])
        requester = users[min(pick, len(users) - 1)]
        created_at = shape.start + step * ticket_id + timedelta(seconds=rng.uniform(-600, 600))
        age = ticket_id / shape.tickets  # 0: oldest, 1: newest
        if age < 0.9:
            status = rng.choices(["closed", "solved", "open", "pending"], [80, 15, 3, 2])[0]
        else:
            status = rng.choices(
                ["new", "open", "pending", "hold", "solved", "closed"], [20, 35, 20, 5, 15, 5]
            )[0]
        priority = rng.choices(["low", "normal", "high", "urgent"], [20, 60, 15, 5])[0]
        escalated = priority == "urgent" and rng.random() < 0.4
        assignee = (
            None
            if status == "new" or rng.random() < 0.08
            else 2 + bisect.bisect(agent_cum, rng.random() * agent_cum[-1])
        )
        access = rng.choices(["account_users", "project_users", "all_users"], [80, 12, 8])[0]
        ticket_projects = []
        if access == "project_users" or rng.random() < 0.25:
            ticket_projects = [rng.choice(projects[account_id])]
        topic_id: int | None = None
        subtopic_id: int | None = None
        if rng.random() < 0.75:
            topic_id = 1 + bisect.bisect(topic_cum, rng.random() * topic_cum[-1])
            if rng.random() < 0.5:
                subtopic_id = topic_id * 3 + rng.randrange(3)
        n_comments = 1 + rng.choices([0, 1, 2, 3, 5, 9], [35, 30, 15, 10, 7, 3])[0]
        uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        subject = words(3, 9)
        doc_id += 1
        rows.add("search_documents", doc_cols, (doc_id, ticket_id, "subject", uid, False, subject))
        moment = created_at
        internal_notes = 0
        last_customer = last_agent = None
        for index in range(n_comments):
            comment_id += 1
            by_agent = index % 2 == 1
            author = (assignee or 2) if by_agent else requester
            internal = by_agent and rng.random() < 0.12
            internal_notes += internal
            body = words(8, 40)
            rows.add(
                "comments",
                comment_cols,
                (comment_id, ticket_id, author, body, "text", f"<p>{body}</p>", internal, moment),
            )
            doc_id += 1
            rows.add(
                "search_documents",
                doc_cols,
                (doc_id, ticket_id, "comment", str(comment_id), internal, body),
            )
            if by_agent and not internal:
                last_agent = moment
            elif not by_agent:
                last_customer = moment
            moment += timedelta(minutes=rng.randint(5, 60 * 48))
        if rng.random() < 0.04:
            doc_id += 1
            name = "-".join(rng.choices(vocabulary, cum_weights=word_cum, k=2)) + ".log"
            rows.add(
                "search_documents",
                doc_cols,
                (doc_id, ticket_id, "file", str(uuid.UUID(int=rng.getrandbits(128))), False, name),
            )
        updated_at = moment
        done = status in ("solved", "closed")
        rows.add(
            "tickets",
            ticket_cols,
            (
                ticket_id, ticket_id, uid, subject, rng.choice(types), priority, status, topic_id,
                subtopic_id, "{}", requester, assignee, account_of[requester], access,
                json.dumps({"via": "api"}), None, None, escalated, n_comments, internal_notes,
                updated_at, updated_at, last_customer, last_agent, 1 + n_comments,
                created_at, updated_at, updated_at if done else None,
                updated_at if status == "closed" else None,
            ),
        )  # fmt: skip
        for pid in ticket_projects:
            rows.add("ticket_projects", ["ticket_id", "project_id"], (ticket_id, pid))
        count = rng.choices([0, 1, 2, 3], [40, 35, 18, 7])[0]
        for tag in sorted(set(rng.choices(tag_names, cum_weights=tag_cum, k=count))):
            rows.add("ticket_tags", ["ticket_id", "tag"], (ticket_id, tag))
    return rows, search_words(vocabulary)


# --- filling the engines ---------------------------------------------------------------

DATETIME_COLUMNS = {
    "created_at", "updated_at", "solved_at", "closed_at", "customer_read_at", "agent_read_at",
    "last_customer_activity_at", "last_agent_activity_at",
}  # fmt: skip


def _sqlite_value(value: Any) -> Any:
    # As SQLAlchemy's UTCDateTime stores them there: naive UTC text.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def fill_sqlite(path: Path, rows: Rows) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("BEGIN")
        for table, columns, values in rows.in_order():
            marks = ", ".join("?" for _ in columns)
            connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                ([_sqlite_value(v) for v in row] for row in values),
            )
        connection.execute(
            "UPDATE counters SET value = (SELECT max(number) FROM tickets) "
            "WHERE name = 'ticket_number'"
        )
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


async def fill_postgres(url: str, rows: Rows) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as sa_connection:
            raw = await sa_connection.get_raw_connection()
            await _copy_into_postgres(raw.driver_connection, rows)
    finally:
        await engine.dispose()


async def _copy_into_postgres(connection: Any, rows: Rows) -> None:
    """COPY through asyncpg (the driver helpwire uses there): the fastest bulk load."""
    async with connection.transaction():
        for table, columns, values in rows.in_order():
            for start in range(0, len(values), 50_000):
                await connection.copy_records_to_table(
                    table, records=values[start : start + 50_000], columns=columns
                )
            if "id" in columns:  # later inserts must not collide with the copied ids
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
        await connection.execute(
            "UPDATE counters SET value = (SELECT max(number) FROM tickets) "
            "WHERE name = 'ticket_number'"
        )
    # What autovacuum would have done by the time a real table had grown this big.
    await connection.execute("VACUUM ANALYZE")


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


async def _migrate(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def make_sqlite(directory: Path, shape: Shape, rows: Rows, keep: bool) -> Target:
    path = directory / f"helpwire-bench-{shape.tickets}.db"
    _remove_sqlite_files(path)
    url = f"sqlite+aiosqlite:///{path}"
    await _migrate(url)
    fill_sqlite(path, rows)

    async def cleanup() -> None:
        if not keep:
            _remove_sqlite_files(path)

    return Target("sqlite", shape.tickets, url, cleanup)


async def make_postgres(admin: str, shape: Shape, rows: Rows, keep: bool) -> Target:
    admin_url = Settings(database_url=admin).async_database_url
    name = f"helpwire_bench_{shape.tickets}_{os.getpid()}"
    await _admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin_sql(admin_url, f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    async def cleanup() -> None:
        if not keep:
            await _admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    try:
        await _migrate(url)
        await fill_postgres(url, rows)
    except BaseException:
        await cleanup()
        raise
    return Target("postgresql", shape.tickets, url, cleanup)


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
        Query(f"q={words.two} (two words)", TicketFilters(q=words.two)),
        Query(f"q={words.prefix} (prefix)", TicketFilters(q=words.prefix)),
        Query("q=<8 three-letter prefixes>", TicketFilters(q=words.broad)),
    ]


@dataclass
class Timing:
    samples: list[float]
    rows: int
    note: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000


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
    text_value = f"{timing.median_ms:8.1f}"
    if timing.note:
        text_value += f" ({timing.note})"
    return text_value


def report(
    engine_name: str, tickets: int, big: Results, small: Results, floor: Timing
) -> list[str]:
    width = max(len(label) for label in big) + 2
    lines = [
        "",
        f"{engine_name}: {tickets:,} tickets; median ms of one {PAGE}-ticket page "
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
            role: {"median_ms": round(t.median_ms, 2), "rows": t.rows, "note": t.note}
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
        started = time.perf_counter()
        rows, words = generate(Shape.for_tickets(tickets))
        counts = ", ".join(f"{len(v[1]):,} {k}" for k, v in rows.tables.items())
        print(f"generated {counts} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        for name in engines:
            started = time.perf_counter()
            if name == "sqlite":
                target = await make_sqlite(directory, Shape.for_tickets(tickets), rows, args.keep)
            else:
                target = await make_postgres(
                    args.postgres, Shape.for_tickets(tickets), rows, args.keep
                )
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
        del rows
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
