"""Web page latency on the demo data set: every main page of the UI under 100 ms?

Builds a scratch database with ``helpwire demo`` (SQLite by default; a PostgreSQL database
created on the server of ``--database-url``), starts the app in-process (httpx over ASGI,
as the tests do, with the relay off), signs in through the sign-in form as a customer, an
agent and an admin, and times each main page: median and 95th percentile of sequential
GETs after a warm-up. The baselines, measured in the same run, are GET /healthz (no
template, no session: the floor of the stack) and GET /login (the cheapest page with a
template). A page that answers anything but 200 fails, and so does a page whose median is
over the limit (100 ms); the exit code is then 1.

Run ``.venv/bin/python bench/web_pages.py --help``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from helpwire.accounts.models import Account
from helpwire.app import create_app
from helpwire.assembly import database_for
from helpwire.db.engine import create_engine
from helpwire.db.migrate import upgrade
from helpwire.db.session import Database
from helpwire.demo import DemoOptions, fill_demo
from helpwire.demo.cast import ADMIN, AGENTS, COMPANIES
from helpwire.settings import Settings
from helpwire.tickets.models import Ticket

BASE_URL = "http://bench.test"
LIMIT_MS = 100.0
PASSWORD = "bench-password-1"  # noqa: S105 (of made-up demo people, printed anyway)
SEARCH_WORD = "invoice"  # in many demo subjects and replies
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Page:
    role: str  # who asks: anonymous, customer, agent, admin
    path: str
    baseline: bool = False


@dataclass(frozen=True)
class Timing:
    page: Page
    status: int
    samples_ms: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# --- the database ----------------------------------------------------------------------


@dataclass
class Scratch:
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


async def scratch_database(database_url: str | None, directory: Path, keep: bool) -> Scratch:
    """An empty database: a SQLite file in ``directory``, or a new database on the
    PostgreSQL server of ``database_url`` (whose user must be allowed to create one)."""
    if database_url is None or database_url.startswith("sqlite"):
        path = directory / "helpwire-bench-web.db"
        _remove_sqlite_files(path)

        async def remove_file() -> None:
            if not keep:
                _remove_sqlite_files(path)

        return Scratch(f"sqlite+aiosqlite:///{path}", remove_file)
    admin_url = Settings(database_url=database_url).async_database_url
    name = f"helpwire_bench_web_{os.getpid()}"
    await _admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin_sql(admin_url, f'CREATE DATABASE "{name}"')

    async def drop() -> None:
        if not keep:
            await _admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return Scratch(url, drop)


async def fill(url: str, tickets: int) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        await upgrade(engine)
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if done % 500 == 0 or done == total:
                print(f"  {done}/{total} tickets", file=sys.stderr)

        await fill_demo(
            database_for(engine),
            DemoOptions(tickets=tickets, password=PASSWORD),
            progress=progress,
        )
        print(f"filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    finally:
        await engine.dispose()


# --- the pages -------------------------------------------------------------------------


async def _busiest_ticket(database: Database, *, account_key: str | None) -> int:
    """The ticket with the longest conversation (of one account, if given): its page has
    the most to show."""
    async with database.reader() as session:
        query = select(Ticket.number).order_by(Ticket.comment_count.desc(), Ticket.id.desc())
        if account_key is not None:
            query = query.join(Account, Account.id == Ticket.account_id).where(
                Account.key == account_key
            )
        number = await session.scalar(query.limit(1))
    if number is None:
        raise SystemExit("the database holds no tickets to show")
    return int(number)


async def pages(database: Database) -> list[Page]:
    customer_ticket = await _busiest_ticket(database, account_key=COMPANIES[0].key)
    agent_ticket = await _busiest_ticket(database, account_key=None)
    return [
        Page("anonymous", "/healthz", baseline=True),
        Page("anonymous", "/login", baseline=True),
        Page("customer", "/tickets"),
        Page("customer", "/tickets/new"),
        Page("customer", f"/tickets/{customer_ticket}"),
        Page("agent", "/agent"),
        Page("agent", "/agent?queue=open"),
        Page("agent", f"/agent?q={SEARCH_WORD}"),
        Page("agent", f"/agent/tickets/{agent_ticket}"),
        Page("agent", "/agent/counts"),
        Page("admin", "/admin/users"),
        Page("admin", "/admin/channels"),
    ]


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> None:
    """Through the sign-in form, as a browser does: the form's CSRF token, then the post."""
    form = await client.get("/login")
    token = _CSRF.search(form.text)
    if form.status_code != 200 or token is None:
        raise SystemExit(f"GET /login answered {form.status_code} without a sign-in form")
    answer = await client.post(
        "/login",
        data={"login": username, "password": password, "csrf_token": token.group(1)},
        headers={"Origin": BASE_URL},
    )
    if answer.status_code != 303:
        raise SystemExit(f"signing in as {username} failed: {answer.status_code}")


async def time_page(client: httpx.AsyncClient, page: Page, repeat: int, warmup: int) -> Timing:
    samples: list[float] = []
    status = 200
    for round_ in range(warmup + repeat):
        started = time.perf_counter()
        answer = await client.get(page.path)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            return Timing(page, answer.status_code, samples or [elapsed])
        if round_ >= warmup:
            samples.append(elapsed)
    return Timing(page, status, samples)


async def measure(url: str, password: str, repeat: int, warmup: int) -> list[Timing]:
    settings = Settings(
        database_url=url,
        base_url=BASE_URL,
        relay_in_process=False,
        log_level="WARNING",
        log_json=False,
        # A benchmark is one client at full speed.
        rate_limit_enabled=False,
    )
    app = create_app(settings)
    users = {
        "customer": COMPANIES[0].people[0].username,
        "agent": AGENTS[0].username,
        "admin": ADMIN.username,
    }
    async with LifespanManager(app):
        database: Database = app.state.database
        transport = httpx.ASGITransport(app=app)
        clients: dict[str, httpx.AsyncClient] = {}
        try:
            for role in ("anonymous", *users):
                clients[role] = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
                if role in users:
                    await sign_in(clients[role], users[role], password)
            return [
                await time_page(clients[page.role], page, repeat, warmup)
                for page in await pages(database)
            ]
        finally:
            for client in clients.values():
                await client.aclose()


# --- the report ------------------------------------------------------------------------


def report(timings: Sequence[Timing], limit_ms: float) -> tuple[list[str], int]:
    """The table, and how many pages failed."""
    floor = next(t.median_ms for t in timings if t.page.path == "/healthz")
    lines = [
        f"{'page':<28} {'as':<9} {'median ms':>9} {'p95 ms':>8} {'x healthz':>9}  verdict",
    ]
    failures = 0
    for timing in timings:
        page = timing.page
        if timing.status != 200:
            verdict = f"FAIL: answered {timing.status}"
            failures += 1
        elif page.baseline:
            verdict = "baseline"
        elif timing.median_ms > limit_ms:
            verdict = f"FAIL: median over {limit_ms:.0f} ms"
            failures += 1
        else:
            verdict = "ok"
        median = f"{timing.median_ms:9.1f}" if timing.status == 200 else f"{'-':>9}"
        p95 = f"{timing.p95_ms:8.1f}" if timing.status == 200 else f"{'-':>8}"
        ratio = f"{timing.median_ms / floor:9.1f}" if timing.status == 200 else f"{'-':>9}"
        lines.append(f"{page.path[:28]:<28} {page.role:<9} {median} {p95} {ratio}  {verdict}")
    return lines, failures


def _json(timings: Sequence[Timing]) -> list[dict[str, Any]]:
    return [
        {
            "path": t.page.path,
            "as": t.page.role,
            "status": t.status,
            "median_ms": round(t.median_ms, 2),
            "p95_ms": round(t.p95_ms, 2),
        }
        for t in timings
    ]


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tickets", type=int, default=3000, help="demo tickets to make")
    parser.add_argument("--repeat", type=int, default=30, help="timed GETs per page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed GETs per page first")
    parser.add_argument("--limit-ms", type=float, default=LIMIT_MS, help="the most a median may be")
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL server URL whose user may create databases (a scratch database "
        "helpwire_bench_web_* is made there and dropped at the end); default: a SQLite file",
    )
    parser.add_argument(
        "--filled",
        default=None,
        help="time this database as it is (a demo database kept with --keep, or made with "
        "`helpwire demo --password ...`) instead of making one",
    )
    parser.add_argument("--password", default=PASSWORD, help="the demo password (with --filled)")
    parser.add_argument("--dir", type=Path, default=None, help="where the SQLite file goes")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    if args.filled is not None:
        timings = await measure(
            Settings(database_url=args.filled).async_database_url,
            args.password,
            args.repeat,
            args.warmup,
        )
    else:
        directory = args.dir or Path(tempfile.mkdtemp(prefix="helpwire-bench-web-"))
        directory.mkdir(parents=True, exist_ok=True)
        scratch = await scratch_database(args.database_url, directory, args.keep)
        try:
            await fill(scratch.url, args.tickets)
            timings = await measure(scratch.url, PASSWORD, args.repeat, args.warmup)
        finally:
            await scratch.cleanup()
            if args.dir is None and not args.keep:
                shutil.rmtree(directory, ignore_errors=True)
        if args.keep:
            print(f"kept: {scratch.url} (password {PASSWORD})", file=sys.stderr)
    lines, failures = report(timings, args.limit_ms)
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(_json(timings), indent=2))
    if failures:
        print(f"{failures} page(s) failed", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
