"""Signing people in to the web UI: password check, browser sessions, and the lock-out.

A run of wrong passwords for one login name (or from one client address) locks further
attempts for a while, doubling with each new failure. The lock is kept in the database so
that every worker process of the service sees it."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import Role, SignInThrottle, User, WebSession
from helpwire.accounts.security import hash_password, hash_token, verify_password
from helpwire.accounts.service import find_user_for_login
from helpwire.db.base import utcnow

# Failures allowed before the first lock, per login name and per client address (an
# office behind one address shares it, so its allowance is larger).
LOGIN_ALLOWANCE = 5
ADDRESS_ALLOWANCE = 30
FIRST_LOCK = timedelta(seconds=30)
LONGEST_LOCK = timedelta(minutes=15)
# A failure this old no longer counts.
FORGET_AFTER = timedelta(hours=1)

# Checked when the login name is unknown, so that an unknown name takes as long to refuse
# as a wrong password and does not reveal which names exist.
_DECOY_HASH = hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class SignInRefused(Exception):
    """Why a sign-in failed, in words fit for the person signing in."""

    message: str
    retry_after_s: int | None = None


def _keys(login: str, address: str | None) -> list[tuple[str, int]]:
    keys = [("login:" + login.strip().lower()[:380], LOGIN_ALLOWANCE)]
    if address:
        keys.append(("address:" + address[:380], ADDRESS_ALLOWANCE))
    return keys


def _lock_length(failures: int, allowance: int) -> timedelta | None:
    over = failures - allowance
    if over < 0:
        return None
    lock: timedelta = min(FIRST_LOCK * (2 ** min(over, 10)), LONGEST_LOCK)
    return lock


async def _locked_for(session: AsyncSession, keys: list[tuple[str, int]], now: datetime) -> int:
    rows = (
        await session.scalars(
            select(SignInThrottle).where(SignInThrottle.key.in_([key for key, _ in keys]))
        )
    ).all()
    waits = [
        (row.locked_until - now).total_seconds()
        for row in rows
        if row.locked_until is not None and row.locked_until > now
    ]
    return int(max(waits)) + 1 if waits else 0


async def _note_failure(session: AsyncSession, keys: list[tuple[str, int]], now: datetime) -> int:
    longest = 0
    for key, allowance in keys:
        row = await session.get(SignInThrottle, key, with_for_update=True)
        if row is None:
            row = SignInThrottle(key=key, failures=0, last_failure_at=now)
            session.add(row)
        elif now - row.last_failure_at > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        lock = _lock_length(row.failures, allowance)
        row.locked_until = now + lock if lock else None
        if lock:
            longest = max(longest, int(lock.total_seconds()))
    await session.flush()
    return longest


async def check_password(
    session: AsyncSession, *, login: str, password: str, address: str | None
) -> User:
    """The active, password-holding person ``login`` names, if ``password`` is theirs.

    Raises :class:`SignInRefused` on a wrong name or password (one message for both, so
    the form does not tell which names exist) and while a lock-out lasts. Failures are
    written in this session's transaction: commit it even when this raises."""
    now = utcnow()
    keys = _keys(login, address)
    wait = await _locked_for(session, keys, now)
    if wait:
        raise SignInRefused(
            f"Too many failed sign-ins. Try again in {wait} seconds.", retry_after_s=wait
        )
    user = await find_user_for_login(session, login=login) if login.strip() else None
    usable = (
        user is not None
        and user.is_active
        and user.password_hash is not None
        and user.role != Role.SERVICE
    )
    stored = user.password_hash if usable and user is not None else _DECOY_HASH
    # argon2 is deliberately slow: keep it off the event loop.
    matches = await asyncio.to_thread(verify_password, stored or _DECOY_HASH, password)
    if not (usable and matches) or user is None:
        locked = await _note_failure(session, keys, now)
        if locked:
            raise SignInRefused(
                f"Wrong user name or password. Too many failed sign-ins: "
                f"try again in {locked} seconds.",
                retry_after_s=locked,
            )
        raise SignInRefused("Wrong user name or password.")
    await session.execute(delete(SignInThrottle).where(SignInThrottle.key == keys[0][0]))
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
    if row is None or row.expires_at <= utcnow() or not row.user.is_active:
        return None
    return row


async def end_session(session: AsyncSession, *, token: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == hash_token(token)))


async def end_sessions_of(session: AsyncSession, *, user: User) -> None:
    """Signs a person out everywhere (after a password reset or when disabled)."""
    await session.execute(delete(WebSession).where(WebSession.user_id == user.id))


async def forget_expired_sessions(session: AsyncSession) -> None:
    now = utcnow()
    await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    await session.execute(
        delete(SignInThrottle).where(SignInThrottle.last_failure_at < now - FORGET_AFTER)
    )
