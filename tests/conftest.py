"""Test harness: every test that takes `world` or `client` runs on SQLite and PostgreSQL.

PostgreSQL is found at HELPWIRE_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test);
when it is unreachable its tests are skipped with the reason, unless
HELPWIRE_REQUIRE_POSTGRES=1, when they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from helpwire.accounts import security
from helpwire.accounts import service as accounts
from helpwire.accounts.models import Role
from helpwire.app import create_app
from helpwire.db.counters import ticket_numbers_taken
from helpwire.db.engine import create_engine
from helpwire.db.migrate import upgrade
from helpwire.db.session import Database
from helpwire.settings import Settings
from helpwire.topics import service as topics

POSTGRES_URL = os.environ.get(
    "HELPWIRE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("HELPWIRE_REQUIRE_POSTGRES") == "1"
ENGINES = ["sqlite", "postgres"]


def _async_url(url: str) -> str:
    return Settings(database_url=url).async_database_url


async def _postgres_reachable() -> str | None:
    engine = create_async_engine(_async_url(POSTGRES_URL))
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc.__class__.__name__}: {exc}"
    finally:
        await engine.dispose()


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashes() -> Iterator[None]:
    """Cheap argon2 parameters for the passwords tests make: the real ones cost a fifth of
    a second per hash and per check, by design, and the web tests sign in hundreds of
    times. Checking reads the parameters from the stored hash, so the code under test is
    the same. (The browser tests' server is a process of its own, with the real ones.)"""
    saved = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    security._hasher = saved


@pytest.fixture(autouse=True, scope="session")
def secret_key_file_outside_the_repository(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Settings made by a test without the fixtures (and the processes it starts) would
    keep the key that encrypts channel secrets in the working directory when the database
    is PostgreSQL: a session-wide default keeps it in a temporary directory instead."""
    name = "HELPWIRE_SECRET_KEY_FILE"
    saved = os.environ.get(name)
    os.environ[name] = str(tmp_path_factory.mktemp("keys") / "helpwire-secret.key")
    yield
    if saved is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = saved


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session; dropped at the end."""
    reason = asyncio.run(_postgres_reachable())
    if reason is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (HELPWIRE_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    name = f"helpwire_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin_url = _async_url(POSTGRES_URL)

    async def create() -> str:
        admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        engine = create_engine(Settings(database_url=url))
        await upgrade(engine)
        await engine.dispose()
        return url

    async def drop() -> None:
        admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    url = asyncio.run(create())
    yield url
    asyncio.run(drop())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def create() -> None:
        engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{path}"))
        await upgrade(engine)
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await engine.dispose()

    asyncio.run(create())
    return path


async def _truncate_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        tables = (
            (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename NOT IN ('alembic_version', 'counters')"
                    )
                )
            )
            .scalars()
            .all()
        )
        await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        await conn.execute(text("UPDATE counters SET value = 0"))
        await conn.execute(text("ALTER SEQUENCE ticket_number_seq RESTART"))
        # Rows the migrations made, made again: the built-in 24/7 calendar (0016).
        await conn.execute(
            text(
                "INSERT INTO calendars (key, name, time_zone, custom_holidays, created_at, "
                "updated_at) VALUES ('24-7', '24/7', 'UTC', '[]', now(), now())"
            )
        )
    await engine.dispose()


@pytest.fixture
def empty_database_url(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A brand-new, empty database of each kind."""
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("postgres_database")  # skips or fails when PostgreSQL is absent
    admin_url = _async_url(POSTGRES_URL)
    name = f"helpwire_empty_{uuid.uuid4().hex[:8]}"

    async def admin_sql(statement: str) -> None:
        admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(statement))
        await admin.dispose()

    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest, sqlite_template: Path
) -> str:
    if engine_name == "sqlite":
        path = tmp_path / "helpwire.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    asyncio.run(_truncate_postgres(url))
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        files_dir=tmp_path / "files",
        # Channel secrets are encrypted with a key made on first use: in the test's
        # directory, never the working directory (PostgreSQL has no file to sit beside).
        secret_key_file=tmp_path / "helpwire-secret.key",
        base_url="http://helpwire.test",
        log_json=False,
        # Small limits keep the size tests fast.
        max_file_bytes=256 * 1024,
        # Tests drive relays themselves (with a clock they control); the in-process relay
        # of `serve` has tests of its own.
        relay_in_process=False,
        # Likewise the job worker: tests run workers themselves, with a clock they control;
        # tests/jobs/test_in_process.py starts the one of `serve`.
        worker_in_process=False,
        # The tests' notification receivers listen on loopback, which channels may only
        # reach when allowed; tests/notify/test_outbound.py checks the refusals.
        channel_allowed_networks="127.0.0.0/8,::1,localhost",
        # The suite is one client making many requests; tests/api/test_rate_limits.py
        # turns the limits on.
        rate_limit_enabled=False,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
def database(app: FastAPI) -> Database:
    db: Database = app.state.database
    return db


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://helpwire.test") as c:
        yield c


@dataclass
class World:
    """A small organisation: staff, two customer accounts, projects, a service token.

    acme has projects p1 and p2. Customers of acme:
    - owner: account-wide access
    - alice: member of p1 only (not account-wide)
    - bob: member of p2 only (not account-wide)
    - carol: no projects, not account-wide
    globex has one customer, gus.
    """

    client: httpx.AsyncClient
    database: Database
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    async def request(self, who: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers(who), **kwargs.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def get(self, who: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request(who, "GET", url, **kwargs)

    async def post(self, who: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request(who, "POST", url, **kwargs)

    async def patch(self, who: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request(who, "PATCH", url, **kwargs)

    async def create_ticket(self, who: str, **fields: Any) -> dict[str, Any]:
        body = {"subject": "Something is wrong", "body": "Please help.", **fields}
        response = await self.post(who, "/api/v1/tickets", json=body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    async def upload(
        self, who: str, filename: str, content: bytes, content_type: str = "text/plain"
    ) -> dict[str, Any]:
        response = await self.post(
            who, "/api/v1/files", files={"file": (filename, content, content_type)}
        )
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    async def row_counts(self) -> dict[str, int]:
        """How many rows each table holds: to prove a rejected request changed nothing."""
        tables = [
            "tickets",
            "comments",
            "events",
            "files",
            "search_documents",
            "ticket_tags",
            "ticket_projects",
            "idempotency_keys",
            "users",
            "accounts",
            "projects",
            "topics",
            "subtopics",
            "api_tokens",
        ]
        async with self.database.reader() as session:
            counts = {}
            for table in tables:
                counts[table] = int(
                    (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                )
            counts["ticket_number"] = await ticket_numbers_taken(session)
            return counts


async def build_world(client: httpx.AsyncClient, database: Database) -> World:
    world = World(client=client, database=database)
    async with database.writer() as session, session.begin():
        await accounts.create_account(session, key="acme", name="Acme Corp", projects=["p1", "p2"])
        await accounts.create_account(session, key="globex", name="Globex", projects=["g1"])
        people = [
            accounts.NewUser(
                username="admin",
                role=Role.ADMIN,
                email="admin@helpwire.test",
                real_name="Ada Admin",
            ),
            accounts.NewUser(
                username="agent",
                role=Role.AGENT,
                email="agent@helpwire.test",
                real_name="Sam Agent",
            ),
            accounts.NewUser(
                username="agent2",
                role=Role.AGENT,
                email="agent2@helpwire.test",
                real_name="Kim Agent",
            ),
            accounts.NewUser(
                username="owner",
                role=Role.CUSTOMER,
                email="owner@acme.test",
                real_name="Olga Owner",
                account_key="acme",
            ),
            accounts.NewUser(
                username="alice",
                role=Role.CUSTOMER,
                email="alice@acme.test",
                real_name="Alice A",
                account_key="acme",
                account_wide=False,
                projects=["p1"],
            ),
            accounts.NewUser(
                username="bob",
                role=Role.CUSTOMER,
                email="bob@acme.test",
                real_name="Bob B",
                account_key="acme",
                account_wide=False,
                projects=["p2"],
            ),
            accounts.NewUser(
                username="carol",
                role=Role.CUSTOMER,
                email="carol@acme.test",
                real_name="Carol C",
                account_key="acme",
                account_wide=False,
            ),
            accounts.NewUser(
                username="gus",
                role=Role.CUSTOMER,
                email="gus@globex.test",
                real_name="Gus G",
                account_key="globex",
            ),
            accounts.NewUser(
                username="acme-portal",
                role=Role.SERVICE,
                real_name="Acme portal",
                account_key="acme",
            ),
        ]
        for person in people:
            user = await accounts.create_user(session, new=person)
            _row, token = await accounts.create_token(session, user=user, label="tests")
            world.tokens[person.username] = token
        await topics.create_topic(
            session,
            key="billing",
            names={"en": "Billing", "ru": "Оплата"},
            subtopics=[{"key": "invoices", "names": {"en": "Invoices", "ru": "Счета"}}],
        )
        await topics.create_topic(session, key="network", names={"en": "Network", "ru": "Сеть"})
    return world


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database) -> World:
    return await build_world(client, database)
