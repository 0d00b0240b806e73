"""Waking relays the moment an outbox write commits.

In one process: an asyncio.Event per running relay, set from SQLAlchemy's after_commit
hook. Across processes (PostgreSQL): the writing transaction also sends
NOTIFY helpwire_outbox, which PostgreSQL delivers at commit, and relays LISTEN for it.
Relays also poll, so a lost wake-up only delays a delivery, never loses it; a LISTEN
connection the database dropped is opened again by the relay (relay.py), followed by a
claim pass for what was committed meanwhile.
"""

from __future__ import annotations

import asyncio
import threading

PG_CHANNEL = "helpwire_outbox"


class WakeSignal:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def subscribe(self) -> asyncio.Event:
        event = asyncio.Event()
        with self._lock:
            self._waiters.append((asyncio.get_running_loop(), event))
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        with self._lock:
            self._waiters = [(loop, e) for loop, e in self._waiters if e is not event]

    def wake_all(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)


outbox_signal = WakeSignal()
