"""OpenAPI descriptions of the error answers the native routes can give.

The problem body is described once, as the components ``Problem`` and ``FieldError``; each
error answer refers to it. (Inlining a Pydantic schema would carry its own ``$defs``,
whose references resolve against the whole document and so point nowhere.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from helpwire.problems import PROBLEM_MEDIA_TYPE

SCHEMA_REF = "#/components/schemas/{model}"


class FieldError(BaseModel):
    model_config = ConfigDict(title="FieldError")

    field: str = Field(description="Where the problem is: a body field, query parameter or header.")
    message: str
    code: str


class Problem(BaseModel):
    """RFC 9457 problem details. Some problems carry more members (extensions)."""

    model_config = ConfigDict(title="Problem", extra="allow")

    type: str = Field(
        description="Stable identifier of the kind of problem, e.g. /problems/not-found."
    )
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


_DESCRIPTIONS: dict[int, str] = {
    400: "The body cannot be read.",
    401: "No valid API token.",
    403: "The token may not do this.",
    404: "No such resource, or not visible to you.",
    409: "Not allowed in the current state (the reason is in detail).",
    412: "If-Match did not match the current ETag.",
    413: "The body or a file is too large.",
    415: "The body is not of a media type this operation reads.",
    422: "A field is invalid (see errors), or an Idempotency-Key was reused.",
    428: "This operation needs an If-Match header.",
    429: "Too many requests; Retry-After says when to try again.",
    503: "The service cannot answer now (the database is unreachable); try again.",
}


def problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One error answer: a problem body, described by reference."""
    return {
        "description": description or _DESCRIPTIONS[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": SCHEMA_REF.format(model="Problem")}}},
    }


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: problem_response(status) for status in statuses}


# What any native route can answer: bad bodies and fields, authentication and permission,
# missing or hidden resources, state conflicts, size limits, rate limits, outages.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = problem_responses(
    400, 401, 403, 404, 409, 413, 422, 429, 503
)
# Routes that honour If-Match add these.
PRECONDITION_RESPONSES: dict[int | str, dict[str, Any]] = problem_responses(412, 428)


def problem_schemas() -> dict[str, Any]:
    """``Problem`` and ``FieldError`` as components/schemas entries."""
    _, top = models_json_schema(
        [(Problem, "serialization"), (FieldError, "serialization")],
        ref_template=SCHEMA_REF,
    )
    schemas: dict[str, Any] = top["$defs"]
    return schemas


def install_problem_schemas(app: FastAPI) -> None:
    """Adds the problem schemas to the app's OpenAPI document, which refers to them."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            components = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in problem_schemas().items():
                components.setdefault(name, schema)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
