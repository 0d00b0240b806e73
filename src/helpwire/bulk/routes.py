"""The bulk API: one change to many tickets (staff)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from helpwire.api.deps import Session, StaffPrincipal
from helpwire.api.model_json import ModelJSONResponse
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.bulk import service
from helpwire.bulk.schemas import (
    MAX_BULK_TICKETS,
    BulkOutcome,
    BulkProblem,
    BulkRequest,
    BulkResult,
)

router = APIRouter(prefix="/api/v1", tags=["tickets"], responses=PROBLEM_RESPONSES)


def outcome(results: list[service.TicketResult]) -> BulkOutcome:
    answered = [
        BulkResult(
            number=r.number,
            ok=r.problem is None,
            problem=None if r.problem is None else BulkProblem(**r.problem.to_dict()),
        )
        for r in results
    ]
    failed = sum(1 for r in answered if not r.ok)
    return BulkOutcome(results=answered, changed=len(answered) - failed, failed=failed)


@router.post(
    "/tickets/bulk",
    response_model=BulkOutcome,
    summary=f"Change up to {MAX_BULK_TICKETS} tickets at once (staff)",
    responses={
        207: {
            "model": BulkOutcome,
            "description": "Some tickets were refused (each left as it was); the others "
            "were changed. Every ticket has its result.",
        }
    },
)
async def bulk_change(
    request: Request, body: BulkRequest, session: Session, staff: StaffPrincipal
) -> JSONResponse:
    results = await service.change_tickets(
        session,
        actor=staff,
        numbers=body.tickets,
        ticket_filter=body.filter,
        change=body.change,
        mail=getattr(request.app.state, "mail", None),
    )
    answer = outcome(results)
    code = status.HTTP_207_MULTI_STATUS if answer.failed else status.HTTP_200_OK
    return ModelJSONResponse(answer, status_code=code)
