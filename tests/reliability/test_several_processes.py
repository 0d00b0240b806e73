"""helpwire deployed as several processes on one PostgreSQL database, as docs/deployment.md
describes: two `helpwire serve` on ports of their own (file bytes in the database, rate
limits counted in Redis, neither a relay nor a job worker in process), beside one
`helpwire relay` and one `helpwire worker`. Each `serve` has a files directory of its own,
as on machines of their own.

Over HTTP, whichever `serve` a request reaches: a file uploaded through one downloads
through the other, the write limit counts the requests of both together, every event of
every ticket reaches each webhook channel exactly once (sent by the `relay`), and the
`worker` keeps the housekeeping's timers in the same database.

PostgreSQL is found as tests/conftest.py says, Redis at HELPWIRE_TEST_REDIS_URL (default
redis://127.0.0.1:6379/0); when either is unreachable the test is skipped with the reason,
unless HELPWIRE_REQUIRE_POSTGRES=1 or HELPWIRE_REQUIRE_REDIS=1, when it fails instead.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet

from helpwire.accounts import service as accounts
from helpwire.accounts.models import Role
from helpwire.assembly import database_for
from helpwire.db.engine import create_engine
from helpwire.housekeeping import job_registry
from helpwire.jobs.worker import recurring_key
from helpwire.settings import Settings
from tests.conftest import POSTGRES_URL, REQUIRE_POSTGRES, _postgres_reachable
from tests.notify.conftest import Receiver
from tests.ports import HELPWIRE, helpwire_serve, listening_socket, log_tail, url_of
from tests.reliability.crash_harness import fresh_postgres_database

REDIS_URL = os.environ.get("HELPWIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("HELPWIRE_REQUIRE_REDIS") == "1"
# A Redis database no other test uses. The counts of a token cannot collide (every token
# here is new), but those of an address can: the pool of refused credentials is counted
# per client address, and every test's client is 127.0.0.1.
REDIS_DATABASE = 13
WRITES = 4  # the write limit per token, per window
WINDOW = 3600  # so that the test does not straddle the edge of a window
FILE_BYTES = 1024 * 1024 + 4321  # three chunks in the database (DB_CHUNK is 512 KiB)
TICKETS = 4  # filed for the notifications, alternately through each `serve`
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
DELIVERY_TIMEOUT_S = 30.0


# --- what the deployment runs on ---------------------------------------------------------


async def _redis_unreachable(url: str) -> str | None:
    from coredis import Redis

    client: Redis[bytes] = Redis.from_url(url, connect_timeout=1.0)
    try:
        await client.ping()
        return None
    except Exception as exc:
        return f"Redis at {url} is not reachable: {exc.__class__.__name__}: {exc}"


def _skip_or_fail(reason: str | None, *, required: bool, variable: str) -> None:
    if reason is None:
        return
    if required:
        pytest.fail(f"{reason} ({variable}=1)")
    pytest.skip(reason)


@pytest.fixture
async def redis_url() -> str:
    url = urlsplit(REDIS_URL)._replace(path=f"/{REDIS_DATABASE}").geturl()
    reason = await _redis_unreachable(url)
    _skip_or_fail(reason, required=REQUIRE_REDIS, variable="HELPWIRE_REQUIRE_REDIS")
    return url


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """A new, migrated PostgreSQL database of this test's own."""
    reason = await _postgres_reachable()
    _skip_or_fail(reason, required=REQUIRE_POSTGRES, variable="HELPWIRE_REQUIRE_POSTGRES")
    async with fresh_postgres_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


# --- the people ------------------------------------------------------------------------


@dataclass
class Tokens:
    """An API token per purpose, so that each part of the test has write limits to itself
    (a token's writes are counted apart from every other token's)."""

    admin: str
    uploader: str
    limited: str
    filers: list[str]  # a customer's tokens, one per ticket filed for the notifications


async def seed(database_url: str) -> Tokens:
    """An admin and customers of one account, as the deploy step would make them."""
    engine = create_engine(Settings(database_url=database_url))
    try:
        async with database_for(engine).writing() as session:
            await accounts.create_account(session, key="acme", name="Acme Corp")

            async def person(username: str, role: Role, tokens: int = 1) -> list[str]:
                new = accounts.NewUser(
                    username=username,
                    role=role,
                    email=f"{username}@acme.test",
                    account_key=None if role == Role.ADMIN else "acme",
                )
                user = await accounts.create_user(session, new=new)
                return [(await accounts.create_token(session, user=user))[1] for _ in range(tokens)]

            (admin,) = await person("admin", Role.ADMIN)
            (uploader,) = await person("uploader", Role.CUSTOMER)
            (limited,) = await person("limited", Role.CUSTOMER)
            filers = await person("filer", Role.CUSTOMER, tokens=TICKETS)
    finally:
        await engine.dispose()
    return Tokens(admin=admin, uploader=uploader, limited=limited, filers=filers)


@pytest.fixture
async def tokens(database_url: str) -> Tokens:
    return await seed(database_url)


# --- the processes ---------------------------------------------------------------------


@dataclass
class Deployment:
    serve_a: str  # base URLs of the two `serve` processes
    serve_b: str
    processes: dict[str, subprocess.Popen[bytes]]
    logs: dict[str, Path]
    tokens: Tokens

    def log_tails(self) -> str:
        return "\n".join(f"--- {name}:\n{log_tail(path)}" for name, path in self.logs.items())


def shared_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment every process of the installation is given (docs/deployment.md)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPWIRE_")}
    env.update(
        HELPWIRE_DATABASE_URL=database_url,
        HELPWIRE_SECRET_KEY=Fernet.generate_key().decode(),
        HELPWIRE_FILES_STORAGE="database",
        HELPWIRE_REDIS_URL=redis_url,
        HELPWIRE_BASE_URL="http://helpwire.test",
        HELPWIRE_RELAY_IN_PROCESS="false",
        HELPWIRE_WORKER_IN_PROCESS="false",
        HELPWIRE_AUTO_MIGRATE="false",  # migrated once, before the processes start
        HELPWIRE_RATE_LIMIT_ENABLED="true",
        HELPWIRE_RATE_LIMIT_WRITES=str(WRITES),
        HELPWIRE_RATE_LIMIT_WINDOW_SECONDS=str(WINDOW),
        HELPWIRE_CHANNEL_ALLOWED_NETWORKS="127.0.0.0/8",  # where the test's receiver listens
        HELPWIRE_LOG_JSON="false",
        HELPWIRE_LOG_LEVEL="WARNING",
    )
    return env


@contextmanager
def helpwire_process(
    command: str, *, env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`helpwire relay` or `helpwire worker`, stopped with SIGTERM afterwards."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(HELPWIRE), command], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def deployment(
    redis_url: str, database_url: str, tokens: Tokens, tmp_path: Path
) -> Iterator[Deployment]:
    env = shared_env(database_url, redis_url)
    logs = {name: tmp_path / f"{name}.log" for name in ("serve-a", "serve-b", "relay", "worker")}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    urls: dict[str, str] = {}
    with ExitStack() as stack:
        for name in ("serve-a", "serve-b"):
            sock = listening_socket()
            urls[name] = url_of(sock)
            # A files directory of its own, as on a machine of its own: were the bytes
            # kept there, the other `serve` could not find them.
            own = {**env, "HELPWIRE_FILES_DIR": str(tmp_path / name / "files")}
            processes[name] = stack.enter_context(
                helpwire_serve(
                    sock,
                    env=own,
                    log_path=logs[name],
                    ready_timeout_s=START_TIMEOUT_S,
                    stop_timeout_s=STOP_TIMEOUT_S,
                )
            )
        for name in ("relay", "worker"):
            processes[name] = stack.enter_context(
                helpwire_process(name, env=env, log_path=logs[name])
            )
        yield Deployment(urls["serve-a"], urls["serve-b"], processes, logs, tokens)


# --- requests ------------------------------------------------------------------------


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def file_ticket(
    http: httpx.AsyncClient, base: str, token: str, **fields: Any
) -> dict[str, Any]:
    body = {"subject": "Something is wrong", "body": "Please help.", **fields}
    response = await http.post(f"{base}/api/v1/tickets", json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def until(condition: Callable[[], Awaitable[bool]], *, what: str, timeout_s: float) -> None:
    """Polls ``condition``: what other processes did is seen only from outside them."""
    deadline = time.monotonic() + timeout_s
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:.0f} s")
        await asyncio.sleep(0.1)


# --- the checks ------------------------------------------------------------------------


async def check_a_file_uploaded_to_one_downloads_from_the_other(
    http: httpx.AsyncClient, deployment: Deployment
) -> None:
    a, b, token = deployment.serve_a, deployment.serve_b, deployment.tokens.uploader
    content = secrets.token_bytes(FILE_BYTES)
    uploaded = await http.post(
        f"{a}/api/v1/files",
        files={"file": ("dump.bin", content, "application/octet-stream")},
        headers=auth(token),
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]
    ticket = await file_ticket(http, a, token, subject="With a dump", files=[file_id])

    downloaded = await http.get(f"{b}/api/v1/files/{file_id}", headers=auth(token))
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.content == content

    number = ticket["number"]
    read = await http.get(f"{b}/api/v1/tickets/{number}", headers=auth(token))
    assert read.status_code == 200, read.text
    assert read.json()["subject"] == "With a dump"
    comments = await http.get(f"{b}/api/v1/tickets/{number}/comments", headers=auth(token))
    assert comments.status_code == 200, comments.text
    attached = [f["id"] for c in comments.json()["items"] for f in c["files"]]
    assert attached == [file_id]


def writes_left(response: httpx.Response) -> int:
    """What the RateLimit header says is left of the write pool."""
    match = re.fullmatch(r'"write";r=(\d+);t=\d+', response.headers["RateLimit"])
    assert match, response.headers["RateLimit"]
    return int(match[1])


async def check_writes_are_limited_across_processes(
    http: httpx.AsyncClient, deployment: Deployment
) -> None:
    """WRITES writes, alternately through each `serve`, use up the one pool both count in."""
    token = deployment.tokens.limited
    servers = (deployment.serve_a, deployment.serve_b)
    answers = [
        await http.post(
            f"{servers[n % 2]}/api/v1/tickets",
            json={"subject": "One more", "body": "Again."},
            headers=auth(token),
        )
        for n in range(WRITES + 2)
    ]
    statuses = [answer.status_code for answer in answers]
    assert statuses == [201] * WRITES + [429, 429], [a.text for a in answers]
    assert [writes_left(answer) for answer in answers] == [*range(WRITES - 1, -1, -1), 0, 0]


async def create_webhook(
    http: httpx.AsyncClient, base: str, token: str, *, name: str, url: str
) -> int:
    """A channel of every event type (the default), sent to ``url``."""
    response = await http.post(
        f"{base}/api/v1/channels",
        json={"name": name, "kind": "webhook", "url": url},
        headers=auth(token),
    )
    assert response.status_code == 201, response.text
    channel_id: int = response.json()["id"]
    return channel_id


async def timeline(http: httpx.AsyncClient, base: str, token: str, number: int) -> list[str]:
    """The ids of the ticket's events that channels are sent (internal ones are not)."""
    response = await http.get(
        f"{base}/api/v1/tickets/{number}/events", params={"limit": 100}, headers=auth(token)
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    return [event["uid"] for event in page["items"] if not event["internal"]]


async def deliveries(
    http: httpx.AsyncClient, base: str, token: str, channel_id: int
) -> list[dict[str, Any]]:
    """The channel's delivery log, as the database holds it."""
    response = await http.get(
        f"{base}/api/v1/channels/{channel_id}/deliveries",
        params={"limit": 200},
        headers=auth(token),
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    items: list[dict[str, Any]] = page["items"]
    return items


async def relay_pids(http: httpx.AsyncClient, base: str, token: str, delivery_id: int) -> set[int]:
    """The processes that attempted the delivery (a relay is named host:pid:suffix)."""
    response = await http.get(f"{base}/api/v1/deliveries/{delivery_id}", headers=auth(token))
    assert response.status_code == 200, response.text
    return {int(attempt["relay"].split(":")[1]) for attempt in response.json()["attempts"]}


async def file_tickets_alternately(http: httpx.AsyncClient, deployment: Deployment) -> list[int]:
    """A ticket per filer token, filed through one `serve` and commented on through the
    other; their numbers."""
    a, b = deployment.serve_a, deployment.serve_b
    numbers = []
    for n, token in enumerate(deployment.tokens.filers):
        filed_on, answered_on = (a, b) if n % 2 == 0 else (b, a)
        number = (await file_ticket(http, filed_on, token, subject=f"Ticket {n}"))["number"]
        comment = await http.post(
            f"{answered_on}/api/v1/tickets/{number}/comments",
            json={"body": f"More about ticket {n}."},
            headers=auth(token),
        )
        assert comment.status_code == 201, comment.text
        numbers.append(number)
    return numbers


async def check_each_notification_arrives_once_per_channel(
    http: httpx.AsyncClient, deployment: Deployment, receiver: Receiver
) -> None:
    a, b, admin = deployment.serve_a, deployment.serve_b, deployment.tokens.admin
    # One channel made through each `serve`; the receiver tells them apart by path.
    paths = {
        await create_webhook(http, a, admin, name="one", url=f"{receiver.url}/one"): "/hook/one",
        await create_webhook(http, b, admin, name="two", url=f"{receiver.url}/two"): "/hook/two",
    }
    numbers = await file_tickets_alternately(http, deployment)
    events = [e for number in numbers for e in await timeline(http, b, admin, number)]
    assert len(events) >= 2 * TICKETS  # each ticket's creation and its comment
    expected = {(path, event) for path in paths.values() for event in events}

    def arrived() -> Counter[tuple[str, str]]:
        return Counter((r.path, r.json()["data"]["event"]["id"]) for r in list(receiver.requests))

    async def all_arrived() -> bool:
        return set(arrived()) >= expected

    async def all_recorded_delivered() -> bool:
        logs = [await deliveries(http, a, admin, channel_id) for channel_id in paths]
        return all(d["state"] == "delivered" for log in logs for d in log)

    await until(all_arrived, what="every event at each channel", timeout_s=DELIVERY_TIMEOUT_S)
    await until(all_recorded_delivered, what="deliveries marked delivered", timeout_s=10.0)
    received = arrived()
    assert set(received) == expected
    assert {pair: count for pair, count in received.items() if count != 1} == {}
    # Each message went out once, and was the one queued for its channel.
    sent = Counter((r.path, r.headers["webhook-id"]) for r in receiver.requests)
    assert set(sent.values()) == {1}
    queued = [
        (channel_id, d)
        for channel_id in paths
        for d in await deliveries(http, a, admin, channel_id)
    ]
    assert set(sent) == {(paths[channel_id], d["message_id"]) for channel_id, d in queued}
    # By the `helpwire relay` process: the `serve` processes run no relay.
    relay = deployment.processes["relay"].pid
    for _channel_id, delivery in queued:
        assert await relay_pids(http, b, admin, delivery["id"]) == {relay}


async def check_the_worker_schedules_the_housekeeping_once(
    http: httpx.AsyncClient, deployment: Deployment
) -> None:
    """The `worker` works on the database the `serve` processes answer from: the next run
    of each housekeeping job waits there, once (no `serve` runs a worker here)."""
    # The worker's own settings: PostgreSQL, so no SQLite statistics job among them.
    on_postgresql = Settings(job_plugins="", database_url="postgresql://helpwire@db/helpwire")
    kinds = set(job_registry(on_postgresql).recurring)

    async def waiting() -> list[str]:
        response = await http.get(
            f"{deployment.serve_b}/api/v1/jobs",
            params={"state": "pending", "limit": 200},
            headers=auth(deployment.tokens.admin),
        )
        assert response.status_code == 200, response.text
        return [job["key"] for job in response.json()["items"]]

    async def all_scheduled() -> bool:
        return set(await waiting()) >= {recurring_key(kind) for kind in kinds}

    await until(all_scheduled, what="the housekeeping scheduled", timeout_s=START_TIMEOUT_S)
    assert sorted(await waiting()) == sorted(recurring_key(kind) for kind in kinds)


# --- the test ------------------------------------------------------------------------


async def test_two_servers_a_relay_and_a_worker_share_one_postgresql_database(
    deployment: Deployment, receiver: Receiver
) -> None:
    async with httpx.AsyncClient(timeout=30.0) as http:
        try:
            await check_a_file_uploaded_to_one_downloads_from_the_other(http, deployment)
            await check_writes_are_limited_across_processes(http, deployment)
            await check_each_notification_arrives_once_per_channel(http, deployment, receiver)
            await check_the_worker_schedules_the_housekeeping_once(http, deployment)
        except (AssertionError, httpx.HTTPError) as failure:
            raise AssertionError(f"{failure}\n{deployment.log_tails()}") from failure
    stopped = {
        name: process.returncode
        for name, process in deployment.processes.items()
        if process.poll() is not None
    }
    assert stopped == {}, deployment.log_tails()
