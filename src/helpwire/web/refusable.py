"""The savepoint of a page whose form may be refused and shown again with its mistake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.web.portal_forms import forget_uploads


@asynccontextmanager
async def refusable(request: Request, session: AsyncSession) -> AsyncIterator[None]:
    """Runs a form's service calls in a savepoint of the request's transaction.

    When the block raises (a ``Problem`` the page answers with the form again, or
    anything else), nothing of its work is left: the savepoint is rolled back, the bytes
    of files stored for the form are deleted (their rows went with the savepoint), and
    every object is dropped from the session, since those the block touched are stale.
    The page then reads afresh what it shows. The exception goes on to the page."""
    try:
        async with session.begin_nested():
            yield
    except Exception:
        await forget_uploads(request)
        session.expunge_all()
        raise
