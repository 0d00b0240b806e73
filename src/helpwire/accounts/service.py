"""Rules of the accounts domain: who exists, who belongs where, who holds which token."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defaultload, selectinload

from helpwire.accounts.models import (
    STAFF_ROLES,
    Account,
    ApiToken,
    Project,
    ProjectMember,
    Role,
    User,
    WebSession,
)
from helpwire.accounts.security import (
    generate_password,
    generate_token,
    hash_password,
    hash_token,
    token_display_prefix,
)
from helpwire.audit.log import TargetType
from helpwire.audit.log import record as audit
from helpwire.db.base import utcnow
from helpwire.db.counting import capped_count
from helpwire.problems import Conflict, NotFound, ValidationProblem

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$")


def check_not_built_in(user: User) -> None:
    """helpwire's own users (their names start with "_", which no person's may: the rules
    user) cannot be changed, signed in as, or given a token."""
    if user.username.startswith("_"):
        raise Conflict(f"{user.username!r} is helpwire's own user and cannot be changed")


def _check_key(field: str, value: str, max_len: int) -> str:
    value = value.strip()
    if not value or len(value) > max_len or not _KEY_RE.match(value):
        raise ValidationProblem.for_field(
            field,
            f"must be 1..{max_len} characters of letters, digits and . _ : @ -, "
            "starting with a letter or digit",
        )
    return value


# --- accounts and projects -------------------------------------------------------------


async def create_account(
    session: AsyncSession, *, key: str, name: str | None = None, projects: Sequence[str] = ()
) -> Account:
    key = _check_key("key", key, 64)
    if await session.scalar(select(Account.id).where(Account.key == key)) is not None:
        raise Conflict(f"an account with key {key!r} exists already")
    account = Account(key=key, name=(name or key).strip() or key)
    session.add(account)
    await session.flush()
    for project_key in projects:
        await create_project(session, account=account, key=project_key)
    await session.refresh(account, ["projects"])
    await audit(
        session,
        action="account.created",
        target_type=TargetType.ACCOUNT,
        target_key=account.key,
        after={"key": account.key, "name": account.name},
    )
    return account


async def get_account(session: AsyncSession, *, key: str, with_projects: bool = False) -> Account:
    """The account; ``with_projects`` loads its projects too, for callers that show them
    (the relation is never loaded lazily)."""
    query = select(Account).where(Account.key == key)
    if with_projects:
        query = query.options(selectinload(Account.projects))
    account = await session.scalar(query)
    if account is None:
        raise NotFound(f"no account {key!r}")
    return account


async def list_accounts(session: AsyncSession) -> Sequence[Account]:
    """Every account with its projects (one query for all the projects, not one each)."""
    query = select(Account).options(selectinload(Account.projects)).order_by(Account.key)
    return (await session.scalars(query)).all()


async def create_project(
    session: AsyncSession, *, account: Account, key: str, name: str | None = None
) -> Project:
    key = _check_key("key", key, 128)
    existing = await session.scalar(
        select(Project.id).where(Project.account_id == account.id, Project.key == key)
    )
    if existing is not None:
        raise Conflict(f"account {account.key!r} has a project {key!r} already")
    project = Project(account_id=account.id, key=key, name=(name or key).strip() or key)
    session.add(project)
    await session.flush()
    await audit(
        session,
        action="project.created",
        target_type=TargetType.ACCOUNT,
        target_key=account.key,
        after={"project": project.key, "name": project.name},
    )
    return project


async def projects_by_keys(
    session: AsyncSession, *, account_id: int | None, keys: Sequence[str], field: str = "projects"
) -> list[Project]:
    """The projects of one account named by ``keys``; an unknown key is a 422 on ``field``."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return []
    if account_id is None:
        raise ValidationProblem.for_field(field, "only tickets of an account can name projects")
    found = (
        await session.scalars(
            select(Project).where(Project.account_id == account_id, Project.key.in_(wanted))
        )
    ).all()
    by_key = {p.key: p for p in found}
    missing = [k for k in wanted if k not in by_key]
    if missing:
        raise ValidationProblem.for_field(field, f"unknown project(s) {', '.join(missing)}")
    return [by_key[k] for k in wanted]


# --- users ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NewUser:
    username: str
    role: Role
    email: str | None = None
    real_name: str = ""
    account_key: str | None = None
    password: str | None = None
    account_wide: bool = True
    projects: Sequence[str] = ()
    language: str = ""
    time_zone: str = ""


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def user_snapshot(user: User, **more: Any) -> dict[str, Any]:
    """What the audit log keeps of a user: never the password, only whether there is one."""
    return {
        "username": user.username,
        "email": user.email,
        "real_name": user.real_name,
        "role": user.role,
        "account_id": user.account_id,
        "account_wide": user.account_wide,
        "is_active": user.is_active,
        "language": user.language,
        "available": user.available,
        "has_password": user.password_hash is not None,
        **more,
    }


async def _project_keys(session: AsyncSession, *, user: User) -> list[str]:
    rows = await session.scalars(
        select(Project.key)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .where(ProjectMember.user_id == user.id)
        .order_by(Project.key)
    )
    return list(rows)


async def _audit_user(
    session: AsyncSession,
    *,
    action: str,
    user: User,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None = None,
) -> None:
    await audit(
        session,
        action=action,
        target_type=TargetType.USER,
        target_key=user.username,
        before=before,
        after=user_snapshot(user) if after is None else after,
        subject_user_id=user.id,
    )


async def create_user(session: AsyncSession, *, new: NewUser) -> User:
    username = _check_key("username", new.username, 150)
    email = new.email.strip().lower() if new.email else None
    if email is not None and not _EMAIL_RE.match(email):
        raise ValidationProblem.for_field("email", "is not an e-mail address")
    account: Account | None = None
    if new.account_key:
        account = await get_account(session, key=new.account_key)
    _check_role_and_account(new.role, account)
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} exists already")
    if email and await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with e-mail {email!r} exists already")
    user = User(
        username=username,
        email=email,
        real_name=new.real_name.strip(),
        role=str(new.role),
        account_id=account.id if account else None,
        account_wide=new.account_wide,
        password_hash=hash_password(new.password) if new.password else None,
        language=new.language.lower() or None,
        time_zone=new.time_zone or None,
    )
    session.add(user)
    await session.flush()
    if new.projects:
        await set_user_projects(session, user=user, project_keys=new.projects)
    await session.refresh(user, ["projects", "account"])
    after = user_snapshot(user, projects=[p.key for p in user.projects])
    await _audit_user(session, action="user.created", user=user, before=None, after=after)
    return user


def _check_role_and_account(role: Role, account: Account | None) -> None:
    if role in (Role.CUSTOMER, Role.SERVICE) and account is None:
        raise ValidationProblem.for_field("account", f"a {role} user must belong to an account")
    if role in STAFF_ROLES and account is not None:
        raise ValidationProblem.for_field("account", "agents and admins serve every account")


async def set_user_projects(
    session: AsyncSession, *, user: User, project_keys: Sequence[str]
) -> None:
    projects = await projects_by_keys(session, account_id=user.account_id, keys=project_keys)
    await session.execute(delete(ProjectMember).where(ProjectMember.user_id == user.id))
    session.add_all(ProjectMember(project_id=p.id, user_id=user.id) for p in projects)
    await session.flush()
    await session.refresh(user, ["projects"])


async def get_user(
    session: AsyncSession,
    *,
    username: str,
    with_projects: bool = False,
    with_account_projects: bool = False,
) -> User:
    """The user. ``with_projects`` loads the projects they are a member of;
    ``with_account_projects`` those of their account as well (the choices an admin's form
    offers). Relations are never loaded lazily: a caller asks for what it shows."""
    query = select(User).where(User.username == username)
    if with_projects:
        query = query.options(selectinload(User.projects))
    if with_account_projects:
        query = query.options(defaultload(User.account).selectinload(Account.projects))
    user = await session.scalar(query)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


async def find_user_for_login(session: AsyncSession, *, login: str) -> User | None:
    login = login.strip()
    user: User | None = await session.scalar(
        select(User).where((User.username == login) | (User.email == login.lower()))
    )
    return user


async def list_users(
    session: AsyncSession, *, account_key: str | None = None, role: Role | None = None
) -> Sequence[User]:
    """Users with their projects loaded (one query for all of them, not one per user)."""
    query = select(User).options(selectinload(User.projects)).order_by(User.username)
    if account_key is not None:
        query = query.join(Account, User.account_id == Account.id).where(Account.key == account_key)
    if role is not None:
        query = query.where(User.role == str(role))
    return (await session.scalars(query)).unique().all()


async def update_user(
    session: AsyncSession,
    *,
    user: User,
    email: str | None = None,
    real_name: str | None = None,
    password: str | None = None,
    is_active: bool | None = None,
    account_wide: bool | None = None,
    projects: Sequence[str] | None = None,
    language: str | None = None,
    time_zone: str | None = None,
    available: bool | None = None,
    by: User | None = None,
) -> User:
    """Change ``user``'s details. ``by`` is the admin asking (None: the operator's command
    line); disabling is refused when it would leave no admin (:func:`check_admin_kept`)."""
    check_not_built_in(user)
    if is_active is False:
        await check_admin_kept(session, user=user, by=by, role=Role(user.role), active=False)
    extra = {} if projects is None else {"projects": await _project_keys(session, user=user)}
    before = user_snapshot(user, **extra)
    if email is not None:
        await _change_email(session, user=user, email=email)
    if real_name is not None:
        user.real_name = real_name.strip()
    if password is not None:
        user.password_hash = hash_password(password)
        # Whoever knew the old password is signed out of the web UI.
        await _end_web_sessions(session, user=user)
    if is_active is not None:
        user.is_active = is_active
    if account_wide is not None:
        user.account_wide = account_wide
    if projects is not None:
        await set_user_projects(session, user=user, project_keys=projects)
    if language is not None:
        user.language = language.lower() or None
    if time_zone is not None:
        user.time_zone = time_zone or None
    if available is not None:
        user.available = available
    await session.flush()
    if projects is not None:
        extra = {"projects": await _project_keys(session, user=user)}
    after = user_snapshot(user, **extra)
    if password is not None:
        # The hash is never logged; that the password changed is.
        before["password"], after["password"] = "old", "new"
    await _audit_user(session, action="user.updated", user=user, before=before, after=after)
    return user


async def _change_email(session: AsyncSession, *, user: User, email: str) -> None:
    email = email.strip().lower()
    if not _EMAIL_RE.match(email):
        raise ValidationProblem.for_field("email", "is not an e-mail address")
    taken = await session.scalar(select(User.id).where(User.email == email, User.id != user.id))
    if taken is not None:
        raise Conflict(f"a user with e-mail {email!r} exists already")
    user.email = email


async def set_preferences(
    session: AsyncSession,
    *,
    user: User,
    language: str | None = None,
    time_zone: str | None = None,
) -> User:
    """Change what anyone may change of their own (None: leave as it is; "": the
    default). The values are checked where they come in (accounts.preferences)."""
    if language is not None:
        user.language = language.lower() or None
    if time_zone is not None:
        user.time_zone = time_zone or None
    await session.flush()
    return user


async def check_admin_kept(
    session: AsyncSession, *, user: User, by: User | None, role: Role, active: bool
) -> None:
    """Refuse (409) a change that could lock every admin out: an admin disabling or
    demoting themselves, or anyone disabling or demoting the last active admin. The one
    rule of the API, the web UI and the command line; ``by`` is None for the command line.

    The active admins' rows are locked, so that two admins disabling each other at once
    cannot both succeed (PostgreSQL; SQLite has one writer anyway)."""
    if user.role != Role.ADMIN or not user.is_active or (role == Role.ADMIN and active):
        return
    if by is not None and by.id == user.id:
        if not active:
            raise Conflict("you cannot disable your own user; ask another admin")
        raise Conflict("you cannot take away your own admin role; ask another admin")
    others = (
        await session.scalars(
            select(User.id)
            .where(User.role == Role.ADMIN.value, User.is_active.is_(True), User.id != user.id)
            .with_for_update()
        )
    ).all()
    if not others:
        raise Conflict(
            f"{user.username} is the last active admin; make another user an admin first"
        )


async def change_role(
    session: AsyncSession, *, user: User, role: Role, account_key: str | None, by: User | None
) -> User:
    """Give ``user`` another role and/or account. Moving to another account drops their
    project memberships (those projects belong to the old account). No change may leave
    no admin able to undo it (:func:`check_admin_kept`)."""
    await check_admin_kept(session, user=user, by=by, role=role, active=user.is_active)
    before = user_snapshot(user)
    account: Account | None = None
    if account_key:
        account = await session.scalar(select(Account).where(Account.key == account_key))
        if account is None:
            raise ValidationProblem.for_field("account", f"no account {account_key!r}")
    _check_role_and_account(role, account)
    new_account_id = account.id if account else None
    if new_account_id != user.account_id:
        await session.execute(delete(ProjectMember).where(ProjectMember.user_id == user.id))
    user.role = str(role)
    user.account_id = new_account_id
    await session.flush()
    await session.refresh(user, ["account", "projects"])
    await _audit_user(session, action="user.role_changed", user=user, before=before)
    return user


async def _end_web_sessions(session: AsyncSession, *, user: User) -> None:
    """Signs ``user`` out of every browser."""
    await session.execute(delete(WebSession).where(WebSession.user_id == user.id))


async def set_user_active(
    session: AsyncSession, *, user: User, active: bool, by: User | None
) -> User:
    """Disable or enable ``user``. Disabling signs them out of every browser at once; no
    one may disable themselves or the last active admin (:func:`check_admin_kept`)."""
    await check_admin_kept(session, user=user, by=by, role=Role(user.role), active=active)
    before = user_snapshot(user)
    user.is_active = active
    if not active:
        await _end_web_sessions(session, user=user)
    await session.flush()
    action = "user.enabled" if active else "user.disabled"
    await _audit_user(session, action=action, user=user, before=before)
    return user


async def reset_password(session: AsyncSession, *, user: User) -> str:
    """A new generated password for ``user`` (returned to be shown once; only its hash is
    kept). Browsers signed in with the old one are signed out."""
    password = generate_password()
    user.password_hash = hash_password(password)
    await _end_web_sessions(session, user=user)
    await session.flush()
    await _audit_user(
        session,
        action="user.password_reset",
        user=user,
        before={"password": "old"},
        after={"password": "new"},
    )
    return password


async def page_users(
    session: AsyncSession,
    *,
    role: Role | None = None,
    account_key: str | None = None,
    active: bool | None = None,
    starts_with: str | None = None,
    after_username: str | None = None,
    limit: int = 50,
) -> tuple[list[User], bool]:
    """One page of users by user name, with their projects; (page, whether more follow)."""
    query = select(User).options(selectinload(User.projects)).order_by(User.username)
    if role is not None:
        query = query.where(User.role == str(role))
    if account_key:
        query = query.join(Account, User.account_id == Account.id).where(Account.key == account_key)
    if active is not None:
        query = query.where(User.is_active.is_(active))
    if starts_with:
        prefix = starts_with.replace("\\", "").replace("%", "").replace("_", "\\_") + "%"
        query = query.where(
            User.username.like(prefix, escape="\\") | User.email.like(prefix.lower(), escape="\\")
        )
    if after_username is not None:
        query = query.where(User.username > after_username)
    rows = list((await session.scalars(query.limit(limit + 1))).unique())
    return rows[:limit], len(rows) > limit


async def page_accounts(
    session: AsyncSession, *, after_key: str | None = None, limit: int = 50
) -> tuple[list[Account], bool]:
    """One page of accounts by key, with their projects; (page, whether more follow)."""
    query = select(Account).options(selectinload(Account.projects)).order_by(Account.key)
    if after_key is not None:
        query = query.where(Account.key > after_key)
    rows = list((await session.scalars(query.limit(limit + 1))).unique())
    return rows[:limit], len(rows) > limit


async def member_counts(
    session: AsyncSession, *, account_ids: Sequence[int]
) -> tuple[dict[int, int], dict[int, int]]:
    """How many users each account has, and how many members each of their projects has:
    (by account id, by project id), in two grouped queries."""
    if not account_ids:
        return {}, {}
    users = await session.execute(
        select(User.account_id, func.count(User.id))
        .where(User.account_id.in_(account_ids))
        .group_by(User.account_id)
    )
    members = await session.execute(
        select(ProjectMember.project_id, func.count(ProjectMember.user_id))
        .join(Project, Project.id == ProjectMember.project_id)
        .where(Project.account_id.in_(account_ids))
        .group_by(ProjectMember.project_id)
    )
    return (
        {int(a): int(n) for a, n in users.all() if a is not None},
        {int(p): int(n) for p, n in members.all()},
    )


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(User.id))) or 0)


async def capped_user_count(session: AsyncSession, *, active: bool, cap: int) -> int:
    """How many users are active (or, with ``active=False``, disabled), counting no
    further than ``cap + 1``."""
    return await capped_count(session, select(User.id).where(User.is_active.is_(active)), cap=cap)


async def capped_account_count(session: AsyncSession, *, cap: int) -> int:
    """How many accounts there are, counting no further than ``cap + 1``."""
    return await capped_count(session, select(Account.id), cap=cap)


@dataclass(frozen=True)
class StaffName:
    """An agent or admin as a list of choices shows them: only the columns shown."""

    id: int
    username: str
    real_name: str


async def active_staff_names(session: AsyncSession, *, limit: int) -> list[StaffName]:
    """The active agents and admins by user name, at most ``limit`` of them."""
    rows = await session.execute(
        select(User.id, User.username, User.real_name)
        .where(User.role.in_([role.value for role in STAFF_ROLES]), User.is_active.is_(True))
        .order_by(User.username)
        .limit(limit)
    )
    return [StaffName(row.id, row.username, row.real_name) for row in rows]


# --- tokens --------------------------------------------------------------------------


async def create_token(
    session: AsyncSession, *, user: User, label: str = ""
) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row, and the token itself (never stored, shown once)."""
    check_not_built_in(user)
    token = generate_token()
    row = ApiToken(
        user_id=user.id,
        label=label.strip(),
        token_hash=hash_token(token),
        prefix=token_display_prefix(token),
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # 256 random bits colliding means a broken RNG.
        raise RuntimeError("token collision") from exc
    await session.refresh(row, ["user"])
    await audit(
        session,
        action="token.created",
        target_type=TargetType.TOKEN,
        target_key=row.id,
        after=token_snapshot(row),
        subject_user_id=row.user_id,
    )
    return row, token


def token_snapshot(row: ApiToken) -> dict[str, Any]:
    """What the audit log keeps of a token: its visible prefix, never the token or hash."""
    return {
        "username": row.user.username,
        "label": row.label,
        "prefix": row.prefix,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


async def list_tokens(session: AsyncSession, *, user: User | None = None) -> Sequence[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return (await session.scalars(query)).all()


async def page_tokens(
    session: AsyncSession,
    *,
    user: User | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> tuple[list[ApiToken], bool]:
    """Tokens, newest first (with their users); (page, whether more follow)."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    if before_id is not None:
        query = query.where(ApiToken.id < before_id)
    rows = list((await session.scalars(query.limit(limit + 1))).unique())
    return rows[:limit], len(rows) > limit


async def capped_live_token_count(session: AsyncSession, *, cap: int) -> int:
    """How many tokens are not revoked, counting no further than ``cap + 1``."""
    return await capped_count(
        session, select(ApiToken.id).where(ApiToken.revoked_at.is_(None)), cap=cap
    )


async def revoke_token(session: AsyncSession, *, token_id: int) -> ApiToken:
    row = await session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no token {token_id}")
    if row.revoked_at is None:
        before = token_snapshot(row)
        row.revoked_at = utcnow()
        await session.flush()
        await audit(
            session,
            action="token.revoked",
            target_type=TargetType.TOKEN,
            target_key=row.id,
            before=before,
            after=token_snapshot(row),
            subject_user_id=row.user_id,
        )
    return row


@functools.cache
def _user_for_token_query() -> Any:
    """Built once (this runs on every API request, and building it cost more than running
    it): one statement for the user alone, the token row itself is not needed, only that
    it matches and is not revoked."""
    return (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == bindparam("token_hash"),
            ApiToken.revoked_at.is_(None),
            User.is_active.is_(True),
        )
    )


async def user_for_token(session: AsyncSession, *, token: str) -> User | None:
    """The active user holding a live ``token``, or None."""
    user: User | None = await session.scalar(
        _user_for_token_query(), {"token_hash": hash_token(token)}
    )
    return user


async def find_customers(session: AsyncSession, *, text: str, limit: int = 20) -> list[User]:
    """Active customers whose user name or e-mail starts with ``text``, or whose real name
    holds it (any case): whom staff may file a ticket for. The user name and e-mail are
    matched by prefix, which their unique indexes answer; the real name by its words."""
    text = text.strip()
    if not text:
        return []
    literal = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = (
        select(User)
        .where(
            User.role == str(Role.CUSTOMER),
            User.is_active.is_(True),
            User.username.like(literal + "%", escape="\\")
            | User.email.like(literal.lower() + "%", escape="\\")
            | func.lower(User.real_name).like("%" + literal.lower() + "%", escape="\\"),
        )
        .order_by(User.username)
        .limit(limit)
    )
    return list((await session.scalars(query)).unique())
