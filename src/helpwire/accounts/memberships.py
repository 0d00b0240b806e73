"""Which projects a user belongs to, and which project keys an account knows: read-only
look-ups for faces that describe the caller alongside a ticket (UCloud sends the caller's
projects and the current project with every ticket)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import Project, ProjectMember, User


async def project_keys_of(session: AsyncSession, *, user: User) -> list[str]:
    """The keys of the projects ``user`` is a member of, sorted."""
    rows = await session.scalars(
        select(Project.key)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .where(ProjectMember.user_id == user.id)
        .order_by(Project.key)
    )
    return list(rows.all())


async def known_project_keys(
    session: AsyncSession, *, account_id: int | None, keys: Sequence[str]
) -> list[str]:
    """Those of ``keys`` that name projects of the account, in the order given. Unlike
    ``accounts.service.projects_by_keys`` an unknown key is left out, not refused: for
    hints a client sends that may or may not name a project helpwire knows."""
    wanted = list(dict.fromkeys(k for k in keys if k))
    if account_id is None or not wanted:
        return []
    found = set(
        (
            await session.scalars(
                select(Project.key).where(Project.account_id == account_id, Project.key.in_(wanted))
            )
        ).all()
    )
    return [k for k in wanted if k in found]
