"""Rules of the groups domain: teams of staff, and which tickets are theirs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import STAFF_ROLES, User
from helpwire.audit.log import TargetType
from helpwire.audit.log import record as audit
from helpwire.groups.models import Group, GroupMember
from helpwire.problems import Conflict, NotFound, ValidationProblem
from helpwire.topics.service import check_key


def group_snapshot(group: Group) -> dict[str, Any]:
    """What the audit log keeps of a group."""
    return {
        "key": group.key,
        "name": group.name,
        "description": group.description,
        "is_active": group.is_active,
        "members": [m.username for m in group.members],
    }


async def audit_group(
    session: AsyncSession,
    *,
    action: str,
    group: Group,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    await audit(
        session,
        action=action,
        target_type=TargetType.GROUP,
        target_key=group.key,
        before=before,
        after=after,
    )


async def list_groups(session: AsyncSession, *, include_inactive: bool) -> Sequence[Group]:
    query = select(Group).order_by(Group.name, Group.key)
    if not include_inactive:
        query = query.where(Group.is_active.is_(True))
    return (await session.scalars(query)).all()


async def get_group(session: AsyncSession, *, key: str) -> Group:
    group = await session.scalar(select(Group).where(Group.key == key))
    if group is None:
        raise NotFound(f"no group {key!r}")
    return group


async def resolve_group(
    session: AsyncSession, *, key: str | None, field: str = "group"
) -> Group | None:
    """The active group named ``key`` (None for None); an unknown one is a 422 on ``field``."""
    if key is None:
        return None
    group = await session.scalar(select(Group).where(Group.key == key))
    if group is None or not group.is_active:
        raise ValidationProblem.for_field(field, f"no active group {key!r}", "unknown_group")
    return group


async def create_group(
    session: AsyncSession, *, key: str, name: str, description: str, members: Sequence[str]
) -> Group:
    key = check_key("key", key)
    if await session.scalar(select(Group.id).where(Group.key == key)) is not None:
        raise Conflict(f"group {key!r} exists already")
    group = Group(key=key, name=name.strip(), description=description, is_active=True)
    group.members = await _staff(session, members)
    session.add(group)
    await session.flush()
    after = group_snapshot(group)
    await audit_group(session, action="group.created", group=group, before=None, after=after)
    return group


async def update_group(
    session: AsyncSession,
    *,
    group: Group,
    name: str | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    members: Sequence[str] | None = None,
) -> Group:
    before = group_snapshot(group)
    if name is not None:
        group.name = name.strip()
    if description is not None:
        group.description = description
    if is_active is not None:
        group.is_active = is_active
    if members is not None:
        group.members = await _staff(session, members)
    await session.flush()
    after = group_snapshot(group)
    await audit_group(session, action="group.updated", group=group, before=before, after=after)
    return group


async def _staff(session: AsyncSession, usernames: Sequence[str]) -> list[User]:
    wanted = list(dict.fromkeys(usernames))
    users = {
        u.username: u for u in await session.scalars(select(User).where(User.username.in_(wanted)))
    }
    for index, username in enumerate(wanted):
        user = users.get(username)
        if user is None:
            raise ValidationProblem.for_field(f"members[{index}]", f"no user {username!r}")
        if user.role not in STAFF_ROLES:
            raise ValidationProblem.for_field(
                f"members[{index}]", f"{username!r} is not an agent or admin", "not_staff"
            )
    return sorted((users[username] for username in wanted), key=lambda u: u.username)


async def group_ids_of(session: AsyncSession, *, user_id: int) -> list[int]:
    """The groups ``user_id`` is a member of ("my groups")."""
    rows = await session.scalars(select(GroupMember.group_id).where(GroupMember.user_id == user_id))
    return list(rows)
