"""The user a piece of work is done as, with what the visibility rules need to know."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import ProjectMember, Role, User


@dataclass(frozen=True)
class Actor:
    """``service`` is set when a service token acts on behalf of ``user``."""

    user: User
    project_ids: frozenset[int] = field(default_factory=frozenset)
    service: User | None = None

    @property
    def is_staff(self) -> bool:
        return self.user.is_staff

    @property
    def is_admin(self) -> bool:
        return self.user.role == Role.ADMIN


async def load_actor(session: AsyncSession, *, user: User, service: User | None = None) -> Actor:
    project_ids: frozenset[int] = frozenset()
    if not user.is_staff and not user.account_wide:
        rows = await session.scalars(
            select(ProjectMember.project_id).where(ProjectMember.user_id == user.id)
        )
        project_ids = frozenset(rows.all())
    return Actor(user=user, project_ids=project_ids, service=service)
