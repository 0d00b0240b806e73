"""Reading the audit log, and what erasing a person does to it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.audit.log import TargetType
from helpwire.audit.models import AuditEntry


async def page_entries(
    session: AsyncSession,
    *,
    actor_id: int | None = None,
    target_type: TargetType | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> tuple[list[AuditEntry], bool]:
    """Entries newest first, ``since`` inclusive and ``until`` exclusive; (page, whether
    more follow). Ids grow with time, so the page is read off the id order."""
    query = select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if target_type is not None:
        query = query.where(AuditEntry.target_type == str(target_type))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    rows = list(await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


async def entries_about(session: AsyncSession, *, user_id: int) -> list[AuditEntry]:
    """Entries about ``user_id`` or made by them, oldest first (for their data export)."""
    query = select(AuditEntry).where(
        or_(AuditEntry.subject_user_id == user_id, AuditEntry.actor_id == user_id)
    )
    return list(await session.scalars(query.order_by(AuditEntry.id)))


async def forget_person(
    session: AsyncSession, *, user_id: int, replacements: Mapping[str, str]
) -> int:
    """Rewrite what the log says of an erased person: every string equal to one of their
    personal values (``replacements``: old -> new) becomes its anonymous stand-in, in the
    entries about them and the name of the entries they made. What was done, when, and
    to what stays. How many entries were rewritten."""
    rewritten = 0
    for entry in await entries_about(session, user_id=user_id):
        if entry.actor_id == user_id and entry.actor_name is not None:
            entry.actor_name = replacements.get(entry.actor_name, entry.actor_name)
        if entry.subject_user_id == user_id:
            entry.target_key = replacements.get(entry.target_key, entry.target_key)
            entry.before = replaced_values(entry.before, replacements)
            entry.after = replaced_values(entry.after, replacements)
        rewritten += 1
    await session.flush()
    return rewritten


# Keys whose values are names of kinds, never of people: a user named "admin" or "open"
# must not turn a role or a status into their anonymous name.
NOT_PERSONAL_KEYS = frozenset(
    {"role", "status", "priority", "type", "kind", "action", "audience", "via", "target_type"}
)


def replaced_values(value: Any, replacements: Mapping[str, str]) -> Any:
    """``value`` (JSON) with every string value equal to a key of ``replacements`` replaced
    by its value, at any depth; keys, and values of NOT_PERSONAL_KEYS, stay."""
    if isinstance(value, dict):
        return {
            key: item if key in NOT_PERSONAL_KEYS else replaced_values(item, replacements)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [replaced_values(item, replacements) for item in value]
    if isinstance(value, str):
        return replacements.get(value, value)
    return value
