"""OpenAPI descriptions of the error answers every native route can give."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from helpwire.problems import PROBLEM_MEDIA_TYPE


class FieldError(BaseModel):
    field: str = Field(description="Where the problem is: a body field, query parameter or header.")
    message: str
    code: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(
        description="Stable identifier of the kind of problem, e.g. /problems/not-found."
    )
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": ProblemDetails.model_json_schema()}},
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("The body cannot be read."),
    401: _problem("No valid API token."),
    403: _problem("The token may not do this."),
    404: _problem("No such resource, or not visible to you."),
    409: _problem("Not allowed in the current state (the reason is in detail)."),
    412: _problem("If-Match did not match the current ETag."),
    413: _problem("The body or a file is too large."),
    422: _problem("A field is invalid (see errors), or an Idempotency-Key was reused."),
}
