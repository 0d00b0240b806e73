"""The audit log API (admins only): who changed what, newest first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from helpwire.accounts.service import get_user
from helpwire.api.deps import AdminPrincipal, Session
from helpwire.api.pagination import cursor_id, encode_cursor
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.api.types import MAX_INT64
from helpwire.audit import service
from helpwire.audit.log import TargetType
from helpwire.audit.models import AuditEntry
from helpwire.audit.schemas import AuditEntryOut, AuditPage
from helpwire.problems import NotFound, ValidationProblem

router = APIRouter(prefix="/api/v1", tags=["audit"], responses=PROBLEM_RESPONSES)


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        at=entry.at,
        actor=entry.actor_name,
        action=entry.action,
        target_type=TargetType(entry.target_type),
        target_key=entry.target_key,
        before=entry.before,
        after=entry.after,
        request_id=entry.request_id,
    )


def _utc(field: str, value: datetime | None) -> datetime | None:
    """A time filter in UTC; one without an offset is UTC already."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # an offset carrying year 1 or 9999 out of range: no entry's time
        raise ValidationProblem.for_field(field, "is out of range") from None


@router.get("/audit", response_model=AuditPage, summary="The audit log, newest first (admin)")
async def list_audit(
    session: Session,
    _admin: AdminPrincipal,
    actor: Annotated[
        str | None, Query(min_length=1, max_length=150, description="A username.")
    ] = None,
    target_type: TargetType | None = None,
    since: Annotated[datetime | None, Query(description="From this time on (inclusive).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (exclusive).")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> AuditPage:
    before_id = None if cursor is None else cursor_id(cursor, key="before", maximum=MAX_INT64)
    actor_id = None
    if actor is not None:
        try:
            actor_id = (await get_user(session, username=actor)).id
        except NotFound:
            raise ValidationProblem.for_field("actor", f"no user {actor!r}") from None
    rows, more = await service.page_entries(
        session,
        actor_id=actor_id,
        target_type=target_type,
        since=_utc("since", since),
        until=_utc("until", until),
        before_id=before_id,
        limit=limit,
    )
    return AuditPage(
        items=[entry_out(entry) for entry in rows],
        next_cursor=encode_cursor({"before": rows[-1].id}) if more and rows else None,
    )
