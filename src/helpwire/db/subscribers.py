"""Subscribers: who hears of a ticket's events, inside the event's own transaction.

``tickets.events.record`` hands every event it writes to the subscribers registered for the
event's type (notifications through the outbox today; SLA clocks, triggers and mail later).
A subscriber writes its rows in the same session, so a transaction that rolls back takes
them with it.

The registry belongs to one assembled ``Database`` (see ``helpwire.assembly``), never to
the process: its session factories put it in each session's ``info``, and listeners on the
Database's own session class wake this Database's waiters after a commit and drop what a
transaction cached. A session made without a registry cannot record events (``record``
refuses it), so a forgotten registration fails loudly instead of dropping notifications.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Awaitable, Iterable
from typing import Any, Protocol

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

SUBSCRIBERS_KEY = "helpwire.subscribers"
_STATE_KEY = "helpwire.subscribers.transaction"
_WAKE_KEY = "helpwire.subscribers.wake"


class Subscriber(Protocol):
    """Called with the session, the new Event row and its Ticket; writes, never commits."""

    def __call__(self, session: AsyncSession, *, event: Any, ticket: Any) -> Awaitable[object]: ...


class WakeSignal:
    """Wakes waiters in this process (any event loop, any thread) when set."""

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


class Subscribers:
    """Event type -> subscribers, plus named wake-up signals set after a commit."""

    def __init__(self) -> None:
        self._by_type: dict[str, list[Subscriber]] = {}
        self._for_all: list[Subscriber] = []
        self._signals: dict[str, WakeSignal] = {}
        self._lock = threading.Lock()
        # Sent as the payload of this Database's NOTIFYs: its own loops, already woken by
        # the signal, pass over them (db/listen.py) rather than make a second, empty pass.
        self.sender = secrets.token_hex(8)

    def subscribe(self, subscriber: Subscriber, *, types: Iterable[str] | None = None) -> None:
        """Register ``subscriber`` for ``types``, or for every event type when None."""
        if types is None:
            self._for_all.append(subscriber)
            return
        for type_ in types:
            self._by_type.setdefault(type_, []).append(subscriber)

    def for_type(self, type_: str) -> list[Subscriber]:
        return [*self._for_all, *self._by_type.get(type_, [])]

    def signal(self, name: str) -> WakeSignal:
        """The wake-up signal called ``name`` (made on first use)."""
        with self._lock:
            return self._signals.setdefault(name, WakeSignal())

    # --- per transaction ---------------------------------------------------------------

    def wake_after_commit(self, session: AsyncSession, name: str) -> bool:
        """Set the signal ``name`` once this session's transaction commits (never if it rolls
        back). True the first time in this transaction."""
        names: set[str] = session.info.setdefault(_WAKE_KEY, set())
        if name in names:
            return False
        names.add(name)
        return True

    @staticmethod
    def transaction_state(session: AsyncSession) -> dict[str, Any]:
        """A dict for caching within this transaction; emptied at commit and at rollback."""
        state: dict[str, Any] = session.info.setdefault(_STATE_KEY, {})
        return state

    def install(self, session_class: type[Session]) -> None:
        """Listen on ``session_class`` (a class of the Database's own) for commit/rollback."""
        sa_event.listen(session_class, "after_commit", self._after_commit)
        sa_event.listen(session_class, "after_soft_rollback", self._after_rollback)

    def _after_commit(self, session: Session) -> None:
        session.info.pop(_STATE_KEY, None)
        for name in session.info.pop(_WAKE_KEY, ()):
            self.signal(name).wake_all()

    def _after_rollback(self, session: Session, _previous: Any) -> None:
        session.info.pop(_STATE_KEY, None)
        session.info.pop(_WAKE_KEY, None)


def subscribers_of(session: AsyncSession) -> Subscribers:
    """The registry of the Database that made ``session``; refuses a session made without."""
    found = session.info.get(SUBSCRIBERS_KEY)
    if not isinstance(found, Subscribers):
        raise RuntimeError(
            "this session has no subscribers: make sessions through a Database built with "
            "helpwire.assembly (events would be written without their notifications)"
        )
    return found
