"""The HTTP/1.1 protocol `helpwire serve` runs: uvicorn's h11 protocol with bounds on how
much, and how slowly, a client may send before its request is read.

uvicorn bounds neither by default: with httptools, a header block of any size is read, and
no implementation limits the time a client takes to send its headers (the keep-alive
timeout only runs between requests), so a client sending one byte a second holds a
connection, and its memory, for as long as it likes. h11 already refuses a request line
and headers over a set size (``h11_max_incomplete_event_size``, from
HELPWIRE_HTTP_MAX_HEADER_BYTES); this protocol adds

- a header timeout (HELPWIRE_HTTP_HEADER_TIMEOUT_SECONDS): a connection that has not sent
  a whole request line and header block within it, from its opening or from the first byte
  of its next request, is answered 408 and closed;
- the status h11 means for an oversized header block, 431, where uvicorn answers 400.

It also prepares a listening socket that `helpwire serve --fd` inherits.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from functools import cache

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from helpwire.settings import Settings

# The protocol class, by import path: uvicorn imports it in every worker process.
PROTOCOL = "helpwire.serving:GuardedH11Protocol"

_TIMEOUT_BODY = b"the request line and headers did not arrive in time\n"
REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\n"
    b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n\r\n" + _TIMEOUT_BODY
)
_TOO_LARGE_BODY = b"the request line and headers are larger than this server accepts\n"


def prepare_inherited_socket(fd: int) -> None:
    """Checks that ``fd`` is a socket, and turns Nagle's algorithm off on a TCP one.

    uvicorn opens an inherited descriptor as an AF_UNIX socket whatever it is, so asyncio
    does not set TCP_NODELAY on its connections as it does on sockets uvicorn binds itself;
    a response's head and body, written apart, would then wait for the client's delayed
    ACK, some 40 ms a request. Connections inherit the option from the listening socket.
    Raises OSError when ``fd`` is not a socket."""
    with socket.socket(fileno=os.dup(fd)) as sock:  # the real family, read from the socket
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@cache
def header_timeout() -> float:
    """Read once per process, from the same environment the application reads."""
    return Settings().http_header_timeout_seconds


class GuardedH11Protocol(H11Protocol):
    """One connection. The header timer runs while the client owes us a request's line
    and headers (h11's ``their_state`` is IDLE) and stops as soon as they are in."""

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        # The first bytes of a further request on a kept-alive connection start the clock.
        if self._header_timer is None and self.conn.their_state is h11.IDLE:
            self._arm_header_timer()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this from inside its `except h11.RemoteProtocolError`, and answers
        # every such error 400; h11's own hint tells an oversized header block (431).
        hint = getattr(sys.exception(), "error_status_hint", 400)
        if hint != 431:
            super().send_400_response(msg)
            return
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        response = h11.Response(
            status_code=431, headers=headers, reason=b"Request Header Fields Too Large"
        )
        for event in (response, h11.Data(data=_TOO_LARGE_BODY), h11.EndOfMessage()):
            output = self.conn.send(event)
            if output:
                self.transport.write(output)
        self.transport.close()

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self._header_timer = self.loop.call_later(header_timeout(), self._on_header_timeout)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _on_header_timeout(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        # A client that sent part of a request is told why; an idle one is just closed.
        if self.conn.trailing_data[0]:
            self.transport.write(REQUEST_TIMEOUT_RESPONSE)
        self.transport.close()
