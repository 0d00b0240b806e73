"""The crash test's machinery: real `helpwire serve` (and `helpwire relay`) processes that
are killed with SIGKILL and started again, customers that keep filing tickets and comments
through it all, and the checks of what the database and the webhook receiver hold after.

Clients behave as a real client of the API would: each creating request carries an
Idempotency-Key, and a request that got no answer (the connection was refused or cut) is
sent again, with the same key and body, until it is answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import random
import signal
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from helpwire.accounts import service as accounts
from helpwire.accounts.models import Role
from helpwire.assembly import database_for
from helpwire.db.engine import create_engine
from helpwire.db.migrate import upgrade
from helpwire.settings import Settings
from tests.ports import serve_on, url_of

# Kills per run: at least 5 in the normal suite; `make soak` asks for more.
KILLS = int(os.environ.get("HELPWIRE_SOAK_KILLS", "5"))
CUSTOMERS = 4  # concurrent customer clients, each filing tickets and commenting on them
SECRET = "whsec_" + "Q" * 43 + "="
LEASE_S = 2.0  # a killed relay's claims come free after this long
READY_TIMEOUT_S = 60.0
ACK_TIMEOUT_S = 60.0
DRAIN_TIMEOUT_S = 120.0
REPORT = Path(
    os.environ.get(
        "HELPWIRE_SOAK_REPORT",
        str(Path(__file__).resolve().parents[2] / ".pytest_cache" / "helpwire-crash-report.json"),
    )
)


# --- the database ----------------------------------------------------------------------


@dataclass
class Tokens:
    customers: list[str]
    agent: str


async def seed(database_url: str) -> Tokens:
    """One account with customers and an agent, each with an API token."""
    engine = create_engine(Settings(database_url=database_url))
    database = database_for(engine)
    try:
        async with database.writing() as session:
            await accounts.create_account(session, key="acme", name="Acme Corp")
            customers = []
            for n in range(CUSTOMERS):
                user = await accounts.create_user(
                    session,
                    new=accounts.NewUser(
                        username=f"customer{n}",
                        role=Role.CUSTOMER,
                        email=f"customer{n}@acme.test",
                        account_key="acme",
                    ),
                )
                customers.append((await accounts.create_token(session, user=user))[1])
            agent = await accounts.create_user(
                session, new=accounts.NewUser(username="agent", role=Role.AGENT)
            )
            agent_token = (await accounts.create_token(session, user=agent))[1]
    finally:
        await engine.dispose()
    return Tokens(customers=customers, agent=agent_token)


@contextlib.asynccontextmanager
async def fresh_postgres_database(server_url: str) -> AsyncIterator[str]:
    """A new, migrated PostgreSQL database for one test; dropped afterwards."""
    admin_url = Settings(database_url=server_url).async_database_url
    name = f"helpwire_crash_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        engine = create_engine(Settings(database_url=url))
        await upgrade(engine)
        await engine.dispose()
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


# --- the processes ---------------------------------------------------------------------


@dataclass
class Fleet:
    """`helpwire serve` on one port, and with ``separate_relay`` a `helpwire relay` beside
    it; both are started in sessions of their own so that SIGKILL reaches only them.

    The test holds the listening socket (tests/ports.py) and each start of `helpwire serve`
    inherits it, so the port stays the test's across kills; a connection made while no
    server runs waits in the socket's backlog for the next one, as with socket activation."""

    env: dict[str, str]
    sock: socket.socket
    workdir: Path
    separate_relay: bool
    server: asyncio.subprocess.Process | None = None
    relay: asyncio.subprocess.Process | None = None
    starts: int = 0
    starting_seconds: float = 0.0  # spent starting processes until /readyz answered

    @property
    def url(self) -> str:
        return url_of(self.sock)

    async def _spawn(
        self, *args: str, pass_fds: tuple[int, ...] = ()
    ) -> asyncio.subprocess.Process:
        helpwire = Path(sys.executable).with_name("helpwire")
        log = (self.workdir / f"{args[0]}.log").open("ab")
        log.write(f"\n--- start {self.starts} ---\n".encode())
        log.flush()
        try:
            return await asyncio.create_subprocess_exec(
                str(helpwire),
                *args,
                env=self.env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                pass_fds=pass_fds,
            )
        finally:
            log.close()

    async def start(self) -> None:
        self.starts += 1
        began = time.monotonic()
        self.server = await self._spawn(*serve_on(self.sock), pass_fds=(self.sock.fileno(),))
        if self.separate_relay:
            self.relay = await self._spawn("relay")
        await self._until_ready()
        self.starting_seconds += time.monotonic() - began

    async def _until_ready(self) -> None:
        """Polls /readyz: a starting process has no event to await from outside."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        async with httpx.AsyncClient(timeout=2.0) as probe:
            while time.monotonic() < deadline:
                assert self.server is not None
                if self.server.returncode is not None:
                    raise AssertionError("helpwire serve exited:\n" + self.logs())
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get(self.url + "/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise AssertionError("helpwire serve did not become ready:\n" + self.logs())

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine loses power."""
        for process in (self.server, self.relay):
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()

    async def stop(self) -> None:
        for process in (self.relay, self.server):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), timeout=20)
                except TimeoutError:
                    await self.kill()

    def logs(self) -> str:
        parts = []
        for name in ("serve", "relay"):
            path = self.workdir / f"{name}.log"
            if path.exists():
                parts.append(f"== {name} ==\n" + path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)


def process_env(
    *, database_url: str, workdir: Path, port: int, receiver_url: str, separate_relay: bool
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPWIRE_")}
    channel = {
        "name": "crash-hook",
        "kind": "webhook",
        "url": receiver_url,
        "secret": SECRET,
        "max_concurrency": 8,
        "rate_per_second": 1000,
    }
    env.update(
        HELPWIRE_DATABASE_URL=database_url,
        HELPWIRE_FILES_DIR=str(workdir / "files"),
        # Shared by the serve and relay processes; in the test's directory, not the
        # working directory (where it would go on PostgreSQL).
        HELPWIRE_SECRET_KEY_FILE=str(workdir / "helpwire-secret.key"),
        HELPWIRE_BASE_URL=f"http://127.0.0.1:{port}",
        HELPWIRE_LOG_JSON="false",
        HELPWIRE_LOG_LEVEL="WARNING",
        HELPWIRE_CHANNELS=json.dumps([channel]),
        # The receiver is on this machine: a deployment's guard against loopback targets
        # must let it through.
        HELPWIRE_CHANNEL_ALLOWED_NETWORKS="127.0.0.1/32",
        # Five clients filing as fast as they can would meet the per-token write limit
        # within a minute; the limits are not what this test is about, so they are wide.
        HELPWIRE_RATE_LIMIT_WRITES="1000000",
        HELPWIRE_RATE_LIMIT_READS="1000000",
        HELPWIRE_RELAY_IN_PROCESS="false" if separate_relay else "true",
        HELPWIRE_RELAY_LEASE_SECONDS=str(LEASE_S),
        # A relay in its own process hears of SQLite commits only by polling.
        HELPWIRE_RELAY_POLL_SECONDS="0.2",
    )
    return env


# --- the clients -----------------------------------------------------------------------


@dataclass
class Ack:
    """A request that got a 2xx: what was sent and what came back."""

    kind: str  # "ticket" | "comment"
    user: int  # index of the customer, or -1 for the agent
    key: str
    sent: dict[str, Any]
    answer: dict[str, Any]
    replayed: bool


@dataclass
class Ledger:
    acks: list[Ack] = field(default_factory=list)
    attempts: int = 0
    refused: int = 0  # the server was down: the request never reached it
    cut: int = 0  # sent, and the connection died before an answer
    unexpected: list[str] = field(default_factory=list)  # any answer but a 2xx
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def record(self, ack: Ack) -> None:
        async with self.changed:
            self.acks.append(ack)
            self.changed.notify_all()

    async def wait_for_acks(self, count: int) -> None:
        async with self.changed:
            await asyncio.wait_for(
                self.changed.wait_for(lambda: len(self.acks) >= count), ACK_TIMEOUT_S
            )


@dataclass
class Client:
    http: httpx.AsyncClient
    ledger: Ledger
    token: str
    user: int

    async def create(self, kind: str, url: str, body: dict[str, Any], key: str) -> Ack | None:
        """POST until answered; None if the answer was not a 2xx (recorded as unexpected)."""
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}
        backoff = 0.02
        while True:
            self.ledger.attempts += 1
            try:
                response = await self.http.post(url, json=body, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                self.ledger.refused += 1
            except httpx.TransportError:
                self.ledger.cut += 1
            else:
                if response.is_success:
                    ack = Ack(
                        kind=kind,
                        user=self.user,
                        key=key,
                        sent=body,
                        answer=response.json(),
                        replayed=response.headers.get("Idempotent-Replayed") == "true",
                    )
                    await self.ledger.record(ack)
                    return ack
                self.ledger.unexpected.append(f"{key}: {response.status_code} {response.text}")
                if response.status_code < 500 and response.status_code != 429:
                    return None
            # A client's back-off before it tries again, as any API client does.
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 0.25)


async def customer_loop(client: Client, *, rng: random.Random, stop: asyncio.Event) -> None:
    """Files a ticket, comments on it zero to two times, and again, until ``stop``."""
    n = 0
    while not stop.is_set():
        n += 1
        key = f"c{client.user}-t{n}-{uuid.uuid4().hex[:8]}"
        body = {"subject": f"Crash test {key}", "body": f"Ticket {key}: the printer is on fire."}
        ticket = await client.create("ticket", "/api/v1/tickets", body, key)
        if ticket is None:
            return
        number = ticket.answer["number"]
        for m in range(rng.randint(0, 2)):
            comment_key = f"{key}-r{m}"
            comment = {"body": f"Comment {comment_key}: still burning ({rng.random():.6f})."}
            url = f"/api/v1/tickets/{number}/comments"
            if await client.create("comment", url, comment, comment_key) is None:
                return


async def agent_loop(client: Client, *, rng: random.Random, stop: asyncio.Event) -> None:
    """Replies to tickets the customers filed (a first reply also opens the ticket)."""
    n = 0
    while not stop.is_set():
        tickets = [a.answer["number"] for a in client.ledger.acks if a.kind == "ticket"]
        if not tickets:
            async with client.ledger.changed:
                await client.ledger.changed.wait()
            continue
        n += 1
        key = f"agent-r{n}-{uuid.uuid4().hex[:8]}"
        number = rng.choice(tickets)
        comment = {"body": f"Reply {key}: we are on it."}
        if (
            await client.create("comment", f"/api/v1/tickets/{number}/comments", comment, key)
            is None
        ):
            return


# --- the checks ------------------------------------------------------------------------


@dataclass
class Stored:
    tickets: dict[int, tuple[str, int]]  # number -> (subject, id)
    comments: dict[int, tuple[int, str]]  # id -> (ticket id, body)
    first_comment: dict[int, int]  # ticket id -> id of its first comment
    counter: int  # the highest ticket number handed out
    events: list[tuple[int, str, bool]]  # (id, type, internal)
    deliveries: list[tuple[int | None, str, str]]  # (event id, message id, state)
    # SQLite's counter gives a rolled-back number back; PostgreSQL's sequence does not, so
    # a create killed after taking its number leaves a gap there.
    gap_free: bool


async def read_stored(engine: AsyncEngine) -> Stored:
    async with engine.connect() as conn:

        async def rows(sql: str) -> list[Any]:
            return list((await conn.execute(text(sql))).tuples().all())

        tickets = {n: (s, i) for n, s, i in await rows("SELECT number, subject, id FROM tickets")}
        comments = {i: (t, b) for i, t, b in await rows("SELECT id, ticket_id, body FROM comments")}
        first = dict(await rows("SELECT ticket_id, min(id) FROM comments GROUP BY ticket_id"))
        if conn.dialect.name == "postgresql":
            # A sequence (db/counters.py): its number is spent even when the create is not.
            last, called = (await rows("SELECT last_value, is_called FROM ticket_number_seq"))[0]
            counter = last if called else 0
        else:
            counter = (
                await conn.execute(text("SELECT value FROM counters WHERE name = 'ticket_number'"))
            ).scalar_one()
        events = [
            (i, t, bool(x)) for i, t, x in await rows("SELECT id, type, internal FROM events")
        ]
        deliveries = await rows("SELECT event_id, message_id, state FROM deliveries")
    gap_free = conn.dialect.name == "sqlite"
    return Stored(tickets, comments, first, int(counter), events, deliveries, gap_free)


async def wait_for_drain(engine: AsyncEngine, received: Callable[[], Counter[str]]) -> None:
    """Until the relay has nothing left to send and the receiver has every message. The
    relay's progress is visible only in the database and at the receiver, so both are
    polled, within a bound."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while True:
        stored = await read_stored(engine)
        arrived = received()
        waiting = [m for _e, m, s in stored.deliveries if s != "delivered" or m not in arrived]
        if not waiting:
            return
        if time.monotonic() > deadline:
            states = Counter(s for _e, _m, s in stored.deliveries)
            raise AssertionError(f"{len(waiting)} deliveries not delivered: {dict(states)}")
        await asyncio.sleep(0.2)


def check_requests(ledger: Ledger, stored: Stored) -> tuple[list[str], int]:
    """Every acknowledged request is there, whole, once; nothing else is there. The
    problems, and how many acknowledged requests were found as sent."""
    problems: list[str] = []
    found = 0
    tickets = [a for a in ledger.acks if a.kind == "ticket"]
    comments = [a for a in ledger.acks if a.kind == "comment"]
    subjects = Counter(s for s, _i in stored.tickets.values())
    bodies = Counter(b for _t, b in stored.comments.values())
    ticket_ids = {n: i for n, (_s, i) in stored.tickets.items()}
    for ack in tickets:
        number = ack.answer["number"]
        if number not in stored.tickets:
            problems.append(f"ticket {number} ({ack.key}) was acknowledged and is missing")
            continue
        subject, ticket_id = stored.tickets[number]
        first = stored.comments.get(stored.first_comment.get(ticket_id, -1))
        if subject != ack.sent["subject"] or first is None or first[1] != ack.sent["body"]:
            problems.append(f"ticket {number} ({ack.key}) is not as sent: {subject!r}, {first!r}")
        else:
            found += 1
        if subjects[ack.sent["subject"]] != 1:
            problems.append(f"{ack.key} made {subjects[ack.sent['subject']]} tickets")
    for ack in comments:
        stored_comment = stored.comments.get(ack.answer["id"])
        expected = (ticket_ids.get(ack.answer["ticket_number"]), ack.sent["body"])
        if stored_comment != expected:
            problems.append(f"comment {ack.answer['id']} ({ack.key}) is {stored_comment!r}")
        else:
            found += 1
        if bodies[ack.sent["body"]] != 1:
            problems.append(f"{ack.key} made {bodies[ack.sent['body']]} comments")
    if len(stored.tickets) != len(tickets):
        problems.append(f"{len(stored.tickets)} tickets stored, {len(tickets)} acknowledged")
    if len(stored.comments) != len(tickets) + len(comments):
        problems.append(
            f"{len(stored.comments)} comments stored, {len(tickets) + len(comments)} acknowledged"
        )
    problems += _number_problems(stored)
    return problems, found


def _number_problems(stored: Stored) -> list[str]:
    numbers = sorted(stored.tickets)
    if stored.gap_free:
        if numbers != list(range(1, len(numbers) + 1)) or stored.counter != len(numbers):
            return [f"ticket numbers are not 1..{len(numbers)}: counter {stored.counter}"]
        return []
    # Distinct by the unique index; none beyond what the sequence handed out.
    if numbers and (numbers[0] < 1 or numbers[-1] > stored.counter):
        return [
            f"ticket numbers {numbers[0]}..{numbers[-1]} beyond the sequence's {stored.counter}"
        ]
    return []


async def check_replays(clients: dict[int, Client], ledger: Ledger) -> list[str]:
    """Each acknowledged request, sent again with its key, answers what it answered first
    (marked as a replay) and creates nothing."""
    problems: list[str] = []
    for ack in list(ledger.acks):
        client = clients[ack.user]
        url = (
            "/api/v1/tickets"
            if ack.kind == "ticket"
            else f"/api/v1/tickets/{ack.answer['ticket_number']}/comments"
        )
        response = await client.http.post(
            url,
            json=ack.sent,
            headers={"Authorization": f"Bearer {client.token}", "Idempotency-Key": ack.key},
        )
        if (
            not response.is_success
            or response.json() != ack.answer
            or response.headers.get("Idempotent-Replayed") != "true"
        ):
            problems.append(f"{ack.key} sent again: {response.status_code} {response.text[:300]}")
    return problems


def check_deliveries(stored: Stored, received: Counter[str]) -> list[str]:
    """Every event the channel wants has one delivery, sent at least once, and nothing
    arrived that the outbox did not hold."""
    problems: list[str] = []
    by_event = Counter(e for e, _m, _s in stored.deliveries)
    for event_id, event_type, internal in stored.events:
        expected = 0 if internal else 1
        if by_event[event_id] != expected:
            problems.append(f"event {event_id} ({event_type}) has {by_event[event_id]} deliveries")
    queued = {m for _e, m, _s in stored.deliveries}
    problems += [f"{m} queued, never received" for m in queued - set(received)]
    problems += [f"{m} received, never queued" for m in set(received) - queued]
    return problems


# --- the figures -----------------------------------------------------------------------


@dataclass
class Figures:
    run: str
    seed: int
    kills: int
    requests_acknowledged: int
    requests_found: int
    replays_checked: int
    tickets: int
    comments: int
    retries: int
    answers_lost_in_flight: int
    replayed_answers: int
    unexpected_answers: int
    events: int
    deliveries: int
    deliveries_received: int
    received_more_than_once: int
    seconds: float
    finished_at: str = field(
        default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    )


def figures(
    *,
    run: str,
    seed: int,
    kills: int,
    ledger: Ledger,
    stored: Stored,
    received: Counter[str],
    found: int,
    seconds: float,
) -> Figures:
    acked = len(ledger.acks)
    return Figures(
        run=run,
        seed=seed,
        kills=kills,
        requests_acknowledged=acked,
        requests_found=found,
        replays_checked=acked,
        tickets=sum(1 for a in ledger.acks if a.kind == "ticket"),
        comments=sum(1 for a in ledger.acks if a.kind == "comment"),
        retries=ledger.attempts - acked - len(ledger.unexpected),
        answers_lost_in_flight=ledger.cut,
        replayed_answers=sum(1 for a in ledger.acks if a.replayed),
        unexpected_answers=len(ledger.unexpected),
        events=len(stored.events),
        deliveries=len(stored.deliveries),
        deliveries_received=sum(1 for m in {m for _e, m, _s in stored.deliveries} if m in received),
        received_more_than_once=sum(1 for c in received.values() if c > 1),
        seconds=round(seconds, 1),
    )


def report(result: Figures) -> None:
    """Prints the figures and adds them to the JSON summary (shared by parallel workers)."""
    print(f"\ncrash run {result.run}: " + json.dumps(asdict(result)))
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with REPORT.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        try:
            runs = json.loads(handle.read() or "{}")
        except json.JSONDecodeError:
            runs = {}
        runs[result.run] = asdict(result)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(runs, indent=2, sort_keys=True) + "\n")
