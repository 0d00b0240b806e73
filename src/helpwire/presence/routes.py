"""The presence API: staff say they are on a ticket's page (a heartbeat) and read who
else is there."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from helpwire.api.deps import Now, Session, StaffPrincipal
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.api.types import TicketNumber
from helpwire.presence import service
from helpwire.presence.schemas import CommentSeenOut, PresenceIn, PresenceOut, PresentOut

router = APIRouter(prefix="/api/v1", tags=["presence"], responses=PROBLEM_RESPONSES)
PRESENCE = "/tickets/{number}/presence"


def presence_out(number: int, on_ticket: service.OnTicket) -> PresenceOut:
    newest = on_ticket.newest_comment
    return PresenceOut(
        ticket=number,
        present=[
            PresentOut(username=p.username, real_name=p.real_name, state=p.state, seen_at=p.seen_at)
            for p in on_ticket.others
        ],
        newest_comment=CommentSeenOut(
            id=newest.id,
            username=newest.username,
            internal=newest.internal,
            created_at=newest.created_at,
        )
        if newest is not None
        else None,
        expires_after_seconds=int(service.PRESENCE_LIFETIME.total_seconds()),
    )


@router.put(
    PRESENCE,
    response_model=PresenceOut,
    summary="Say you are on a ticket's page (staff heartbeat)",
)
async def beat(
    number: TicketNumber, body: PresenceIn, session: Session, staff: StaffPrincipal, now: Now
) -> PresenceOut:
    on_ticket = await service.heartbeat(
        session, actor=staff, number=number, state=body.state, now=now
    )
    return presence_out(number, on_ticket)


@router.get(PRESENCE, response_model=PresenceOut, summary="Who is on a ticket's page (staff)")
async def read(
    number: TicketNumber, session: Session, staff: StaffPrincipal, now: Now
) -> PresenceOut:
    on_ticket = await service.presence_on(session, actor=staff, number=number, now=now)
    return presence_out(number, on_ticket)


@router.delete(
    PRESENCE,
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Say you left a ticket's page (staff)",
)
async def leave(number: TicketNumber, session: Session, staff: StaffPrincipal) -> Response:
    await service.leave(session, actor=staff, number=number)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
