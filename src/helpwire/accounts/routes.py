"""The accounts API: who am I, and the admin's accounts, projects, users and tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from helpwire.accounts import service
from helpwire.accounts.models import Account, ApiToken, Role, User
from helpwire.accounts.schemas import (
    AccountCreate,
    AccountOut,
    NewTokenOut,
    PreferencesUpdate,
    ProjectIn,
    ProjectOut,
    TokenCreate,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from helpwire.api.deps import AdminPrincipal, CurrentPrincipal, Session
from helpwire.api.idempotency import IdempotencyKey, create_once
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.api.types import RowId

router = APIRouter(prefix="/api/v1", tags=["accounts"], responses=PROBLEM_RESPONSES)


def account_out(account: Account) -> AccountOut:
    return AccountOut(
        key=account.key,
        name=account.name,
        created_at=account.created_at,
        projects=[
            ProjectOut(key=p.key, name=p.name, account=account.key) for p in account.projects
        ],
    )


def user_out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        email=user.email,
        real_name=user.real_name,
        role=Role(user.role),
        account=user.account.key if user.account else None,
        account_wide=user.account_wide,
        projects=[p.key for p in user.projects],
        is_active=user.is_active,
        has_password=user.password_hash is not None,
        language=user.language,
        time_zone=user.time_zone,
        available=user.available,
        created_at=user.created_at,
        erased_at=user.erased_at,
    )


def token_out(row: ApiToken) -> TokenOut:
    return TokenOut(
        id=row.id,
        username=row.user.username,
        label=row.label,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


@router.get("/me", response_model=UserOut, summary="The user this token acts as")
async def me(session: Session, principal: CurrentPrincipal) -> UserOut:
    username = principal.user.username
    return user_out(await service.get_user(session, username=username, with_projects=True))


@router.patch("/me", response_model=UserOut, summary="Change your own language and time zone")
async def update_me(
    body: PreferencesUpdate, session: Session, principal: CurrentPrincipal
) -> UserOut:
    user = await service.get_user(session, username=principal.user.username, with_projects=True)
    user = await service.set_preferences(
        session, user=user, language=body.language, time_zone=body.time_zone
    )
    return user_out(user)


@router.get("/accounts", response_model=list[AccountOut], summary="Accounts (admin)")
async def list_accounts(session: Session, _admin: AdminPrincipal) -> list[AccountOut]:
    return [account_out(a) for a in await service.list_accounts(session)]


@router.post(
    "/accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountOut,
    summary="Create an account (admin)",
)
async def create_account(
    request: Request,
    body: AccountCreate,
    session: Session,
    admin: AdminPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def produce() -> tuple[AccountOut, dict[str, str]]:
        account = await service.create_account(
            session, key=body.key, name=body.name, projects=body.projects
        )
        return account_out(account), {}

    return await create_once(session, request=request, actor=admin, body=body, produce=produce)


@router.get("/accounts/{key}", response_model=AccountOut, summary="An account (admin)")
async def get_account(key: str, session: Session, _admin: AdminPrincipal) -> AccountOut:
    return account_out(await service.get_account(session, key=key, with_projects=True))


@router.post(
    "/accounts/{key}/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectOut,
    summary="Add a project to an account (admin)",
)
async def create_project(
    request: Request,
    key: str,
    body: ProjectIn,
    session: Session,
    admin: AdminPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def produce() -> tuple[ProjectOut, dict[str, str]]:
        account = await service.get_account(session, key=key)
        project = await service.create_project(
            session, account=account, key=body.key, name=body.name
        )
        return ProjectOut(key=project.key, name=project.name, account=account.key), {}

    return await create_once(session, request=request, actor=admin, body=body, produce=produce)


@router.get("/users", response_model=list[UserOut], summary="Users (admin)")
async def list_users(
    session: Session, _admin: AdminPrincipal, account: str | None = None, role: Role | None = None
) -> list[UserOut]:
    users = await service.list_users(session, account_key=account, role=role)
    return [user_out(u) for u in users]


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    summary="Create a user (admin)",
)
async def create_user(
    request: Request,
    body: UserCreate,
    session: Session,
    admin: AdminPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def produce() -> tuple[UserOut, dict[str, str]]:
        user = await service.create_user(
            session,
            new=service.NewUser(
                username=body.username,
                role=body.role,
                email=body.email,
                real_name=body.real_name,
                account_key=body.account,
                password=body.password,
                account_wide=body.account_wide,
                projects=body.projects,
                language=body.language,
                time_zone=body.time_zone,
            ),
        )
        return user_out(user), {}

    return await create_once(session, request=request, actor=admin, body=body, produce=produce)


@router.get("/users/{username}", response_model=UserOut, summary="A user (admin)")
async def get_user(username: str, session: Session, _admin: AdminPrincipal) -> UserOut:
    return user_out(await service.get_user(session, username=username, with_projects=True))


@router.patch("/users/{username}", response_model=UserOut, summary="Change a user (admin)")
async def update_user(
    username: str, body: UserUpdate, session: Session, admin: AdminPrincipal
) -> UserOut:
    user = await service.get_user(session, username=username, with_projects=True)
    user = await service.update_user(
        session,
        user=user,
        email=body.email,
        real_name=body.real_name,
        password=body.password,
        is_active=body.is_active,
        account_wide=body.account_wide,
        projects=body.projects,
        language=body.language,
        time_zone=body.time_zone,
        available=body.available,
        by=admin.user,
    )
    return user_out(user)


@router.get("/tokens", response_model=list[TokenOut], summary="API tokens (admin)")
async def list_tokens(
    session: Session, _admin: AdminPrincipal, username: str | None = None
) -> list[TokenOut]:
    user = await service.get_user(session, username=username) if username else None
    return [token_out(t) for t in await service.list_tokens(session, user=user)]


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=NewTokenOut,
    summary="Create an API token for a user (admin); the token is shown once",
)
async def create_token(
    request: Request,
    body: TokenCreate,
    session: Session,
    admin: AdminPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    # A retry with the same Idempotency-Key creates no second token; the token itself is
    # not kept with the key (only its hash exists), so the retry is told it was shown once.
    async def produce() -> tuple[NewTokenOut, dict[str, str]]:
        user = await service.get_user(session, username=body.username)
        row, token = await service.create_token(session, user=user, label=body.label)
        return NewTokenOut(**token_out(row).model_dump(), token=token), {}

    return await create_once(
        session,
        request=request,
        actor=admin,
        body=body,
        produce=produce,
        secret_fields=frozenset({"token"}),
    )


@router.delete("/tokens/{token_id}", response_model=TokenOut, summary="Revoke a token (admin)")
async def revoke_token(token_id: RowId, session: Session, _admin: AdminPrincipal) -> TokenOut:
    return token_out(await service.revoke_token(session, token_id=token_id))
