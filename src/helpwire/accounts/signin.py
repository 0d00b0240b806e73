"""Signing people in to the web UI: password check, browser sessions, and the lock-out.

A run of wrong passwords for one person (or from one client address) locks further
attempts for a while, doubling with each new failure. The count is kept in the database,
so that every worker process and every server on the same database sees it, and it is
taken atomically *before* the password is checked: parallel guesses cannot slip past it.

The sign-in runs in three short steps, so that no transaction (on SQLite: the write lock)
is held while argon2 works: count the attempt, check the password with no transaction
open, then clear the count and open the session."""

from __future__ import annotations

import asyncio
import functools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, delete, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import Role, SignInThrottle, User, WebSession
from helpwire.accounts.security import hash_password, hash_token, verify_password
from helpwire.accounts.service import find_user_for_login
from helpwire.db.base import UTCDateTime, utcnow
from helpwire.db.session import Database

# Failures allowed before the first lock, per person and per client address (an office
# behind one address shares it, so its allowance is larger).
LOGIN_ALLOWANCE = 5
ADDRESS_ALLOWANCE = 30
FIRST_LOCK = timedelta(seconds=30)
LONGEST_LOCK = timedelta(minutes=15)
# A failure this old no longer counts.
FORGET_AFTER = timedelta(hours=1)


@functools.cache
def _decoy_hash() -> str:
    """Checked when the login name is unknown, so that an unknown name takes as long to
    refuse as a wrong password and does not reveal which names exist. Made on first use,
    not at import: every process and command imports this module."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class SignInRefused(Exception):
    """Why a sign-in failed, in words fit for the person signing in."""

    message: str
    retry_after_s: int | None = None
    # Whether the password was checked and wrong (False: refused before checking it).
    wrong_password: bool = True


@dataclass(frozen=True)
class _Key:
    key: str
    allowance: int


def _at(moment: datetime) -> ColumnElement[datetime]:
    """A moment as a bound value stored the way the columns store moments."""
    return literal(moment, type_=UTCDateTime())


def _lock_length(failures: int, allowance: int) -> timedelta:
    over = max(failures - allowance, 0)
    lock: timedelta = min(FIRST_LOCK * (2 ** min(over, 10)), LONGEST_LOCK)
    return lock


async def _count_attempt(session: AsyncSession, key: _Key, now: datetime) -> bool:
    """Counts one attempt against ``key`` in a single atomic statement and says whether
    this attempt may go on to the password check.

    Every attempt counts as a failure until it proves otherwise (a success clears the
    count again). The attempt that reaches the allowance sets the lock and is the last
    one checked; attempts while a lock lasts are refused unchecked; when a lock has run
    out, the next attempt sets a longer one and is checked. The one statement decides
    this for each attempt alone, however many run in parallel: only the attempt whose own
    ``now`` became ``locked_until``'s base set the lock."""
    stale = now - FORGET_AFTER
    table = SignInThrottle.__table__
    failures = case((table.c.last_failure_at < stale, 1), else_=table.c.failures + 1)
    lock_expired = table.c.locked_until.is_(None) | (table.c.locked_until <= now)
    # The lock's length depends on the new count: one CASE per possible step up to the
    # longest lock (a dozen at most), so the database needs no power function.
    steps = [
        (
            failures == key.allowance + over,
            _at(now + _lock_length(key.allowance + over, key.allowance)),
        )
        for over in range(11)
    ]
    new_lock = case(*steps, else_=_at(now + LONGEST_LOCK))
    insert = postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(SignInThrottle)
        .values(
            key=key.key,
            failures=1,
            last_failure_at=now,
            locked_until=None,
        )
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "failures": failures,
                "last_failure_at": now,
                "locked_until": case(
                    ((failures >= key.allowance) & lock_expired, new_lock),
                    else_=table.c.locked_until,
                ),
            },
        )
        .returning(table.c.failures, table.c.locked_until)
    )
    row = (await session.execute(statement)).one()
    count, locked_until = int(row[0]), row[1]
    if locked_until is None or locked_until <= now:
        return True
    # A lock is in force. This attempt may go on only if it set that lock just now.
    return bool(count >= key.allowance and locked_until == now + _lock_length(count, key.allowance))


async def _locked_for(session: AsyncSession, keys: list[_Key], now: datetime) -> int:
    rows = (
        await session.scalars(
            select(SignInThrottle.locked_until).where(
                SignInThrottle.key.in_([key.key for key in keys])
            )
        )
    ).all()
    waits = [(until - now).total_seconds() for until in rows if until is not None and until > now]
    return int(max(waits)) + 1 if waits else 0


async def _keys_for(
    database: Database, login: str, address: str | None
) -> tuple[list[_Key], User | None]:
    """Whose attempts these are: the person's (by user id, whether they typed their name
    or their e-mail), or the typed name's when no one has it; and the client address."""
    async with database.reader() as session:
        user = await find_user_for_login(session, login=login) if login.strip() else None
    person = f"user:{user.id}" if user is not None else "login:" + login.strip().lower()[:380]
    keys = [_Key(person, LOGIN_ALLOWANCE)]
    if address:
        keys.append(_Key("address:" + address[:380], ADDRESS_ALLOWANCE))
    return keys, user


async def check_password(
    database: Database, *, login: str, password: str, address: str | None
) -> User:
    """The active, password-holding person ``login`` names, if ``password`` is theirs.

    Raises :class:`SignInRefused` on a wrong name or password (one message for both, so
    the form does not tell which names exist) and while a lock-out lasts. Runs its own
    short transactions; the caller needs none open."""
    keys, user = await _keys_for(database, login, address)
    now = utcnow()
    async with database.writing() as session:
        allowed = [await _count_attempt(session, key, now) for key in keys]
        wait = await _locked_for(session, keys, now)
    if not all(allowed):
        raise SignInRefused(
            f"Too many failed sign-ins. Try again in {wait} seconds.",
            retry_after_s=wait,
            wrong_password=False,
        )
    usable = (
        user is not None
        and user.is_active
        and user.password_hash is not None
        and user.role != Role.SERVICE
    )
    stored = user.password_hash if usable and user is not None else None
    # argon2 is deliberately slow: off the event loop, with no transaction open.
    matches = await asyncio.to_thread(verify_password, stored or _decoy_hash(), password)
    if not (usable and matches) or user is None:
        if wait:
            raise SignInRefused(
                f"Wrong user name or password. Too many failed sign-ins: "
                f"try again in {wait} seconds.",
                retry_after_s=wait,
            )
        raise SignInRefused("Wrong user name or password.")
    async with database.writing() as session:
        await session.execute(delete(SignInThrottle).where(SignInThrottle.key == keys[0].key))
        # The address counted this attempt as a failure in advance; it was not one.
        await session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.key.in_([key.key for key in keys[1:]]))
            .where(SignInThrottle.failures > 0)
            .values(failures=SignInThrottle.failures - 1)
        )
    return user


async def start_session(
    session: AsyncSession, *, user: User, user_agent: str, lifetime: timedelta
) -> tuple[str, WebSession]:
    """A new browser session for ``user``: the cookie value (shown once) and the row."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=hash_token(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        user_agent=user_agent[:512],
        created_at=utcnow(),
        expires_at=utcnow() + lifetime,
    )
    session.add(row)
    await session.flush()
    return token, row


async def session_for_cookie(session: AsyncSession, *, token: str) -> WebSession | None:
    """The live session the cookie names, if its user may still sign in."""
    if not token or len(token) > 100:
        return None
    row = await session.get(WebSession, hash_token(token))
    if row is None or row.expires_at <= utcnow():
        return None
    if not row.user.is_active or row.user.role == Role.SERVICE:
        return None
    return row


async def end_session(session: AsyncSession, *, token: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == hash_token(token)))


async def forget_expired_sessions(session: AsyncSession) -> None:
    now = utcnow()
    await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    await session.execute(
        delete(SignInThrottle).where(SignInThrottle.last_failure_at < now - FORGET_AFTER)
    )
