"""Exception handlers: every error of the native API is an RFC 9457 problem."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from helpwire.problems import (
    PROBLEM_MEDIA_TYPE,
    InternalError,
    MalformedRequest,
    Problem,
    ValidationProblem,
    field_error,
)

log = logging.getLogger("helpwire.errors")

_LOCATION_PREFIXES = {"body", "query", "header", "path", "cookie"}


def problem_response(request: Request, problem: Problem) -> Response:
    # The web UI answers its own paths with an HTML page (registered by web/setup.py).
    html_errors = getattr(request.app.state, "html_errors", None)
    if html_errors is not None:
        page: Response | None = html_errors(request, problem)
        if page is not None:
            return page
    return JSONResponse(
        problem.to_dict(instance=request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in _LOCATION_PREFIXES and len(parts) > 1:
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return name or str(loc[0] if loc else "body")


def validation_problem(exc: RequestValidationError) -> Problem:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return MalformedRequest("the body is not valid JSON")
    fields = [
        field_error(
            _field_name(tuple(e.get("loc", ()))),
            str(e.get("msg", "invalid")),
            str(e.get("type", "invalid")),
        )
        for e in errors
    ]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return ValidationProblem(summary or "the request is not valid", errors=fields)


def unreadable_body(exc: StarletteHTTPException) -> Problem | None:
    """FastAPI answers a JSON body its parser gives up on (not UTF-8, nested past the
    recursion limit, an integer of thousands of digits) with a bare 400; it is a malformed
    request like any other body that is not JSON."""
    cause = exc.__cause__
    if exc.status_code != 400 or not isinstance(cause, ValueError | RecursionError):
        return None
    if isinstance(cause, UnicodeDecodeError):
        return MalformedRequest("the body is not valid UTF-8")
    if isinstance(cause, RecursionError):
        return MalformedRequest("the body's JSON is nested too deeply to read")
    # Python refuses integers of more than 4,300 digits (a guard against slow parsing).
    return MalformedRequest("the body holds a JSON number too long to read")


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(request, validation_problem(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        # An unknown path or method under a face's paths is answered in that face's format.
        for face in getattr(request.app.state, "faces", ()):
            if face.owns(request.url.path):
                answer: Response = face.render_error(exc.status_code, str(exc.detail))
                answer.headers.update(dict(exc.headers or {}))
                return answer
        unreadable = unreadable_body(exc)
        if unreadable is not None:
            return problem_response(request, unreadable)
        problem = Problem(str(exc.detail), headers=dict(exc.headers or {}))
        problem.status = exc.status_code
        problem.slug = {404: "not-found", 405: "method-not-allowed"}.get(
            exc.status_code, "http-error"
        )
        problem.title = {404: "Not found", 405: "Method not allowed"}.get(
            exc.status_code, "HTTP error"
        )
        return problem_response(request, problem)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # The last resort, outside every middleware. RequestContextMiddleware answers
        # unexpected errors of the app itself, with the request id; this one only sees
        # errors raised by the middleware.
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(
            request, InternalError("an unexpected error occurred; it has been logged")
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
