"""Errors on the web UI's paths are answered with a page, not a JSON problem."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.background import BackgroundTask

from helpwire.files.routes import storage_of
from helpwire.files.storage import FileStorage
from helpwire.problems import Problem
from helpwire.web.auth import SignInRequired, sign_in_url
from helpwire.web.templating import redirect, render

# Paths of the UI. Everything else (the API, the faces, operations) keeps its own format.
WEB_PREFIXES = (
    "/login",
    "/logout",
    "/tickets/",
    "/agent/",
    "/admin/",
    "/files/",
    "/ui/",
    "/mail/",
    "/settings",
)


def is_web_path(path: str) -> bool:
    return path == "/" or any(
        path == prefix.rstrip("/") or path.startswith(prefix) for prefix in WEB_PREFIXES
    )


async def _forget_stored_uploads(storage: FileStorage, keys: list[str]) -> None:
    """Files a failed form stored are not in the database (its transaction rolled back);
    their bytes go too."""
    for key in keys:
        with contextlib.suppress(OSError):
            await storage.delete(key)


def html_problem(request: Request, problem: Problem) -> Response | None:
    if not is_web_path(request.url.path):
        return None
    page = render(
        request,
        "error.html",
        status_code=problem.status,
        headers=problem.headers,
        title=problem.title,
        detail=problem.detail,
        status=problem.status,
    )
    stored: list[str] = getattr(request.state, "stored_upload_keys", [])
    if stored:
        page.background = BackgroundTask(_forget_stored_uploads, storage_of(request), stored)
    return page


def install_web_errors(app: FastAPI) -> None:
    app.state.html_errors = html_problem

    async def on_sign_in_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        return redirect(sign_in_url(exc.next_path))

    app.add_exception_handler(SignInRequired, on_sign_in_required)
