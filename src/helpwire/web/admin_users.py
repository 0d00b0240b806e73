"""Admin pages for users: list, create, role and account, disable, reset password."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from helpwire.accounts import service
from helpwire.accounts.models import Role, User
from helpwire.accounts.schemas import UserCreate, UserUpdate
from helpwire.accounts.security import generate_password
from helpwire.api.deps import Session
from helpwire.api.routing import TransactionalRoute
from helpwire.problems import Problem
from helpwire.web.admin_forms import (
    PAGE_SIZE,
    FormError,
    checked,
    form_error,
    form_words,
    pydantic_error,
)
from helpwire.web.auth import AdminWeb, CheckedForm
from helpwire.web.i18n import translate
from helpwire.web.refusable import refusable
from helpwire.web.settings_page import preference_choices
from helpwire.web.shared import form_text
from helpwire.web.templating import redirect, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

ROLES = [role.value for role in Role]
# The account keys offered as suggestions in the user forms.
SUGGESTED_ACCOUNTS = 200


def _parse_role(value: str | None) -> Role | None:
    return Role(value) if value in ROLES else None


def _parse_active(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


async def _account_keys(session: AsyncSession) -> list[str]:
    accounts, _more = await service.page_accounts(session, limit=SUGGESTED_ACCOUNTS)
    return [a.key for a in accounts]


def user_url(user: User) -> str:
    return f"/admin/users/{user.username}"


# --- the list --------------------------------------------------------------------------


@router.get("/admin/users")
async def users_page(request: Request, session: Session, _web: AdminWeb) -> Response:
    params = request.query_params
    role = _parse_role(params.get("role"))
    active = _parse_active(params.get("active"))
    account = (params.get("account") or "").strip()[:64]
    q = (params.get("q") or "").strip()[:150]
    after = params.get("after") or None
    users, more = await service.page_users(
        session,
        role=role,
        account_key=account or None,
        active=active,
        starts_with=q or None,
        after_username=after,
        limit=PAGE_SIZE,
    )
    return render(
        request,
        "admin/users.html",
        users=users,
        roles=ROLES,
        filters={
            "role": role.value if role else "",
            "active": params.get("active") or "",
            "account": account,
            "q": q,
        },
        next_after=users[-1].username if more and users else None,
        paged=after is not None,
    )


# --- creating a user -------------------------------------------------------------------


def _new_user_values(form: FormData | None) -> dict[str, Any]:
    """What the create form shows: the posted values, or the defaults."""
    if form is None:
        return {
            "username": "",
            "email": "",
            "real_name": "",
            "role": "customer",
            "account": "",
            "account_wide": True,
            "projects": "",
        }
    return {
        "username": form_text(form, "username").strip(),
        "email": form_text(form, "email").strip(),
        "real_name": form_text(form, "real_name").strip(),
        "role": form_text(form, "role"),
        "account": form_text(form, "account").strip(),
        "account_wide": checked(form, "account_wide"),
        "projects": form_text(form, "projects"),
    }


async def _new_user_page(
    request: Request,
    session: AsyncSession,
    *,
    form: FormData | None = None,
    error: FormError | None = None,
) -> Response:
    return render(
        request,
        "admin/user_new.html",
        status_code=422 if error else 200,
        values=_new_user_values(form),
        roles=ROLES,
        account_keys=await _account_keys(session),
        error=error,
    )


@router.get("/admin/users/new")
async def new_user_form(request: Request, session: Session, _web: AdminWeb) -> Response:
    return await _new_user_page(request, session)


@router.post("/admin/users")
async def create_user(
    request: Request, session: Session, _web: AdminWeb, form: CheckedForm
) -> Response:
    values = _new_user_values(form)
    typed_password = form_text(form, "password")
    try:
        body = UserCreate.model_validate(
            {
                "username": values["username"],
                "email": values["email"] or None,
                "real_name": values["real_name"],
                "role": values["role"],
                "account": values["account"] or None,
                "password": typed_password or None,
                "account_wide": values["account_wide"],
                "projects": form_words(form, "projects"),
            }
        )
    except ValidationError as exc:
        return await _new_user_page(request, session, form=form, error=pydantic_error(exc))
    password = body.password or generate_password()
    try:
        # A savepoint: a refusal half-way (say, an unknown project after the user row was
        # written) leaves nothing behind, and the page can still be shown.
        async with refusable(request, session):
            user = await service.create_user(
                session,
                new=service.NewUser(
                    username=body.username,
                    role=body.role,
                    email=body.email,
                    real_name=body.real_name,
                    account_key=body.account,
                    password=password,
                    account_wide=body.account_wide,
                    projects=body.projects,
                ),
            )
    except Problem as problem:
        return await _new_user_page(request, session, form=form, error=form_error(problem))
    return render(
        request,
        "admin/secret_shown.html",
        heading=translate(request, "User %(username)s created", username=user.username),
        user=user,
        shown_label=translate(request, "Password"),
        secret=None if typed_password else password,
        note=(
            translate(request, "The password you typed is set; it is not shown again.")
            if typed_password
            else translate(
                request,
                "This generated password is shown only this once. Hand it over safely; "
                "the user can sign in with it now.",
            )
        ),
        back_url=user_url(user),
        back_label=translate(request, "Open the user"),
    )


# --- changing a user -------------------------------------------------------------------


async def _loaded_user(session: AsyncSession, username: str) -> User:
    """The user with what the user's page shows: their projects and their account's."""
    return await service.get_user(
        session, username=username, with_projects=True, with_account_projects=True
    )


def _user_values(user: User, form: FormData | None) -> dict[str, Any]:
    if form is None:
        return {
            "email": user.email or "",
            "real_name": user.real_name,
            "role": user.role,
            "account": user.account.key if user.account else "",
            "account_wide": user.account_wide,
            "projects": " ".join(p.key for p in user.projects),
            "language": user.language or "",
            "time_zone": user.time_zone or "",
        }
    return {
        "email": form_text(form, "email").strip(),
        "real_name": form_text(form, "real_name").strip(),
        "role": form_text(form, "role"),
        "account": form_text(form, "account").strip(),
        "account_wide": checked(form, "account_wide"),
        "projects": form_text(form, "projects"),
        "language": form_text(form, "language", default=user.language or "").strip(),
        "time_zone": form_text(form, "time_zone", default=user.time_zone or "").strip(),
    }


async def _user_page(
    request: Request,
    session: AsyncSession,
    *,
    user: User,
    form: FormData | None = None,
    error: FormError | None = None,
    status_code: int = 200,
) -> Response:
    tokens, more_tokens = await service.page_tokens(session, user=user, limit=10)
    return render(
        request,
        "admin/user_edit.html",
        status_code=status_code,
        user=user,
        values=_user_values(user, form),
        roles=ROLES,
        account_keys=await _account_keys(session),
        preference_choices=preference_choices(user.language),
        tokens=tokens,
        more_tokens=more_tokens,
        error=error,
    )


async def refused_user_page(
    request: Request, session: AsyncSession, *, user: User, problem: Problem
) -> Response:
    """The user's page again, saying why what was asked of it was refused."""
    return await _user_page(
        request, session, user=user, error=form_error(problem), status_code=problem.status
    )


async def loaded_user(session: AsyncSession, username: str) -> User:
    return await _loaded_user(session, username)


@router.get("/admin/users/{username}")
async def user_page(username: str, request: Request, session: Session, _web: AdminWeb) -> Response:
    return await _user_page(request, session, user=await _loaded_user(session, username))


@router.post("/admin/users/{username}")
async def update_user(
    username: str, request: Request, session: Session, web: AdminWeb, form: CheckedForm
) -> Response:
    user = await _loaded_user(session, username)
    values = _user_values(user, form)
    try:
        body = UserUpdate.model_validate(
            {
                "email": values["email"] or None,
                "real_name": values["real_name"],
                "account_wide": values["account_wide"],
                "projects": form_words(form, "projects"),
                "language": values["language"],
                "time_zone": values["time_zone"],
            }
        )
        role = Role(values["role"])
    except (ValidationError, ValueError) as exc:
        error = (
            pydantic_error(exc)
            if isinstance(exc, ValidationError)
            else FormError("role: choose one of " + ", ".join(ROLES), "role")
        )
        return await _user_page(
            request, session, user=user, form=form, error=error, status_code=422
        )
    try:
        async with refusable(request, session):
            await service.change_role(
                session,
                user=user,
                role=role,
                account_key=values["account"] or None,
                by=web.actor.user,
            )
            await service.update_user(
                session,
                user=user,
                email=body.email,
                real_name=body.real_name,
                account_wide=body.account_wide,
                projects=body.projects,
                language=body.language,
                time_zone=body.time_zone,
            )
    except Problem as problem:
        user = await _loaded_user(session, username)
        # A mistake in the form is a 422; a refused change (the last admin) a 409.
        return await _user_page(
            request,
            session,
            user=user,
            form=form,
            error=form_error(problem),
            status_code=problem.status if problem.status == 409 else 422,
        )
    notice = translate(request, "Saved %(username)s.", username=user.username)
    return redirect(user_url(user), notice=notice)


async def _set_active(
    username: str, request: Request, session: AsyncSession, web: AdminWeb, *, active: bool
) -> Response:
    user = await _loaded_user(session, username)
    try:
        await service.set_user_active(session, user=user, active=active, by=web.actor.user)
    except Problem as problem:
        return await _user_page(
            request, session, user=user, error=form_error(problem), status_code=problem.status
        )
    notice = (
        translate(request, "%(username)s is enabled.", username=user.username)
        if active
        else translate(
            request, "%(username)s is disabled and signed out everywhere.", username=user.username
        )
    )
    return redirect(user_url(user), notice=notice)


@router.post("/admin/users/{username}/disable")
async def disable_user(
    username: str, request: Request, session: Session, web: AdminWeb, _form: CheckedForm
) -> Response:
    return await _set_active(username, request, session, web, active=False)


@router.post("/admin/users/{username}/enable")
async def enable_user(
    username: str, request: Request, session: Session, web: AdminWeb, _form: CheckedForm
) -> Response:
    return await _set_active(username, request, session, web, active=True)


@router.post("/admin/users/{username}/reset-password")
async def reset_password(
    username: str, request: Request, session: Session, _web: AdminWeb, _form: CheckedForm
) -> Response:
    user = await _loaded_user(session, username)
    password = await service.reset_password(session, user=user)
    return render(
        request,
        "admin/secret_shown.html",
        heading=translate(request, "New password for %(username)s", username=user.username),
        user=user,
        shown_label=translate(request, "Password"),
        secret=password,
        note=translate(
            request,
            "This password is shown only this once. The old one no longer works, and "
            "%(username)s has been signed out of every browser.",
            username=user.username,
        ),
        back_url=user_url(user),
        back_label=translate(request, "Back to the user"),
    )
