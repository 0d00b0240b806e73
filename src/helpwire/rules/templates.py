"""Placeholders in macros and rule texts: ``{{ ticket.requester.first_name }}`` and the
like, rendered in Jinja2's sandbox from plain values (never the ORM objects), so a text
can read what the placeholders below offer and nothing else."""

from __future__ import annotations

from typing import Any

from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from helpwire.accounts.models import User
from helpwire.problems import ValidationProblem
from helpwire.tickets.models import Ticket

_ENVIRONMENT = SandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)
MAX_RENDERED = 100_000


def _person(user: User | None) -> dict[str, str] | None:
    if user is None:
        return None
    name = user.real_name or user.username
    return {
        "name": name,
        "first_name": name.split()[0] if name.split() else name,
        "username": user.username,
        "email": user.email or "",
    }


def placeholders(ticket: Ticket, viewer: User) -> dict[str, Any]:
    """What a text may use: the ticket's own facts, its people, and the agent applying it."""
    return {
        "ticket": {
            "number": ticket.number,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "type": ticket.type,
            "tags": list(ticket.tags),
            "requester": _person(ticket.requester),
            "assignee": _person(ticket.assignee),
            "group": ticket.group.name if ticket.group else "",
            "account": ticket.account.name if ticket.account else "",
        },
        "agent": _person(viewer),
    }


def check_template(text: str, field: str) -> None:
    """A 422 on ``field`` if ``text`` is not a template that can be read."""
    try:
        _ENVIRONMENT.parse(text)
    except TemplateError as exc:
        raise ValidationProblem.for_field(field, f"not a template: {exc}") from None


def render_text(text: str, *, ticket: Ticket, viewer: User) -> str:
    """The text with its placeholders filled in; one that fails renders as written, so a
    rule never stops on a typo in a placeholder."""
    try:
        rendered = _ENVIRONMENT.from_string(text).render(placeholders(ticket, viewer))
    except TemplateError:
        return text
    return rendered[:MAX_RENDERED]
