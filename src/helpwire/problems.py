"""Error types raised by services, and their RFC 9457 rendering for the native API.

Services raise :class:`Problem` subclasses; they know nothing of HTTP beyond a status
code. Each face translates them into its own error body; the native API renders them as
``application/problem+json`` with a stable ``type``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PROBLEM_BASE = "/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """A failure a client can act on. ``slug`` names it for good (it becomes ``type``)."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])
        self.headers = headers or {}
        self.extensions = extensions

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.slug

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


def field_error(field: str, message: str, code: str = "invalid") -> dict[str, Any]:
    """One entry of a problem's ``errors``: which field, what is wrong with it."""
    return {"field": field, "message": message, "code": code}


class ValidationProblem(Problem):
    status = 422
    slug = "validation-error"
    title = "The request is not valid"

    @classmethod
    def for_field(cls, field: str, message: str, code: str = "invalid") -> ValidationProblem:
        return cls(f"{field}: {message}", errors=[field_error(field, message, code)])


class MalformedRequest(Problem):
    status = 400
    slug = "malformed-request"
    title = "The request body cannot be read"


class Unauthenticated(Problem):
    status = 401
    slug = "unauthenticated"
    title = "Authentication required"


class Forbidden(Problem):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class NotFound(Problem):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(Problem):
    """A state conflict: an illegal lifecycle move, a duplicate name."""

    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class IllegalTransition(Conflict):
    slug = "illegal-transition"
    title = "This move is not allowed in the ticket's current state"


class PreconditionFailed(Problem):
    status = 412
    slug = "precondition-failed"
    title = "The resource has changed"


class PayloadTooLarge(Problem):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(Problem):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class IdempotencyKeyReused(Problem):
    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency-Key was used for a different request"


class SecretShownOnce(Problem):
    """A retry of a request whose answer held a secret: the secret is not kept to replay."""

    status = 409
    slug = "secret-shown-once"
    title = "The secret was shown once"


class RateLimited(Problem):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"


class InternalError(Problem):
    """A bug. Never raised on purpose: unexpected exceptions are answered as this."""

    status = 500
    slug = "internal-error"
    title = "Internal error"


class FileBytesMissing(Problem):
    """A file the database knows has no bytes in the file storage: lost, or kept on
    another machine's disk (local storage in a deployment of several machines). Answered
    before any byte is sent, rather than as a download cut off after its headers."""

    status = 500
    slug = "file-bytes-missing"
    title = "The file's bytes are missing from the file storage"


class ServiceUnavailable(Problem):
    """The database cannot be reached just now: nothing of the request was kept, and the
    same request may be sent again after ``Retry-After`` seconds."""

    status = 503
    slug = "service-unavailable"
    title = "Service temporarily unavailable"


# Every problem type the native API can answer, for the docs and the OpenAPI document.
ALL_PROBLEMS: tuple[type[Problem], ...] = (
    Problem,
    ValidationProblem,
    MalformedRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    IllegalTransition,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    IdempotencyKeyReused,
    RateLimited,
    InternalError,
    ServiceUnavailable,
)
