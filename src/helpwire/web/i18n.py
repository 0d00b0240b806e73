"""The language and time zone a page is written in, and the catalogues that translate it.

Every request has a reader: the signed-in user's language, else the first shipped language
of the browser's ``Accept-Language``, else English; their time zone, else UTC. A page is
rendered inside :func:`rendering_for`, which puts that reader's :class:`PageLocale` in a
context variable for the render's duration: the templates' ``_()`` and ``{% trans %}`` and
the time filters read it there. A context variable is per task, so concurrent requests never
see each other's language, and nothing global changes.

Catalogues are gettext ``.po`` files in ``locale/<language>/LC_MESSAGES/messages.po``, read
once (on first use) with Babel and compiled in memory: no compiled ``.mo`` files are kept in
the source tree or built at install. English is the text as written, so it has no catalogue.
"""

from __future__ import annotations

import gettext as gettext_module
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request

from helpwire.accounts.preferences import (
    DEFAULT_LANGUAGE,
    SHIPPED_LANGUAGES,
    primary_language,
    zone_of,
)
from helpwire.web.languages import request_languages

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(SHIPPED_LANGUAGES))
def translations_for(language: str) -> gettext_module.NullTranslations:
    """The catalogue of a shipped language (English: the text as written). Fuzzy entries
    (a translation a tool guessed and nobody checked) are left out, as gettext does."""
    if language == DEFAULT_LANGUAGE or language not in SHIPPED_LANGUAGES:
        return gettext_module.NullTranslations()
    with catalogue_path(language).open("rb") as source:
        catalogue = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


@dataclass(frozen=True)
class PageLocale:
    """Who a page is written for: its language and the time zone its times are shown in."""

    language: str
    zone: tzinfo
    translations: gettext_module.NullTranslations

    def gettext(self, message: str, **variables: Any) -> str:
        text = self.translations.gettext(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> str:
        text = self.translations.ngettext(singular, plural, n)
        return text % {"num": n, **variables}


def page_locale(language: str, zone: tzinfo | None = None) -> PageLocale:
    shipped = language if language in SHIPPED_LANGUAGES else DEFAULT_LANGUAGE
    return PageLocale(shipped, zone or UTC, translations_for(shipped))


ENGLISH_UTC = page_locale(DEFAULT_LANGUAGE)
_current: ContextVar[PageLocale] = ContextVar("page_locale", default=ENGLISH_UTC)


def _chosen_language(request: Request, own: str | None) -> str:
    if own and primary_language(own) in SHIPPED_LANGUAGES:
        return primary_language(own)
    for tag in request_languages(request):
        if primary_language(tag) in SHIPPED_LANGUAGES:
            return primary_language(tag)
    return DEFAULT_LANGUAGE


def locale_of(request: Request) -> PageLocale:
    """The reader of this request: their language and zone. Before anyone is known to be
    signed in (the sign-in page, an early error), the browser's language and UTC."""
    web = getattr(request.state, "web", None)
    viewer = web.viewer if web is not None else None
    language = _chosen_language(request, viewer.language if viewer else None)
    return page_locale(language, zone_of(viewer.time_zone) if viewer else None)


def translate(request: Request, message: str, **variables: Any) -> str:
    """``message`` in the request's reader's language, with ``%(name)s`` filled in: for
    text a route writes (a notice, an error shown on a page)."""
    return locale_of(request).gettext(message, **variables)


def current_locale() -> PageLocale:
    """The locale of the page being rendered (English and UTC outside a render)."""
    return _current.get()


@contextmanager
def rendering_for(locale: PageLocale) -> Iterator[PageLocale]:
    token = _current.set(locale)
    try:
        yield locale
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return _current.get().translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current.get().translations.ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "mark only")
    """Marks text for the catalogue without translating it here: it is translated where it
    is shown (a label looked up by its English text)."""
    return message
