"""ASGI middleware: request ids, access log and metrics, the body-size limit, and the
refusal of NUL characters."""

from __future__ import annotations

import email.message
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helpwire.api.metrics import Metrics
from helpwire.db.errors import RETRY_AFTER_SECONDS, is_database_unavailable
from helpwire.problems import (
    PROBLEM_MEDIA_TYPE,
    InternalError,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
    ValidationProblem,
)

log = logging.getLogger("helpwire.access")
error_log = logging.getLogger("helpwire.errors")

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


class RequestContextMiddleware:
    """Gives every request an id (the client's X-Request-ID if it sent a sane one),
    returns it in X-Request-ID, logs the request and counts it in the metrics.

    It is also where an unexpected exception ends: logged with the request id and answered
    as a 500 problem that carries X-Request-ID, so that a user's report can be found in the
    logs. (Starlette's own last-resort handler runs outside every middleware.)"""

    def __init__(self, app: ASGIApp, *, metrics: Callable[[], Metrics]) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER, b"").decode("latin-1")
        request_id = sent if _VALID_REQUEST_ID.match(sent) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_code = 500
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status_code, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status_code = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER
                ]
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            where = {"request_id": request_id, "method": scope["method"], "path": scope["path"]}
            outage = is_database_unavailable(exc)
            if outage:
                # Not a bug: one line, no traceback per request while the database is away.
                error_log.warning("the database is unavailable: %r", exc, extra=where)
            else:
                error_log.exception("unhandled error", extra=where)
            if started_response:
                raise
            await send_problem(scope, send_with_id, _unavailable() if outage else _internal())
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            metrics = self.metrics()
            metrics.requests.labels(method=method, route=route, status=str(status_code)).inc()
            metrics.latency.labels(method=method, route=route).observe(elapsed)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "path": scope["path"],
                    "route": route,
                    "status": status_code,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )


def _internal() -> Problem:
    return InternalError("an unexpected error occurred; it has been logged")


def _unavailable() -> Problem:
    return ServiceUnavailable(
        "the database cannot be reached just now; nothing of this request was kept, "
        f"try again in {RETRY_AFTER_SECONDS} seconds",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class BodyLimitMiddleware:
    """Refuses request bodies over the limit with 413, by Content-Length up front and by
    counting while the body streams in (for chunked uploads)."""

    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_too_large(scope, send, limit)
            return
        received = 0
        started = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if started:
                        raise PayloadTooLarge(
                            f"the request body is larger than the limit of {limit} bytes",
                            max_bytes=limit,
                        )
                    # FastAPI turns any error raised while it reads the body into its own
                    # 400, so the 413 is answered here and the app is told the client left;
                    # whatever it sends afterwards is dropped.
                    refused = True
                    await _send_too_large(scope, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def send_unless_refused(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, send_unless_refused)


async def _send_too_large(scope: Scope, send: Send, limit: int) -> None:
    problem = PayloadTooLarge(
        f"the request body is larger than the limit of {limit} bytes", max_bytes=limit
    )
    await send_problem(scope, send, problem, close=True)


async def send_problem(scope: Scope, send: Send, problem: Problem, *, close: bool = False) -> None:
    """Answer ``problem`` as application/problem+json, below the app's exception handlers;
    on a path a face answers, in that face's own error format; on a page of the web UI, as
    its error page."""
    app_state = getattr(scope.get("app"), "state", None)
    html_errors = getattr(app_state, "html_errors", None)
    if html_errors is not None:
        page: Response | None = html_errors(Request(scope), problem)
        if page is not None:
            if close:
                page.headers["connection"] = "close"
            await page(scope, _no_body, send)
            return
    for face in getattr(app_state, "faces", ()):
        if face.owns(scope["path"]):
            response = face.render_error(problem.status, problem.detail)
            response.headers.update(problem.headers)
            if close:
                response.headers["connection"] = "close"
            await response(scope, _no_body, send)
            return
    body = json.dumps(problem.to_dict(instance=scope["path"])).encode()
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    headers.extend(
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in problem.headers.items()
    )
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


# A JSON string escape that decodes to U+0000: an odd run of backslashes before u0000 (an
# even run is escaped backslashes followed by the plain text "u0000").
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_NUL_MESSAGE = "must not contain NUL (U+0000) characters"


class NulCharacterMiddleware:
    """Refuses NUL characters in the path, the query string and JSON or form-encoded
    bodies with a 422 naming the field. PostgreSQL cannot store U+0000 in text, and no
    support ticket needs one; refusing them at the door keeps every engine and every face
    alike. Multipart bodies (file uploads) pass untouched: files may hold any bytes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _nul_in_path_or_query(scope)
        if problem is not None:
            await send_problem(scope, send, problem)
            return
        kind = _scanned_body_kind(scope)
        if kind is None:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left, or the body limit has answered already
            messages.append(message)
            if not message.get("more_body", False):
                break
        problem = _nul_in_body(b"".join(m.get("body", b"") for m in messages), kind)
        if problem is not None:
            await send_problem(scope, send, problem)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _nul_in_path_or_query(scope: Scope) -> Problem | None:
    if "\x00" in scope["path"]:
        return ValidationProblem.for_field("path", _NUL_MESSAGE, "nul_character")
    query: bytes = scope.get("query_string", b"")
    if b"\x00" in unquote_to_bytes(query):
        return _form_problem(query, default="query")
    return None


def _scanned_body_kind(scope: Scope) -> str | None:
    if scope["method"] in ("GET", "HEAD", "OPTIONS"):
        return None
    raw = dict(scope.get("headers") or []).get(b"content-type")
    if raw is None:
        return "json"  # FastAPI reads a body without a content type as JSON
    header = email.message.Message()
    header["content-type"] = raw.decode("latin-1")
    if header.get_content_maintype() != "application":
        return None
    subtype = header.get_content_subtype()
    if subtype == "json" or subtype.endswith("+json"):
        return "json"
    if subtype == "x-www-form-urlencoded":
        return "form"
    return None


def _nul_in_body(body: bytes, kind: str) -> Problem | None:
    if kind == "form":
        if b"\x00" in unquote_to_bytes(body.replace(b"+", b" ")):
            return _form_problem(body, default="body")
        return None
    if not _JSON_NUL.search(body):
        return None  # (a raw NUL byte is not valid JSON, and is refused as such)
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None  # the app answers that the body cannot be read
    return ValidationProblem.for_field(
        _nul_field(document) or "body", _NUL_MESSAGE, "nul_character"
    )


def _form_problem(encoded: bytes, *, default: str) -> Problem:
    field = default
    pairs = parse_qsl(encoded.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
    for name, value in pairs:
        if "\x00" in value and "\x00" not in name:
            field = name
            break
    return ValidationProblem.for_field(field, _NUL_MESSAGE, "nul_character")


def _nul_field(document: Any, where: str = "") -> str | None:
    """The field holding the first NUL, named as validation errors name fields:
    ``attributes.list[1].deep``; a NUL in a key names the object holding it."""
    stack: list[tuple[Any, str]] = [(document, where)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path
        elif isinstance(value, dict):
            if any("\x00" in key for key in value):
                return path
            stack.extend(
                (item, f"{path}.{key}" if path else key) for key, item in reversed(value.items())
            )
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(value))))
    return None
