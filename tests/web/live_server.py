"""A real `helpwire serve` process on a fresh SQLite database, and Debian's Chromium, for
the browser tests.

The database is prepared before the server starts: people with passwords, an account with
projects, topics. The server is the installed ``helpwire`` command in a subprocess, so the
browser talks HTTP to exactly what a user runs."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from helpwire.accounts import service as accounts
from helpwire.accounts.models import Role
from helpwire.assembly import database_for
from helpwire.db.engine import create_engine
from helpwire.db.migrate import upgrade
from helpwire.db.session import Database
from helpwire.settings import Settings
from helpwire.topics import service as topics
from tests.ports import helpwire_serve, listening_socket, url_of

T = TypeVar("T")
CHROMIUM = os.environ.get("HELPWIRE_CHROMIUM", "/usr/bin/chromium")
# CI installs Chromium and sets this, so that the browser tests cannot be skipped there.
REQUIRE_BROWSER = os.environ.get("HELPWIRE_REQUIRE_BROWSER") == "1"
PASSWORD = "browser-test-password"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
]


def require_chromium() -> None:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return
    reason = f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    if REQUIRE_BROWSER:
        pytest.fail(reason + " and HELPWIRE_REQUIRE_BROWSER=1")
    pytest.skip(reason)


async def _prepare(settings: Settings) -> None:
    engine = create_engine(settings)
    await upgrade(engine)
    database = database_for(engine)
    async with database.writing() as session:
        await accounts.create_account(
            session, key="acme", name="Acme Corp", projects=["web", "api"]
        )
        people = [
            ("admin", Role.ADMIN, None, "Ada Admin"),
            ("agent", Role.AGENT, None, "Sam Agent"),
            ("alice", Role.CUSTOMER, "acme", "Alice Customer"),
        ]
        for username, role, account, name in people:
            await accounts.create_user(
                session,
                new=accounts.NewUser(
                    username=username,
                    role=role,
                    email=f"{username}@example.test",
                    real_name=name,
                    account_key=account,
                    password=PASSWORD,
                ),
            )
        await topics.create_topic(
            session,
            key="billing",
            names={"en": "Billing", "de": "Abrechnung"},
            subtopics=[{"key": "invoices", "names": {"en": "Invoices", "de": "Rechnungen"}}],
        )
        await topics.create_topic(session, key="network", names={"en": "Network"})
    await engine.dispose()


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    settings: Settings  # the server's database and files, for a test to prepare or move on

    def on_database(self, work: Callable[[Database], Awaitable[T]]) -> T:
        """Run ``work`` on the server's database from the test (in a thread of its own:
        Playwright's sync API may run a loop in the test's)."""

        async def run() -> T:
            engine = create_engine(self.settings)
            try:
                return await work(database_for(engine))
            finally:
                await engine.dispose()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, run()).result()


def start_live_server(directory: Path) -> Iterator[LiveServer]:
    # The server's socket (tests/ports.py); closed here too should the server not start.
    with listening_socket() as sock:
        url = url_of(sock)
        env = {
            **os.environ,
            "HELPWIRE_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'helpwire.db'}",
            "HELPWIRE_FILES_DIR": str(directory / "files"),
            "HELPWIRE_BASE_URL": url,
            "HELPWIRE_LOG_JSON": "false",
            "HELPWIRE_LOG_LEVEL": "WARNING",
            # One browser loads many pages and assets quickly; rate limits have tests of
            # their own.
            "HELPWIRE_RATE_LIMIT_ENABLED": "false",
        }
        settings = Settings(
            database_url=env["HELPWIRE_DATABASE_URL"], files_dir=directory / "files", base_url=url
        )
        # In a thread of its own: Playwright's sync API may already run a loop in this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _prepare(settings)).result()
        log_path = directory / "serve.log"
        with helpwire_serve(
            sock, env=env, log_path=log_path, ready_timeout_s=30.0, stop_timeout_s=10.0
        ) as process:
            yield LiveServer(url=url, process=process, log_path=log_path, settings=settings)
