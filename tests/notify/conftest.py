"""Real receivers for notifications: an HTTP server and an SMTP server on localhost, each in
a thread of its own so that they answer whatever the test's event loop is doing."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from helpwire.db.session import Database
from helpwire.notify.outbound import AddressPolicy
from helpwire.notify.relay import Relay
from tests.ports import listening_socket, port_of


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"


class Receiver:
    """Answers each POST with the next scripted Answer (200 once the script runs out), and
    keeps every request. ``hold`` keeps answers back until ``release``."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: list[Answer] = []
        self._cond = threading.Condition()
        self._release = threading.Event()
        self._release.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with receiver._cond:
                    receiver.requests.append(
                        Received(
                            "POST", self.path, dict(self.headers.items()), body, time.monotonic()
                        )
                    )
                    answer = receiver.script.pop(0) if receiver.script else Answer()
                    receiver._cond.notify_all()
                receiver._release.wait(timeout=60)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def answer(self, *answers: Answer) -> None:
        with self._cond:
            self.script.extend(answers)

    def hold(self) -> None:
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    async def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Until ``count`` requests have arrived (an event, not a sleep)."""

        def wait() -> bool:
            with self._cond:
                return self._cond.wait_for(lambda: len(self.requests) >= count, timeout=timeout)

        if not await asyncio.to_thread(wait):
            raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
        return list(self.requests)

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self._cond = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._cond:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    async def wait_for(self, count: int, timeout: float = 30.0) -> list[tuple[list[str], Message]]:
        def wait() -> bool:
            with self._cond:
                return self._cond.wait_for(lambda: len(self.messages) >= count, timeout=timeout)

        if not await asyncio.to_thread(wait):
            raise AssertionError(f"expected {count} messages, got {len(self.messages)}")
        return list(self.messages)


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox


class _ControllerOnSocket(Controller):
    """aiosmtpd's controller on a socket the test bound (tests/ports.py). aiosmtpd binds
    host and port itself and then connects to that port to see the server answer, so it
    cannot be given port 0; it is given the port of the socket instead, and serves on the
    socket."""

    def __init__(self, handler: Mailbox, sock: socket.socket) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=port_of(sock))
        self._sock = sock

    def _create_server(self) -> Coroutine[Any, Any, asyncio.Server]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    # The server closes the socket when it stops.
    controller = _ControllerOnSocket(mailbox, listening_socket())
    controller.start()
    try:
        yield SmtpServer(host="127.0.0.1", port=controller.port, mailbox=mailbox)
    finally:
        controller.stop()


class FakeClock:
    """The relay's clock, moved by hand so that retry schedules need no waiting."""

    def __init__(self) -> None:
        # A minute ahead of the real clock: events the test makes now are due at once.
        self.now = datetime.now(UTC) + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def make_relay(database: Database) -> AsyncIterator[Callable[..., Relay]]:
    """Relays on the test's database, closed at the end; pass clock=, rng=, lease=..."""
    relays: list[Relay] = []

    def make(**options: Any) -> Relay:
        # The receivers listen on loopback, which only an allow-list opens.
        options.setdefault("policy", AddressPolicy(["127.0.0.0/8", "::1", "localhost"]))
        relay = Relay(database, base_url="http://helpwire.test", **options)
        relays.append(relay)
        return relay

    yield make
    for relay in relays:
        await relay.aclose()
