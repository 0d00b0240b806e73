"""The console ticket page's presence: its script beats a heartbeat every few seconds and
shows who else is on the page, viewing or replying, and whether someone wrote meanwhile.

The answers are JSON for the page's own script; the text to show comes ready in the
reader's language, so the script only places it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from helpwire.api.deps import Now, Session
from helpwire.api.routing import TransactionalRoute
from helpwire.api.types import TicketNumber
from helpwire.presence import service as presence
from helpwire.presence.service import PresenceState
from helpwire.web.auth import CheckedForm, StaffWeb
from helpwire.web.i18n import PageLocale, locale_of
from helpwire.web.shared import form_text

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

# How often the page beats (milliseconds): well inside presence.PRESENCE_LIFETIME.
BEAT_EVERY_MS = 5000
NO_STORE = {"Cache-Control": "no-store"}


def _doing(locale: PageLocale, person: presence.Present) -> str:
    if person.state == PresenceState.REPLYING:
        return locale.gettext("%(name)s is replying", name=person.name)
    return locale.gettext("%(name)s is viewing", name=person.name)


def _wrote(locale: PageLocale, written: presence.Written) -> str:
    if written.internal:
        return locale.gettext(
            "%(name)s added an internal note meanwhile: reload the page to read it before sending.",
            name=written.name,
        )
    return locale.gettext(
        "%(name)s replied meanwhile: reload the page to read it before sending.",
        name=written.name,
    )


def presence_answer(
    request: Request, on_ticket: presence.OnTicket, *, viewer_username: str
) -> dict[str, object]:
    locale = locale_of(request)
    newest = on_ticket.newest_comment
    return {
        "present": [
            {"username": p.username, "state": str(p.state), "text": _doing(locale, p)}
            for p in on_ticket.others
        ],
        "newest_comment": None
        if newest is None
        else {
            "id": newest.id,
            "mine": newest.username == viewer_username,
            "text": _wrote(locale, newest),
        },
        "every_ms": BEAT_EVERY_MS,
    }


@router.post("/agent/tickets/{number}/presence")
async def beat(
    number: TicketNumber,
    request: Request,
    session: Session,
    web: StaffWeb,
    form: CheckedForm,
    now: Now,
) -> JSONResponse:
    """The page's heartbeat: ``state`` is ``viewing`` or ``replying`` (anything else reads
    as viewing: a page never fails on this)."""
    raw = form_text(form, "state")
    state = PresenceState.REPLYING if raw == PresenceState.REPLYING else PresenceState.VIEWING
    on_ticket = await presence.heartbeat(
        session, actor=web.actor, number=number, state=state, now=now
    )
    answer = presence_answer(request, on_ticket, viewer_username=web.viewer.username)
    return JSONResponse(answer, headers=NO_STORE)


@router.post("/agent/tickets/{number}/presence/leave")
async def leave(
    number: TicketNumber, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    """The page was left (the script tells as it goes, with a beacon)."""
    await presence.leave(session, actor=web.actor, number=number)
    return Response(status_code=204, headers=NO_STORE)
