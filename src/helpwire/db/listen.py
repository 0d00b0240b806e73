"""Wake-ups across processes: PostgreSQL LISTEN, kept open for as long as a loop runs.

The relay and the job worker each wait for commits of other processes on a NOTIFY channel of
their own. A database restart or failover drops the listening connection; without a new one
the loop would only poll until restarted. A lost connection is opened again with backoff
(logged once per outage), and once it is back the loop is woken at once: the NOTIFYs sent
meanwhile went to no one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from helpwire.db.session import Database
from helpwire.db.subscribers import subscribers_of

# A quiet connection is checked this often (a dropped connection whose socket never said so
# is noticed too), within the timeout; a lost one is opened again after a wait that doubles
# from the first to the longest.
KEEPALIVE_S = 30.0
KEEPALIVE_TIMEOUT_S = 10.0
RETRY_FIRST_S = 0.5
RETRY_LONGEST_S = 30.0
JITTER = 0.1  # each wait is stretched or shrunk by up to 10%, so reconnects do not stampede


async def wake_after_commit(session: AsyncSession, *, signal_name: str, channel: str) -> None:
    """Make sure the loops waiting for ``signal_name`` hear of this transaction once it
    commits: this process's through the Database's signal, others through a NOTIFY on
    ``channel`` (PostgreSQL), which carries the Database's sender token so that its own
    loops pass over it (see _listen). Once per transaction and name."""
    subscribers = subscribers_of(session)
    if not subscribers.wake_after_commit(session, signal_name):
        return
    if session.bind.dialect.name == "postgresql":
        # Transactional: PostgreSQL delivers it at commit, and never on rollback.
        await session.execute(
            text("SELECT pg_notify(:channel, :sender)"),
            {"channel": channel, "sender": subscribers.sender},
        )


async def wait_any(*events: asyncio.Event, seconds: float) -> None:
    """Until one of the events is set, or ``seconds`` have passed."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def keep_listening(
    database: Database,
    *,
    channel: str,
    wake: asyncio.Event,
    stop: asyncio.Event,
    log: logging.Logger,
    who: dict[str, str],
) -> None:
    """LISTEN on ``channel`` (PostgreSQL only), setting ``wake`` on each NOTIFY, until
    ``stop`` is set. Outages go to the loop's own ``log``, with ``who`` naming it."""
    rng = random.Random()  # noqa: S311 (jitter, not cryptography)
    retry_s = RETRY_FIRST_S
    outage = False
    while not stop.is_set():
        lost = asyncio.Event()
        try:
            listener = await _listen(database, channel=channel, wake=wake, lost=lost)
        except Exception as exc:
            if not outage:
                log.warning(
                    "LISTEN failed; polling until it works again",
                    extra={**who, "error": f"{exc.__class__.__name__}: {exc}"},
                )
                outage = True
            await wait_any(stop, seconds=retry_s * (1 + rng.uniform(-JITTER, JITTER)))
            retry_s = min(retry_s * 2, RETRY_LONGEST_S)
            continue
        if outage:
            log.info("LISTEN connection restored", extra=who)
            wake.set()  # a pass for what was committed during the outage
        outage, retry_s = False, RETRY_FIRST_S
        try:
            await _until_lost(listener, lost, stop)
        finally:
            await _discard(listener)
        if not stop.is_set():
            log.warning("LISTEN connection lost; reconnecting, polling meanwhile", extra=who)
            outage = True


async def _listen(
    database: Database, *, channel: str, wake: asyncio.Event, lost: asyncio.Event
) -> AsyncConnection:
    """A connection that LISTENs, setting ``wake`` on each NOTIFY and ``lost`` when it
    closes."""
    conn = await database.engine.connect()
    try:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        driver = await _driver(conn)
        own = database.subscribers.sender

        def heard(_connection: Any, _pid: int, _channel: str, sender: str) -> None:
            # This Database's own commits have set the signal already.
            if sender != own:
                wake.set()

        await driver.add_listener(channel, heard)
        driver.add_termination_listener(lambda *_args: lost.set())
    except BaseException:
        await _discard(conn)
        raise
    return conn


async def _driver(conn: AsyncConnection) -> Any:
    """The asyncpg connection under ``conn``."""
    raw = await conn.get_raw_connection()
    return raw.driver_connection


async def _until_lost(conn: AsyncConnection, lost: asyncio.Event, stop: asyncio.Event) -> None:
    """Until the connection is lost (closed, or failing its keep-alive) or the loop stops."""
    driver = await _driver(conn)
    while not stop.is_set() and not lost.is_set() and not driver.is_closed():
        await wait_any(lost, stop, seconds=KEEPALIVE_S)
        if stop.is_set() or lost.is_set():
            return
        try:
            await driver.execute("SELECT 1", timeout=KEEPALIVE_TIMEOUT_S)
        except Exception:
            return


async def _discard(conn: AsyncConnection) -> None:
    """Closes a LISTEN connection for good rather than pooling it, listeners and all."""
    with contextlib.suppress(Exception):
        await conn.invalidate()
    with contextlib.suppress(Exception):
        await conn.close()


async def run_woken(
    database: Database,
    *,
    signal_name: str,
    channel: str,
    one_pass: Callable[[], Awaitable[float]],
    poll_interval: float,
    stop: asyncio.Event,
    log: logging.Logger,
    who: dict[str, str],
) -> None:
    """Runs ``one_pass`` until ``stop`` is set: again when a commit in this process sets the
    Database's ``signal_name``, when another process NOTIFYs ``channel`` (PostgreSQL), or
    after the seconds the pass returned. A failed pass is logged and tried again after
    ``poll_interval``: the database may be away for a while."""
    signal = database.subscribers.signal(signal_name)
    wake = signal.subscribe()
    listening = None
    if database.engine.dialect.name == "postgresql":
        listening = asyncio.create_task(
            keep_listening(database, channel=channel, wake=wake, stop=stop, log=log, who=who)
        )
    try:
        while not stop.is_set():
            wake.clear()
            try:
                timeout = await one_pass()
            except Exception:
                log.exception("pass failed; trying again shortly", extra=who)
                timeout = poll_interval
            await wait_any(wake, stop, seconds=timeout)
    finally:
        signal.unsubscribe(wake)
        if listening is not None:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
