"""A real SMTP server on localhost (aiosmtpd) in a thread of its own, keeping what it is
sent: the receiver of notification e-mail and of mail to customers in tests."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.ports import listening_socket, port_of


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.raw: list[bytes] = []  # each message's bytes as they came
        # How many of the next messages to turn away with a temporary failure.
        self.refuse_next = 0
        self._cond = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._cond:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return "451 4.3.0 Try again later"
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
            self.raw.append(bytes(envelope.content))
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
