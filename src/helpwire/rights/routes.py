"""The data rights API: a person's data exported (admins, and each person their own) and
erased (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from helpwire.accounts.service import get_user
from helpwire.api.deps import (
    AdminPrincipal,
    CurrentPrincipal,
    Session,
    audit_actor,
    get_settings,
    write_outside_transaction,
)
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.audit.log import act_as
from helpwire.files.routes import storage_of
from helpwire.problems import Forbidden
from helpwire.rights.erasure import erase_user
from helpwire.rights.export import chunks_of, plan_export, record_export, write_zip
from helpwire.rights.schemas import ErasureOut

router = APIRouter(prefix="/api/v1", tags=["data rights"], responses=PROBLEM_RESPONSES)

ZIP_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A zip: person.json and the files they uploaded under files/.",
        "content": {"application/zip": {}},
    }
}


@router.get(
    "/users/{username}/export",
    summary="Everything kept about a user, as a zip (admin, or the user themselves)",
    responses=ZIP_ANSWER,
    response_class=StreamingResponse,
)
async def export_user(
    username: str, request: Request, session: Session, principal: CurrentPrincipal
) -> StreamingResponse:
    # A person's own export is theirs to ask for, with their own token: not an
    # application's speaking for them (On-Behalf-Of), which would get their token list.
    own = principal.user.username == username and principal.service is None
    if not principal.is_admin and not own:
        raise Forbidden("only admins export another user's data; you may export your own")
    user = await get_user(session, username=username)
    plan = await plan_export(session, user=user, max_bytes=get_settings(request).export_max_bytes)
    archive = await write_zip(plan, storage=storage_of(request))
    # Written apart from the request's reading transaction, once the zip is made.
    async with write_outside_transaction(request) as writing:
        act_as(writing, actor=audit_actor(request, principal.user))
        await record_export(writing, user=user, plan=plan)
    filename = f"helpwire-export-{user.username}.zip"
    return StreamingResponse(
        chunks_of(archive),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/users/{username}/erase",
    response_model=ErasureOut,
    summary="Erase a user's personal data (admin)",
)
async def erase(username: str, session: Session, admin: AdminPrincipal) -> ErasureOut:
    user = await get_user(session, username=username)
    done = await erase_user(session, user=user, by=admin.user)
    return ErasureOut(
        username=done.username,
        erased_at=done.erased_at,
        tickets=done.tickets,
        files_deleted=done.files,
        tokens_revoked=done.tokens,
    )
