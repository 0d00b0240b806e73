"""``helpwire demo``: fill a database with a living helpdesk, in batches.

Two things make the demo refuse before it writes anything:
- tickets in the database (unless ``force``): nobody should fill a production helpdesk
  with invented customers by accident;
- enabled notification channels (always): every demo step records its event, and events
  enqueue deliveries in the outbox (tickets.events.record -> notify.outbox.enqueue), so
  thousands of invented tickets would be sent to real Slack channels, webhooks and
  mailboxes. Disabling the channels, or using a fresh database, is the clean way out; a
  demo that bypassed the outbox would no longer show what real use leaves behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.security import generate_password, hash_password
from helpwire.db.base import utcnow
from helpwire.db.session import Database
from helpwire.demo.cast import ADMIN, AGENTS, COMPANIES, Roster, build_cast
from helpwire.demo.plans import Planner
from helpwire.demo.player import Tally, play_batch
from helpwire.notify.models import Channel
from helpwire.problems import Conflict
from helpwire.tickets.models import Ticket

DEFAULT_TICKETS = 3000
DEFAULT_SEED = 5
# Tickets per transaction: small enough to keep memory flat and to report progress, large
# enough that commits (an fsync each on SQLite) are not what the time goes on.
BATCH_SIZE = 100
HISTORY_DAYS = 90
MIN_PASSWORD_LENGTH = 8

T = TypeVar("T")


class DemoRefused(Conflict):
    """The database is not one to fill with demo data; nothing was written."""


@dataclass(frozen=True)
class DemoOptions:
    tickets: int = DEFAULT_TICKETS
    seed: int = DEFAULT_SEED
    password: str | None = None  # None: a new random one
    force: bool = False
    days: int = HISTORY_DAYS
    batch_size: int = BATCH_SIZE


@dataclass(frozen=True)
class SignIn:
    """Someone to sign in as, and with what."""

    role: str
    username: str
    real_name: str
    password: str | None  # None: an admin that was there before; the demo does not know it


@dataclass(frozen=True)
class DemoReport:
    tally: Tally
    password: str
    sign_ins: list[SignIn]
    accounts: int
    customers: int
    agents: int
    topics_created: bool
    seconds: float


Progress = Callable[[int, int], None]


async def fill_demo(
    database: Database, options: DemoOptions, *, progress: Progress | None = None
) -> DemoReport:
    """Fill the (migrated) database with the demo. Raises DemoRefused, having written
    nothing, when the database is not fit for it."""
    clock = time.monotonic()
    if options.tickets < 0:
        raise DemoRefused("the number of tickets cannot be negative")
    password = options.password if options.password is not None else generate_password()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DemoRefused(f"the demo password needs at least {MIN_PASSWORD_LENGTH} characters")
    started_at = utcnow()
    async with database.writing() as session:
        await _check_fit(session, force=options.force)
        roster = await build_cast(
            session,
            password_hash=hash_password(password),
            founded_at=started_at - timedelta(days=options.days + 30),
        )
    planner = Planner(seed=options.seed, topics=roster.topics, now=started_at, days=options.days)
    tally = Tally()
    for batch in _batches(planner.plans(options.tickets), options.batch_size):
        async with database.writing() as session:
            await play_batch(
                session,
                plans=batch,
                user_ids=roster.user_ids,
                started_at=started_at,
                tally=tally,
            )
        if progress is not None:
            progress(tally.tickets, options.tickets)
    return DemoReport(
        tally=tally,
        password=password,
        sign_ins=_sign_ins(roster, password),
        accounts=len(COMPANIES),
        customers=sum(len(company.people) for company in COMPANIES),
        agents=len(AGENTS),
        topics_created=roster.topics_created,
        seconds=time.monotonic() - clock,
    )


async def _check_fit(session: AsyncSession, *, force: bool) -> None:
    if not force and await session.scalar(select(Ticket.id).limit(1)) is not None:
        raise DemoRefused(
            "the database holds tickets already; the demo fills only an empty helpdesk. "
            "Point HELPWIRE_DATABASE_URL at a new database, or pass --force to add the demo "
            "to this one"
        )
    channels = int(
        await session.scalar(select(func.count(Channel.id)).where(Channel.enabled.is_(True))) or 0
    )
    if channels:
        raise DemoRefused(
            f"the database has {channels} enabled notification channel(s), which would be "
            "sent a notification for every demo ticket and reply; run the demo on a "
            "database without channels, or disable them first"
        )


def _sign_ins(roster: Roster, password: str) -> list[SignIn]:
    """An admin, an agent, and two customers of the busiest company: one who sees all of
    its tickets and one who sees only a project's."""
    main = COMPANIES[0]
    wide = next(p for p in main.people if p.account_wide)
    narrow = next(p for p in main.people if not p.account_wide)
    agent = AGENTS[0]
    found = []
    if roster.admin is not None:
        demo_admin = roster.admin_is_demo
        found.append(
            SignIn(
                role="admin",
                username=roster.admin,
                real_name=ADMIN.real_name if demo_admin else "",
                password=password if demo_admin else None,
            )
        )
    found += [
        SignIn("agent", agent.username, agent.real_name, password),
        SignIn(
            "customer (account-wide)", wide.username, f"{wide.real_name}, {main.name}", password
        ),
        SignIn(
            f"customer (project {', '.join(narrow.projects)})",
            narrow.username,
            f"{narrow.real_name}, {main.name}",
            password,
        ),
    ]
    return found


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
