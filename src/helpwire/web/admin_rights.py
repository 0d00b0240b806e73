"""Admin pages for data rights and the audit log: a person's data exported or erased from
their user page, and the log of admin changes with before and after side by side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from helpwire.accounts.service import get_user
from helpwire.api.deps import Session, audit_actor, get_settings, write_outside_transaction
from helpwire.api.routing import TransactionalRoute
from helpwire.audit import service as audit
from helpwire.audit.log import TargetType, act_as
from helpwire.audit.models import AuditEntry
from helpwire.files.routes import storage_of
from helpwire.problems import NotFound, Problem, ValidationProblem, field_error
from helpwire.rights.erasure import erase_user
from helpwire.rights.export import chunks_of, plan_export, record_export, write_zip
from helpwire.web.admin_forms import PAGE_SIZE
from helpwire.web.admin_users import loaded_user, refused_user_page, user_url
from helpwire.web.auth import AdminWeb, CheckedForm
from helpwire.web.i18n import translate
from helpwire.web.shared import form_text
from helpwire.web.templating import redirect, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
TARGET_TYPES = [t.value for t in TargetType]


@dataclass(frozen=True)
class Change:
    """One field of an entry: what it was and what it became (None: not there)."""

    field: str
    before: Any
    after: Any


def changes_of(entry: AuditEntry) -> list[Change]:
    """The fields an entry changed, in the order the target lists them; every field of
    what was created or deleted."""
    before, after = entry.before or {}, entry.after or {}
    fields = list(dict.fromkeys([*before, *after]))
    return [
        Change(field, before.get(field), after.get(field))
        for field in fields
        if entry.before is None or entry.after is None or before.get(field) != after.get(field)
    ]


@router.get("/admin/audit")
async def audit_page(request: Request, session: Session, _web: AdminWeb) -> Response:
    params = request.query_params
    actor_name = (params.get("actor") or "").strip()[:150]
    target = params.get("target_type") or ""
    before = params.get("before") or ""
    unknown_actor = False
    actor_id = None
    if actor_name:
        try:
            actor_id = (await get_user(session, username=actor_name)).id
        except NotFound:
            unknown_actor = True
    entries: list[AuditEntry] = []
    more = False
    if not unknown_actor:
        entries, more = await audit.page_entries(
            session,
            actor_id=actor_id,
            target_type=TargetType(target) if target in TARGET_TYPES else None,
            before_id=int(before) if before.isdigit() and len(before) < 19 else None,
            limit=PAGE_SIZE,
        )
    return render(
        request,
        "admin/audit.html",
        entries=[(entry, changes_of(entry)) for entry in entries],
        actor_filter=actor_name,
        unknown_actor=unknown_actor,
        target_filter=target if target in TARGET_TYPES else "",
        target_types=TARGET_TYPES,
        next_before=entries[-1].id if more and entries else None,
        paged=bool(before),
    )


@router.get("/admin/users/{username}/export")
async def export_user(
    username: str, request: Request, session: Session, web: AdminWeb
) -> StreamingResponse:
    user = await get_user(session, username=username)
    plan = await plan_export(session, user=user, max_bytes=get_settings(request).export_max_bytes)
    archive = await write_zip(plan, storage=storage_of(request))
    async with write_outside_transaction(request) as writing:
        act_as(writing, actor=audit_actor(request, web.actor.user))
        await record_export(writing, user=user, plan=plan)
    return StreamingResponse(
        chunks_of(archive),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="helpwire-export-{user.username}.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/admin/users/{username}/erase")
async def erase(
    username: str, request: Request, session: Session, web: AdminWeb, form: CheckedForm
) -> Response:
    user = await loaded_user(session, username)
    try:
        if form_text(form, "confirm").strip() != user.username:
            asked = translate(request, "Type %(name)s to confirm the erasure.", name=user.username)
            raise ValidationProblem(asked, errors=[field_error("confirm", asked)])
        done = await erase_user(session, user=user, by=web.actor.user)
    except Problem as problem:
        return await refused_user_page(request, session, user=user, problem=problem)
    return redirect(
        user_url(user),
        notice=translate(
            request,
            "Erased: the user is now %(username)s; %(files)s files deleted, "
            "%(tokens)s tokens revoked, %(tickets)s tickets noted.",
            username=done.username,
            files=done.files,
            tokens=done.tokens,
            tickets=done.tickets,
        ),
    )
