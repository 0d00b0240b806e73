"""Which projects a user belongs to, which project keys an account knows, and which
projects a user may name on a ticket.

``may_name_project`` is the one rule for naming projects on a ticket, whether it is filed
or changed, through the API, a face or the portal: tickets.service applies it; the
portal's form offers the projects of ``nameable_projects``, and faces that take a project
as a hint keep only those of ``nameable_project_keys``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.accounts.models import Project, ProjectMember, User


def may_name_project(actor: Actor, project: Project) -> bool:
    """Whether ``actor`` may name ``project`` on a ticket of the project's account: staff
    any project, a customer with account-wide access any of their account's, any other
    customer only the projects they are a member of. (That the project belongs to the
    ticket's account is checked where the keys are read: accounts.service.projects_by_keys.)"""
    if actor.is_staff:
        return True
    if actor.user.account_wide:
        return project.account_id == actor.user.account_id
    return project.id in actor.project_ids


async def nameable_projects(session: AsyncSession, *, actor: Actor, limit: int) -> list[Project]:
    """The projects of the actor's own account that they may name on a ticket
    (:func:`may_name_project`), by key, at most ``limit`` of them: for a form's choices."""
    user = actor.user
    if user.account_id is None:
        return []
    query = select(Project).where(Project.account_id == user.account_id)
    if not actor.is_staff and not user.account_wide:
        if not actor.project_ids:
            return []
        query = query.where(Project.id.in_(actor.project_ids))
    return list((await session.scalars(query.order_by(Project.key).limit(limit))).all())


async def project_keys_of(session: AsyncSession, *, user: User) -> list[str]:
    """The keys of the projects ``user`` is a member of, sorted."""
    rows = await session.scalars(
        select(Project.key)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .where(ProjectMember.user_id == user.id)
        .order_by(Project.key)
    )
    return list(rows.all())


async def nameable_project_keys(
    session: AsyncSession, *, actor: Actor, keys: Sequence[str]
) -> list[str]:
    """Those of ``keys`` that name projects of the actor's account which the actor may
    name on a ticket (:func:`may_name_project`), in the order given. Unlike
    ``accounts.service.projects_by_keys`` any other key is left out, not refused: for hints
    a client sends that may or may not name a project helpwire knows (UCloud's current
    project)."""
    wanted = list(dict.fromkeys(k for k in keys if k))
    account_id = actor.user.account_id
    if account_id is None or not wanted:
        return []
    found = await session.scalars(
        select(Project).where(Project.account_id == account_id, Project.key.in_(wanted))
    )
    allowed = {project.key for project in found if may_name_project(actor, project)}
    return [k for k in wanted if k in allowed]
