"""Which exceptions mean "the database cannot be reached right now".

One place maps every driver's way of saying so: asyncpg's and the socket's connection
errors, SQLAlchemy's wrappers (a DBAPIError whose connection was invalidated, an
OperationalError or InterfaceError from the driver), timeouts waiting for a connection or
an answer, and SQLite files that cannot be opened, read or locked in time. Such a failure
is the service's, not the request's: it is answered 503 with Retry-After, and the next
request tries afresh (the pool drops dead connections), so service resumes by itself once
the database is back.
"""

from __future__ import annotations

import errno
import socket
import sqlite3

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import exc as sa_exc

# How long a client should wait before trying again, in seconds.
RETRY_AFTER_SECONDS = 5

# SQLite's words for a database it cannot use at the moment (the file is gone or
# unreadable, the disk failed, another process holds the write lock past the busy timeout).
_SQLITE_UNAVAILABLE = (
    "unable to open database",
    "disk i/o error",
    "database is locked",
    "database disk image is malformed",
    "readonly database",
)

# asyncpg's errors for a server that is shutting down, starting up or refusing connections.
_ASYNCPG_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.QueryCanceledError,  # also what a command timeout raises
)

_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)


def is_database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the database cannot be used now."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if _says_unavailable(current):
            return True
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
        if isinstance(current, sa_exc.DBAPIError) and current.orig is not None:
            pending.append(current.orig)
    return False


def _says_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True  # no pooled connection came free in time; a connection was lost
    if isinstance(exc, _ASYNCPG_UNAVAILABLE):
        return True
    if isinstance(exc, asyncpg.exceptions.InterfaceError) and "connection" in str(exc).lower():
        return "closed" in str(exc).lower()  # a pooled connection the server dropped
    if isinstance(exc, sqlite3.OperationalError | sa_exc.OperationalError):
        message = str(exc).lower()
        if any(words in message for words in _SQLITE_UNAVAILABLE):
            return True
    # Connecting: refused, reset, unreachable, no such host, or no answer within the connect
    # timeout. Other OS errors (a full disk under the file storage) are not the database's.
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    if isinstance(exc, FileNotFoundError) and _raised_by_the_driver_connecting(exc):
        return True  # PostgreSQL over a Unix socket: the socket file goes while it is down
    if isinstance(exc, OSError):
        # Several addresses tried (localhost: ::1 and 127.0.0.1) fail as one OSError.
        return exc.errno in _NETWORK_ERRNOS or str(exc).startswith("Multiple exceptions")
    return False


def _raised_by_the_driver_connecting(exc: BaseException) -> bool:
    """True when ``exc`` was raised inside asyncpg's connect code. A missing file means the
    database is away only there; elsewhere (a stored file gone) it is not the database's."""
    frame = exc.__traceback__
    while frame is not None:
        module = str(frame.tb_frame.f_globals.get("__name__", ""))
        if module.startswith("asyncpg.connect"):
            return True
        frame = frame.tb_next
    return False
