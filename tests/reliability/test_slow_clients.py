"""`helpwire serve` bounds what a client may send before its request is read: a header
block over HELPWIRE_HTTP_MAX_HEADER_BYTES is refused 431 and the connection closed, and a
client that trickles its headers is cut off after HELPWIRE_HTTP_HEADER_TIMEOUT_SECONDS.

Raw sockets against a real server process: an HTTP client library would not misbehave."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.reliability.servers import Served, serve

HEADER_TIMEOUT_S = 1.0
# How long a test waits for the server to act before calling it a hang: far beyond the
# configured limits, so that a slow machine does not fail the test.
HANG_S = 30.0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("slow-clients")
    yield from serve(
        directory,
        database_url=f"sqlite+aiosqlite:///{directory / 'helpwire.db'}",
        env={"HELPWIRE_HTTP_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT_S)},
    )


def _connect(served: Served) -> socket.socket:
    host, port = served.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=HANG_S)


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as a
    close); a socket timeout (HANG_S) means it never did."""
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def _read_response(sock: socket.socket) -> bytes:
    """One whole answer: the head, then as many body bytes as Content-Length says (the
    server may write the head and the body in separate segments)."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {received + body!r}"
        body += chunk
    return head + b"\r\n\r\n" + body


def _send_ignoring_close(sock: socket.socket, data: bytes) -> None:
    # The server may refuse early and close: what the reader checks.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)


def test_a_megabyte_of_headers_is_refused_431_and_the_connection_closed(served: Served) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: helpwire.test\r\nX-Filler: " + b"a" * 1024 * 1024
    with _connect(served) as sock:
        # Sent from a thread while this one reads: the answer comes before the upload ends.
        sender = threading.Thread(target=_send_ignoring_close, args=(sock, request + b"\r\n\r\n"))
        sender.start()
        answer = _read_until_closed(sock)
        sender.join(timeout=HANG_S)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"connection: close" in answer.lower()


def test_headers_within_the_limit_are_served(served: Served) -> None:
    cookie = "c=" + "x" * 32 * 1024
    answer = httpx.get(served.url + "/healthz", headers={"Cookie": cookie}, timeout=HANG_S)
    assert answer.status_code == 200


def test_a_client_trickling_its_headers_is_cut_off(served: Served) -> None:
    with _connect(served) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: helpwire.test\r\n")
        answer = b""
        deadline = time.monotonic() + HANG_S
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                sock.sendall(b"X")  # one byte of a header line that never ends
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            # Waits for the server to answer or close, a quarter of a second at most.
            readable, _, _ = select.select([sock], [], [], 0.25)
            if readable:
                answer = _read_until_closed(sock)
                closed = True
        assert closed, "the server kept a trickling client"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer[:200]


def test_a_connection_that_sends_nothing_is_closed(served: Served) -> None:
    with _connect(served) as sock:
        assert _read_until_closed(sock) == b""


def test_a_kept_alive_connection_outlives_the_header_timeout(served: Served) -> None:
    """The timer is for the headers of one request, not for the connection's life: idle
    between requests, the keep-alive timeout (5 s) applies."""
    request = b"GET /healthz HTTP/1.1\r\nHost: helpwire.test\r\n\r\n"
    with _connect(served) as sock:
        sock.sendall(request)
        assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
        # Nothing to read for longer than the header timeout: the server does not close.
        readable, _, _ = select.select([sock], [], [], HEADER_TIMEOUT_S * 2)
        assert not readable
        sock.sendall(request)
        assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
