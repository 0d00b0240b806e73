"""Who is signed in to the web UI, and the CSRF defence of every form.

A page dependency loads the browser's session from its cookie; without one, the browser is
sent to the sign-in page and comes back afterwards. Every POST must come from one of our
own pages: a cross-site request is refused by its Origin / Sec-Fetch-Site headers, and the
form must carry the session's CSRF token (the sign-in form, which has no session yet,
carries a token that must match a cookie of its own)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from starlette.datastructures import FormData

from helpwire.accounts.actor import Actor, load_actor
from helpwire.accounts.signin import session_for_cookie
from helpwire.api.deps import (
    SAFE_METHODS,
    Session,
    audit_actor,
    get_settings,
    read_outside_transaction,
)
from helpwire.audit.log import act_as
from helpwire.problems import Forbidden, ValidationProblem

SESSION_COOKIE = "helpwire_session"
SIGN_IN_CSRF_COOKIE = "helpwire_signin_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """Raised by page dependencies when no one is signed in; answered with a redirect."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Forbidden):
    slug = "csrf-refused"
    title = "The form could not be accepted"


@dataclass(frozen=True)
class Viewer:
    """Who is signed in, as plain values the page layout shows. Copied out of the database
    rows so that an error page can still show them after the request's transaction has
    rolled back."""

    id: int
    username: str
    real_name: str
    email: str | None
    is_staff: bool
    is_admin: bool
    # The pages' language and time zone of their choice (None: the browser's, UTC).
    language: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class WebContext:
    actor: Actor
    viewer: Viewer
    csrf_token: str


def sign_in_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


async def current_web(request: Request, session: Session) -> WebContext:
    token = request.cookies.get(SESSION_COOKIE, "")
    row = await session_for_cookie(session, token=token) if token else None
    if row is None:
        path = request.url.path + (("?" + request.url.query) if request.url.query else "")
        raise SignInRequired(path if request.method == "GET" else "/")
    actor = await load_actor(session, user=row.user)
    user = row.user
    viewer = Viewer(
        id=user.id,
        username=user.username,
        real_name=user.real_name,
        email=user.email,
        is_staff=actor.is_staff,
        is_admin=actor.is_admin,
        language=user.language,
        time_zone=user.time_zone,
    )
    web = WebContext(actor=actor, viewer=viewer, csrf_token=row.csrf_token)
    request.state.web = web
    request.state.principal = actor
    act_as(session, actor=audit_actor(request, user))
    return web


async def staff_web(web: Annotated[WebContext, Depends(current_web)]) -> WebContext:
    if not web.actor.is_staff:
        raise Forbidden("this page is for agents")
    return web


async def admin_web(web: Annotated[WebContext, Depends(current_web)]) -> WebContext:
    if not web.actor.is_admin:
        raise Forbidden("this page is for admins")
    return web


Web = Annotated[WebContext, Depends(current_web)]
StaffWeb = Annotated[WebContext, Depends(staff_web)]
AdminWeb = Annotated[WebContext, Depends(admin_web)]


def _own_hosts(request: Request) -> set[str]:
    hosts = {request.headers.get("host", "")}
    base = urlsplit(get_settings(request).base_url)
    if base.netloc:
        hosts.add(base.netloc)
    return {h.lower() for h in hosts if h}


def check_same_site(request: Request) -> None:
    """Refuses a request another site made the browser send. Browsers send
    Sec-Fetch-Site (all current ones) and Origin on every POST; either one naming another
    site is enough to refuse."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise CsrfRefused("the request came from another site")
    origin = request.headers.get("origin")
    if origin is not None and (
        origin == "null" or urlsplit(origin).netloc.lower() not in _own_hosts(request)
    ):
        raise CsrfRefused("the request came from another site")


def _matches(sent: str | None, expected: str) -> bool:
    # Bytes, not str: compare_digest refuses non-ASCII strings with a TypeError.
    return (
        bool(sent) and bool(expected) and hmac.compare_digest(str(sent).encode(), expected.encode())
    )


def _refuse_nul_characters(form: FormData) -> None:
    """NUL in a text field: PostgreSQL cannot store it and no form needs it. The door's
    NUL check (api/middleware.py) leaves multipart bodies alone for the files' sake, and
    any form can be sent as multipart."""
    for name, value in form.multi_items():
        if isinstance(value, str) and "\x00" in value:
            raise ValidationProblem.for_field(
                name[:100], "must not contain NUL (U+0000) characters", "nul_character"
            )


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


async def form_before_transaction(request: Request) -> None:
    """Every page route's first step (web/setup.py): a posted form is checked for where it
    came from and read in full (files spooled to disk) before the route's transaction
    opens, so that a slow upload never holds a transaction, or on SQLite the write lock,
    while it trickles in. The parsed form stays on the request for the route."""
    if request.method in SAFE_METHODS:
        return
    # Before anything else, sign-in included: a post from another site is refused as
    # such, not answered with a sign-in page (its browser sent no cookie, SameSite=Lax).
    check_same_site(request)
    if request.headers.get("content-type", "").startswith(_FORM_TYPES):
        _refuse_nul_characters(await request.form())


def _check_token(request: Request, form: FormData, *, expected: str) -> None:
    """The form's CSRF token (or, for scripts posting without a form field, the
    X-CSRF-Token header) must be the expected one."""
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str):
        sent = request.headers.get(CSRF_HEADER)
    if not _matches(sent, expected):
        raise CsrfRefused("the form's security token is missing or stale; reload the page")


async def read_form(request: Request) -> FormData:
    """The posted form, which form_before_transaction has read and checked already."""
    return await request.form()


async def checked_form(
    request: Request, form: Annotated[FormData, Depends(read_form)], web: Web
) -> FormData:
    """The posted form of a signed-in page, once it has proven it came from us."""
    _check_token(request, form, expected=web.csrf_token)
    return form


async def checked_form_outside_transaction(
    request: Request, form: Annotated[FormData, Depends(read_form)]
) -> tuple[WebContext, FormData]:
    """The checks of CheckedForm, made in a short reading transaction of their own, for a
    post whose work must not hold a writing transaction open (on SQLite that is the write
    lock): sending a test message to a slow receiver, say."""
    async with read_outside_transaction(request) as session:
        web = await current_web(request, session)
    _check_token(request, form, expected=web.csrf_token)
    return web, form


async def checked_sign_in_form(
    request: Request, form: Annotated[FormData, Depends(read_form)]
) -> FormData:
    _check_token(request, form, expected=request.cookies.get(SIGN_IN_CSRF_COOKIE, ""))
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]
SignInForm = Annotated[FormData, Depends(checked_sign_in_form)]


def cookies_secure(request: Request) -> bool:
    settings = get_settings(request)
    if settings.web_secure_cookies is not None:
        return settings.web_secure_cookies
    forwarded = request.headers.get("x-forwarded-proto", "")
    return (
        request.url.scheme == "https"
        or forwarded.lower() == "https"
        or settings.base_url.startswith("https://")
    )
