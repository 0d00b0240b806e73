"""Real receivers for notifications: an HTTP server and an SMTP server on localhost, each in
a thread of its own so that they answer whatever the test's event loop is doing."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

# Shared with the tests of mail to customers (tests/mail); imported here as fixtures.
from tests.mailservers import Mailbox, SmtpServer, smtp_server  # noqa: F401
from tests.relays import FakeClock, clock, make_relay  # noqa: F401


class _ReceiverServer(ThreadingHTTPServer):
    # The standard library listens with a backlog of 5: twenty sends at once overflowed
    # it, and on a busy machine a connection retried past the sender's connect timeout.
    request_queue_size = 128


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

        self.server = _ReceiverServer(("127.0.0.1", 0), Handler)
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
