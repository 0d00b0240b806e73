"""Listening sockets for the servers the tests start (`helpwire serve`, SMTP receivers).

A test binds the socket itself, on a port the system picks, and keeps it from then on: no
port is probed free and closed again, which a test running in parallel (pytest -n) could
be handed in between. The socket listens before the server starts, so a client's connection
waits in its backlog until the server accepts it and is never refused by a server still
starting up. `helpwire serve --fd N` serves on such a socket, passed to it as a child's
file descriptor."""

from __future__ import annotations

import socket


def listening_socket() -> socket.socket:
    """A TCP socket on 127.0.0.1, on a port the system picked, already listening."""
    return socket.create_server(("127.0.0.1", 0))


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def serve_on(sock: socket.socket) -> list[str]:
    """`helpwire serve` arguments for serving on ``sock``; start the process with
    ``pass_fds=[sock.fileno()]`` so that the descriptor is there under the same number."""
    return ["serve", "--fd", str(sock.fileno())]
