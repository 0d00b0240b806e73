"""Dependencies every route uses: the request's transaction and who is asking."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor, load_actor
from helpwire.accounts.models import Role, User
from helpwire.accounts.service import user_for_token
from helpwire.audit.log import AuditActor, act_as
from helpwire.db.base import utcnow
from helpwire.db.session import Database
from helpwire.problems import Forbidden, Unauthenticated
from helpwire.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AUTH_CHALLENGE = 'Bearer realm="helpwire", Basic realm="helpwire"'
ON_BEHALF_OF = "On-Behalf-Of"


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def request_now(request: Request) -> datetime:
    """The time a request acts at, from the app's clock (``app.state.clock``): tests set
    their own clock there instead of waiting for time to pass."""
    clock = getattr(request.app.state, "clock", utcnow)
    now: datetime = clock()
    return now


Now = Annotated[datetime, Depends(request_now)]


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


class _Refused(Exception):
    """Leaves the writing transaction by the way that rolls it back."""


def refuse_transaction(request: Request) -> None:
    """The request is refused, though its route returned normally (it answered an error
    itself): the session dependency rolls its transaction back instead of committing."""
    request.state.transaction_refused = True


def transaction_refused(request: Request) -> bool:
    return bool(getattr(request.state, "transaction_refused", False))


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction: committed when the route returns, before the answer
    is sent (so a 2xx is durable), rolled back if anything raised or the route answered a
    refusal (``refuse_transaction``, ``api.routing.TransactionalRoute``)."""
    database = get_database(request)
    if request.method in SAFE_METHODS:
        async with database.reader() as session:
            yield session
        return
    try:
        async with database.writing() as session:
            yield session
            if transaction_refused(request):
                raise _Refused
    except _Refused:
        pass


Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_reading_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction, reading only, for a POST that only reads (a search
    whose criteria come as a body): it gets a reader, as a GET does, and so never queues
    for SQLite's write lock."""
    async with get_database(request).reader() as session:
        yield session


ReadingSession = Annotated[AsyncSession, Depends(get_reading_session, scope="function")]


@asynccontextmanager
async def read_outside_transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """A short reading transaction of its own, apart from the request's: for a check (who
    asks) made before work that must hold no transaction open while it waits, such as a
    slow upload being stored or a receiver answering a test message. The route takes no
    ``Session``."""
    async with get_database(request).reader() as session:
        yield session


@asynccontextmanager
async def write_outside_transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """A short writing transaction of its own, apart from the request's: committed when
    the block ends, rolled back if it raises. For a write that follows slow work done
    with no transaction open (the record of bytes stored), or that a reading request
    makes (a read mark on a page)."""
    async with get_database(request).writing() as session:
        yield session


# The routes speak of the principal; the services of the actor. They are the same thing.
Principal = Actor


def bearer_or_basic_token(authorization: str | None) -> str | None:
    """The API token in an Authorization header: ``Bearer <token>``, or Basic with the
    token as user name and an empty password."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _, password = decoded.partition(":")
        return username if username and not password else None
    return None


def _unauthenticated(detail: str) -> Unauthenticated:
    return Unauthenticated(detail, headers={"WWW-Authenticate": AUTH_CHALLENGE})


async def resolve_principal(
    session: AsyncSession, *, token: str | None, on_behalf_of: str | None
) -> Principal:
    if token is None:
        raise _unauthenticated("send an API token: Authorization: Bearer <token>")
    user = await user_for_token(session, token=token)
    if user is None:
        raise _unauthenticated("the API token is unknown or revoked")
    if not on_behalf_of:
        return await load_actor(session, user=user)
    if user.role != Role.SERVICE:
        raise Forbidden(f"only service tokens may send {ON_BEHALF_OF}")
    target = await session.scalar(
        select(User).where(User.username == on_behalf_of.strip(), User.is_active.is_(True))
    )
    if target is None or target.account_id != user.account_id or target.role != Role.CUSTOMER:
        raise Forbidden(f"{on_behalf_of!r} is not a customer of this service token's account")
    return await load_actor(session, user=target, service=user)


async def resolve_caller(
    request: Request, session: AsyncSession, *, token: str | None
) -> Principal:
    """Who is asking, from the token found in the request (the API's Authorization header,
    or a face's own header); a service token may act for one of its account's customers
    with On-Behalf-Of. Kept on the request for the access log and the rate limits."""
    principal = await resolve_principal(
        session, token=token, on_behalf_of=request.headers.get(ON_BEHALF_OF)
    )
    request.state.principal = principal
    act_as(session, actor=audit_actor(request, principal.user))
    return principal


def audit_actor(request: Request, user: User) -> AuditActor:
    """Who the audit log names for what this request changes."""
    request_id = getattr(request.state, "request_id", None)
    return AuditActor(
        user_id=user.id,
        username=user.username,
        request_id=str(request_id)[:64] if request_id else None,
    )


async def get_principal(request: Request, session: Session) -> Principal:
    return await resolve_caller(
        request, session, token=bearer_or_basic_token(request.headers.get("authorization"))
    )


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_staff(principal: CurrentPrincipal) -> Principal:
    if not principal.is_staff:
        raise Forbidden("this needs an agent or admin")
    return principal


async def get_admin(principal: CurrentPrincipal) -> Principal:
    if not principal.is_admin:
        raise Forbidden("this needs an admin")
    return principal


StaffPrincipal = Annotated[Principal, Depends(get_staff)]
AdminPrincipal = Annotated[Principal, Depends(get_admin)]


async def get_admin_outside_transaction(request: Request) -> Principal:
    """An admin, whose token is checked in a short reading transaction of its own, for a
    route whose work must not hold a writing transaction open (on SQLite that is the write
    lock, and every other writer waits): sending a test message to a slow receiver, say.
    Such a route takes no ``Session`` and opens its own short transactions."""
    async with read_outside_transaction(request) as session:
        principal = await resolve_caller(
            request, session, token=bearer_or_basic_token(request.headers.get("authorization"))
        )
    if not principal.is_admin:
        raise Forbidden("this needs an admin")
    return principal


AdminOutsideTransaction = Annotated[Principal, Depends(get_admin_outside_transaction)]
