"""What every face shares: its description and turning core errors into its own. A face
decides its error's shape and its token's header (who is asking is then
api.deps.resolve_caller); the toolkit here does the rest the same way for all of them."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from helpwire.api.deps import refuse_transaction
from helpwire.api.routing import TransactionalRoute
from helpwire.problems import Problem

# Renders an error in a face's own format: (status code, human message) -> response.
ErrorRenderer = Callable[[int, str], Response]
# Turns an exception raised inside a face's route into the face's answer; None: not ours.
Translator = Callable[[Request, Exception], Response | None]
# A face's answer to a body or query the framework could not validate.
InvalidAnswer = Callable[[Request, RequestValidationError], Response]
# A face's answer to a core refusal (a Problem).
ProblemAnswer = Callable[[Request, Problem], Response]


@dataclass(frozen=True)
class Face:
    name: str
    router: APIRouter
    # Paths the face answers (prefixes), so that errors answered before routing (body too
    # large, NUL characters) come in the face's format too.
    path_prefixes: tuple[str, ...]
    render_error: ErrorRenderer
    # The calls whose JSON carries files (base64), found by path: their bodies may be as
    # large as one file of HELPWIRE_MAX_FILE_BYTES, encoded. Every other call of every face
    # is bounded by HELPWIRE_MAX_REQUEST_BYTES.
    file_calls: re.Pattern[str] | None = None

    def owns(self, path: str) -> bool:
        return any(path.startswith(prefix) for prefix in self.path_prefixes)

    def carries_files(self, path: str) -> bool:
        return self.file_calls is not None and self.file_calls.search(path) is not None


def translating_route(translate: Translator) -> type[APIRoute]:
    """A route class whose handler answers exceptions in the face's format.

    The translated answer is returned normally, so the session dependency would commit;
    the request is marked refused first, and its transaction is rolled back instead: a
    refused request keeps nothing, whatever the face answers.
    """

    class TranslatingRoute(TransactionalRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            original = super().get_route_handler()

            async def handler(request: Request) -> Response:
                try:
                    return await original(request)
                except Exception as exc:
                    answer = translate(request, exc)
                    if answer is None:
                        raise
                    refuse_transaction(request)
                    return answer

            return handler

    return TranslatingRoute


def extensions(**values: Any) -> dict[str, Any]:
    """Drop None values: faces leave out what their product leaves out."""
    return {k: v for k, v in values.items() if v is not None}


def error_translator(*, invalid: InvalidAnswer, problem: ProblemAnswer) -> Translator:
    """The translator of a face: requests the framework refused, and core refusals, in
    the face's own format; any other exception is not the face's to answer (a 500)."""

    def translate(request: Request, exc: Exception) -> Response | None:
        if isinstance(exc, RequestValidationError):
            return invalid(request, exc)
        if isinstance(exc, Problem):
            return problem(request, exc)
        return None

    return translate


def json_error(
    body: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A face's error body as JSON, with the headers the refusal carries (Retry-After...)."""
    return JSONResponse(body, status_code=status, headers=headers)


def problem_headers(problem: Problem) -> dict[str, str] | None:
    """The headers a refusal asks for, or None when it asks for none."""
    return problem.headers or None
