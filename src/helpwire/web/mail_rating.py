"""The page a rating link in a solved ticket's mail opens: the score recorded, and a way
to the ticket.

A GET that writes, because the mail promises that one click rates: the score is recorded
in a writing transaction of the page's own (a GET's request session only reads). A later
click on another of the links changes it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from helpwire.api.deps import write_outside_transaction
from helpwire.api.routing import TransactionalRoute
from helpwire.mail.rating import rate_by_link
from helpwire.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


@router.get("/mail/rate/{number}/{score}")
async def rate_from_mail(
    request: Request,
    number: Annotated[int, Path(ge=1, le=2**62)],
    score: Annotated[int, Path(ge=1, le=5)],
    u: Annotated[int, Query(ge=1, le=2**62, description="The requester's id.")],
    s: Annotated[str, Query(min_length=1, max_length=64, description="The link's signature.")],
) -> HTMLResponse:
    async with write_outside_transaction(request) as session:
        ticket = await rate_by_link(session, number=number, score=score, user_id=u, signature=s)
        number, subject = ticket.number, ticket.subject
    return render(request, "mail_rated.html", number=number, subject=subject, score=score)
