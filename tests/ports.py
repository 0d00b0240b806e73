"""Listening sockets for the servers the tests start (`helpwire serve`, SMTP receivers),
and `helpwire serve` started on one.

A test binds the socket itself, on a port the system picks, and keeps it from then on: no
port is probed free and closed again, which a test running in parallel (pytest -n) could
be handed in between. The socket listens before the server starts, so a client's connection
waits in its backlog until the server accepts it and is never refused by a server still
starting up. `helpwire serve --fd N` serves on such a socket, passed to it as a child's
file descriptor."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

HELPWIRE = Path(sys.executable).with_name("helpwire")
LOG_TAIL = 5000  # characters of a server's log shown when it fails to start


def listening_socket() -> socket.socket:
    """A TCP socket on 127.0.0.1, on a port the system picked, already listening."""
    return socket.create_server(("127.0.0.1", 0))


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{port_of(sock)}"


def serve_on(sock: socket.socket) -> list[str]:
    """`helpwire serve` arguments for serving on ``sock``; start the process with
    ``pass_fds=[sock.fileno()]`` so that the descriptor is there under the same number."""
    return ["serve", "--fd", str(sock.fileno())]


def log_tail(path: Path) -> str:
    return path.read_text(errors="replace")[-LOG_TAIL:]


@contextmanager
def helpwire_serve(
    sock: socket.socket,
    *,
    env: dict[str, str],
    log_path: Path,
    ready_timeout_s: float,
    stop_timeout_s: float,
) -> Iterator[subprocess.Popen[bytes]]:
    """`helpwire serve` on ``sock`` with ``env``, its output in ``log_path``: ready (its
    /readyz answers 200) when this yields, stopped afterwards. The server holds the socket
    from its start on; this process's copy is closed then."""
    url = url_of(sock)
    with sock, log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(HELPWIRE), *serve_on(sock)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=[sock.fileno()],
        )
    try:
        wait_until_ready(process, url, log_path, ready_timeout_s)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=stop_timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_ready(
    process: subprocess.Popen[bytes], url: str, log_path: Path, timeout_s: float
) -> None:
    """Polls /readyz: a starting process has no event to await from outside, nor does a
    database coming back. (The server's socket listens from the start, so a poll waits
    for an answer rather than being refused.)"""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("helpwire serve exited:\n" + log_tail(log_path))
        try:
            if httpx.get(url + "/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("helpwire serve did not become ready:\n" + log_tail(log_path))
