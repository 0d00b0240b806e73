"""Putting the process together: which subscribers hear of recorded events.

Every place that builds a Database (the app, the relay, the CLI, the demo, tests and
benchmarks) goes through :func:`database_for`, so no assembly forgets a subscriber and
silently drops notifications.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from helpwire.db.session import Database
from helpwire.db.subscribers import Subscribers
from helpwire.notify.outbox import enqueue


def subscribers_for() -> Subscribers:
    """The subscribers of a running helpwire: the outbox hears of every event type."""
    subscribers = Subscribers()
    subscribers.subscribe(enqueue)
    return subscribers


def database_for(engine: AsyncEngine) -> Database:
    """The Database on ``engine``, with the default subscribers registered."""
    return Database.for_engine(engine, subscribers=subscribers_for())
