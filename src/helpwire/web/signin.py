"""Sign-in and sign-out pages, and the front door that sends each person to their start."""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from helpwire.accounts.signin import SignInRefused, check_password, end_session, start_session
from helpwire.api.deps import Session, get_database, get_settings, write_outside_transaction
from helpwire.api.routing import TransactionalRoute
from helpwire.web.auth import (
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    CheckedForm,
    SignInForm,
    cookies_secure,
    current_web,
)
from helpwire.web.i18n import translate
from helpwire.web.templating import redirect, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


def _safe_next(value: object) -> str:
    """Where to go after signing in: a path of this site, never another site."""
    text = value if isinstance(value, str) else ""
    if not text.startswith("/") or text.startswith("//") or "\\" in text or len(text) > 2000:
        return "/"
    return text


def start_page(role_is_staff: bool) -> str:
    return "/agent" if role_is_staff else "/tickets"


@router.get("/")
async def front_door(request: Request, session: Session) -> Response:
    if not request.cookies.get(SESSION_COOKIE):
        return redirect("/login")
    web = await current_web(request, session)
    return redirect(start_page(web.actor.is_staff))


def _sign_in_page(
    request: Request,
    *,
    next_path: str,
    login: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    token = request.cookies.get(SIGN_IN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    request.state.csrf_token = token
    response = render(
        request,
        "signin.html",
        status_code=status,
        next_path=next_path,
        login=login,
        error=error,
    )
    response.set_cookie(
        SIGN_IN_CSRF_COOKIE,
        token,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=cookies_secure(request),
    )
    return response


@router.get("/login")
async def sign_in_form(request: Request) -> Response:
    return _sign_in_page(request, next_path=_safe_next(request.query_params.get("next")))


@router.post("/login")
async def sign_in(request: Request, form: SignInForm) -> Response:
    """No request transaction here: the password check runs its own short ones, so that
    argon2's deliberate slowness never holds the write lock."""
    login = str(form.get("login") or "")[:320]
    password = str(form.get("password") or "")[:1024]
    next_path = _safe_next(form.get("next"))
    address = request.client.host if request.client else None
    try:
        user = await check_password(
            get_database(request), login=login, password=password, address=address
        )
    except SignInRefused as refused:
        response = _sign_in_page(
            request,
            next_path=next_path,
            login=login,
            error=_refusal_text(request, refused),
            status=429 if refused.retry_after_s else 401,
        )
        if refused.retry_after_s:
            response.headers["Retry-After"] = str(refused.retry_after_s)
        return response
    settings = get_settings(request)
    lifetime = timedelta(days=settings.web_session_days)
    async with write_outside_transaction(request) as session:
        # Signing in over a live session replaces it: the old one ends on the server too.
        await end_session(session, token=request.cookies.get(SESSION_COOKIE, ""))
        token, _row = await start_session(
            session, user=user, user_agent=request.headers.get("user-agent", ""), lifetime=lifetime
        )
    if next_path == "/":
        next_path = start_page(user.is_staff)
    response = redirect(next_path)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookies_secure(request),
    )
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/login")
    return response


def _refusal_text(request: Request, refused: SignInRefused) -> str:
    """Why the sign-in failed, in the language of the person signing in."""
    wait = refused.retry_after_s
    if not wait:
        return translate(request, "Wrong user name or password.")
    if not refused.wrong_password:
        return translate(request, "Too many failed sign-ins. Try again in %(n)s seconds.", n=wait)
    return translate(
        request,
        "Wrong user name or password. Too many failed sign-ins: try again in %(n)s seconds.",
        n=wait,
    )


@router.post("/logout")
async def sign_out(request: Request, session: Session, form: CheckedForm) -> Response:
    await end_session(session, token=request.cookies.get(SESSION_COOKIE, ""))
    response = redirect("/login", notice=translate(request, "You are signed out."))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
