"""The texts of the mail helpwire sends: one template per message kind and language,
shipped in English and German (mail/defaults/*.yaml) and replaceable by admins
(MailTemplate rows). Rendered in Jinja2's sandbox, since admins who are not operators
write them: a template reads the values it is given and nothing of the process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml
from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.mail.models import MailTemplate

KINDS = ("reply", "solved", "status", "refused")
SHIPPED_LANGUAGES = ("en", "de")
FALLBACK_LANGUAGE = "en"

_TEXT = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
_HTML = ImmutableSandboxedEnvironment(autoescape=True, keep_trailing_newline=True)


class TemplateProblem(ValueError):
    """A template that does not compile or render, with the part that failed."""


@dataclass(frozen=True)
class MessageTemplate:
    kind: str
    language: str
    subject: str
    text: str
    html: str
    customized: bool


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


@cache
def shipped(language: str) -> dict[str, Any]:
    """The shipped texts of one language (its kinds, marker, status and rating words)."""
    source = resources.files("helpwire.mail").joinpath("defaults", f"{language}.yaml")
    loaded: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    return loaded


def language_for(requested: str | None, default: str) -> str:
    """The closest language mail can be written in: ``de-AT`` is written in ``de``."""
    for tag in (requested, default):
        if not tag:
            continue
        base = tag.lower().split("-")[0]
        if base in SHIPPED_LANGUAGES:
            return base
    return FALLBACK_LANGUAGE


def shipped_template(kind: str, language: str) -> MessageTemplate:
    parts = shipped(language)[kind]
    return MessageTemplate(
        kind=kind,
        language=language,
        subject=parts["subject"],
        text=parts["text"],
        html=parts["html"],
        customized=False,
    )


async def template_for(session: AsyncSession, kind: str, language: str) -> MessageTemplate:
    """The admins' version of ``kind`` in ``language`` where there is one, else shipped."""
    row = await session.scalar(
        select(MailTemplate).where(MailTemplate.kind == kind, MailTemplate.language == language)
    )
    if row is None:
        return shipped_template(kind, language)
    return MessageTemplate(
        kind=kind,
        language=language,
        subject=row.subject,
        text=row.text,
        html=row.html,
        customized=True,
    )


def words(language: str) -> dict[str, Any]:
    """The marker line and the names of statuses and ratings, in ``language``."""
    texts = shipped(language)
    return {
        "marker": texts["marker"],
        "statuses": texts["statuses"],
        "ratings": {int(score): label for score, label in texts["ratings"].items()},
    }


def render(template: MessageTemplate, context: dict[str, Any]) -> RenderedMessage:
    """The subject (one line), text and HTML of ``template`` with ``context``."""
    parts: dict[str, str] = {}
    for name, environment in (("subject", _TEXT), ("text", _TEXT), ("html", _HTML)):
        source = getattr(template, name)
        try:
            parts[name] = environment.from_string(source).render(context)
        except TemplateError as exc:
            raise TemplateProblem(f"{name}: {exc.message or exc}") from None
    subject = " ".join(parts["subject"].split())
    return RenderedMessage(subject=subject, text=parts["text"], html=parts["html"])
