"""Admin pages for API tokens: list, create for a user (the token is shown once), revoke."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from helpwire.accounts import service
from helpwire.accounts.schemas import TokenCreate
from helpwire.api.deps import Session
from helpwire.api.routing import TransactionalRoute
from helpwire.api.types import RowId
from helpwire.problems import Problem
from helpwire.web.admin_forms import PAGE_SIZE, FormError, form_error, pydantic_error
from helpwire.web.auth import AdminWeb, CheckedForm
from helpwire.web.i18n import translate
from helpwire.web.shared import form_text
from helpwire.web.templating import redirect, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


async def _tokens_page(
    request: Request,
    session: AsyncSession,
    *,
    form: FormData | None = None,
    error: FormError | None = None,
) -> Response:
    params = request.query_params
    username = (params.get("username") or "").strip()[:150]
    before = params.get("before") or ""
    owner = await service.get_user(session, username=username) if username else None
    tokens, more = await service.page_tokens(
        session,
        user=owner,
        before_id=int(before) if before.isdigit() and len(before) < 19 else None,
        limit=PAGE_SIZE,
    )
    return render(
        request,
        "admin/tokens.html",
        status_code=422 if error else 200,
        tokens=tokens,
        username_filter=username,
        next_before=tokens[-1].id if more and tokens else None,
        paged=bool(before),
        values={
            "username": form_text(form, "username").strip() if form else username,
            "label": form_text(form, "label").strip() if form else "",
        },
        error=error,
    )


@router.get("/admin/tokens")
async def tokens_page(request: Request, session: Session, _web: AdminWeb) -> Response:
    return await _tokens_page(request, session)


@router.post("/admin/tokens")
async def create_token(
    request: Request, session: Session, _web: AdminWeb, form: CheckedForm
) -> Response:
    try:
        body = TokenCreate.model_validate(
            {"username": form_text(form, "username").strip(), "label": form_text(form, "label")}
        )
    except ValidationError as exc:
        return await _tokens_page(request, session, form=form, error=pydantic_error(exc))
    try:
        user = await service.get_user(session, username=body.username)
    except Problem as problem:
        return await _tokens_page(request, session, form=form, error=form_error(problem))
    row, token = await service.create_token(session, user=user, label=body.label)
    return render(
        request,
        "admin/secret_shown.html",
        heading=translate(request, "API token for %(username)s", username=user.username),
        user=user,
        shown_label=translate(request, "API token"),
        secret=token,
        note=translate(
            request,
            "Copy this token now: it cannot be shown again (only its hash is kept). "
            "Send it as “Authorization: Bearer …”. Label: %(label)s.",
            label=row.label or translate(request, "none"),
        ),
        back_url="/admin/tokens",
        back_label=translate(request, "Back to the tokens"),
    )


@router.post("/admin/tokens/{token_id}/revoke")
async def revoke_token(
    token_id: RowId, request: Request, session: Session, _web: AdminWeb, form: CheckedForm
) -> Response:
    row = await service.revoke_token(session, token_id=token_id)
    back = form_text(form, "back")
    return redirect(
        back if back.startswith("/admin/") else "/admin/tokens",
        notice=translate(
            request,
            "Token %(prefix)s… of %(username)s is revoked.",
            prefix=row.prefix,
            username=row.user.username,
        ),
    )
