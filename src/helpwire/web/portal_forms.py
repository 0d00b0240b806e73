"""What the customer portal's forms share: checking a form by the API's own schemas,
messages a person can act on, and cleaning up after a form whose work was rolled back."""

from __future__ import annotations

import contextlib
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from helpwire.accounts.actor import Actor
from helpwire.api.deps import get_settings
from helpwire.files.routes import storage_of
from helpwire.problems import (
    Conflict,
    Forbidden,
    PayloadTooLarge,
    Problem,
    ValidationProblem,
    field_error,
)
from helpwire.tickets.models import AccessLevel
from helpwire.tickets.schemas import MAX_BODY_CHARS, MAX_SUBJECT_CHARS
from helpwire.web.auth import WebContext
from helpwire.web.i18n import N_, PageLocale, locale_of

Model = TypeVar("Model", bound=BaseModel)

ACCESS_LEVEL_LABELS = {
    AccessLevel.ACCOUNT_USERS.value: N_("Me and my account's administrators"),
    AccessLevel.PROJECT_USERS.value: N_("Members of the projects chosen below"),
    AccessLevel.ALL_USERS.value: N_("Everyone in my account"),
}

# What a form field needs, said the way a person filling in the form understands it. The
# schemas' own messages ("String should match pattern '\S'") are for API clients.
_FIELD_HINTS = {
    "subject": N_("Give the ticket a subject (at most %(n)s characters)."),
    "body": N_("Write a message (at most %(n)s characters)."),
    "type": N_("Choose one of the listed types."),
    "priority": N_("Choose one of the listed priorities."),
    "access_level": N_("Choose who may see the ticket from the list."),
    "score": N_("Choose a rating from 1 to 5."),
    "comment": N_("The comment can be at most %(n)s characters."),
}
_FIELD_LIMITS = {"subject": MAX_SUBJECT_CHARS, "body": MAX_BODY_CHARS, "comment": MAX_BODY_CHARS}


def customer_actor(web: WebContext) -> Actor:
    """The actor of a portal form. Staff work in the console; a form posted to the portal
    by an agent is refused rather than done in a customer's name."""
    if web.actor.is_staff:
        raise Forbidden("the customer portal is for customers; agents work at /agent")
    return web.actor


def request_id_of(request: Request) -> str | None:
    value = getattr(request.state, "request_id", None)
    return str(value) if value else None


def _hint(locale: PageLocale, name: str, fallback: str) -> str:
    """What field ``name`` needs, in the reader's language."""
    hint = _FIELD_HINTS.get(name)
    if hint is None:
        return fallback
    limit = _FIELD_LIMITS.get(name)
    return locale.gettext(hint, n=f"{limit:,}") if limit else locale.gettext(hint)


def validated(model: type[Model], request: Request, /, **values: Any) -> Model:
    """The form's values checked by the API's own schema, so that the web UI accepts
    exactly what the API accepts; failures become a ValidationProblem a person can read,
    in the language of the request's reader."""
    try:
        return model(**values)
    except PydanticValidationError as exc:
        locale = locale_of(request)
        errors = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "form"
            errors.append(field_error(name, _hint(locale, name, f"{name}: {error['msg']}")))
        raise ValidationProblem(
            " ".join(dict.fromkeys(e["message"] for e in errors)), errors=errors
        ) from None


def field_messages(problem: Problem) -> dict[str, str]:
    """A problem's messages by form field; "form" for what belongs to no single field."""
    if not problem.errors:
        return {"files" if isinstance(problem, PayloadTooLarge) else "form": problem.detail}
    messages: dict[str, str] = {}
    for error in problem.errors:
        name = str(error.get("field") or "form")
        # A custom field's errors name it ("fields.<key>"), as its input is named.
        name = (name if name.startswith("fields.") else name.split(".")[0]).split("[")[0]
        messages.setdefault(name, str(error.get("message") or problem.detail))
    return messages


# Problems a person can fix on the page they came from: bad input (422), a file too large
# (413) and a move the ticket's state does not allow (409). Anything else (403, 404) is an
# error page.
FIXABLE = (ValidationProblem, PayloadTooLarge, Conflict)


async def forget_uploads(request: Request) -> None:
    """The bytes of files stored for a form whose work was rolled back: their rows are
    gone with the savepoint, so nothing else would ever delete them."""
    keys: list[str] = getattr(request.state, "stored_upload_keys", [])
    request.state.stored_upload_keys = []
    storage = storage_of(request)
    for key in keys:
        with contextlib.suppress(OSError):
            await storage.delete(key)


def max_file_megabytes(request: Request) -> int:
    return max(1, get_settings(request).max_file_bytes // (1024 * 1024))
