"""The reader's languages, from the browser's ``Accept-Language``, and topic names in them.

The pages' own text is English; what people named in several languages (topics and
subtopics) is shown in the reader's language when it has a name in it."""

from __future__ import annotations

import re
from typing import Any, Protocol

import jinja2
from fastapi import Request

from helpwire.topics.service import topic_name

# A header is a browser's short list; anything longer is not worth reading whole.
MAX_HEADER_CHARS = 512
MAX_LANGUAGES = 12
_TAG = re.compile(r"^[a-z]{1,8}(?:-[a-z0-9]{1,8})*$")
_QUALITY = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")


def accepted_languages(header: str | None) -> tuple[str, ...]:
    """The language tags of an ``Accept-Language`` header, most wanted first, lower-case:
    ``"de-DE,de;q=0.9,en;q=0.5"`` -> ``("de-de", "de", "en")``. Entries with ``q=0`` (not
    wanted), the ``*`` wildcard and anything malformed are left out; equal weights keep the
    header's order. Only the first ``MAX_HEADER_CHARS`` characters and ``MAX_LANGUAGES``
    entries are read."""
    if not header:
        return ()
    entries = header[: MAX_HEADER_CHARS + 1].split(",")
    if len(header) > MAX_HEADER_CHARS:
        entries = entries[:-1]  # cut off in the middle: not a tag the browser sent
    weighted: list[tuple[float, str]] = []
    for entry in entries[:MAX_LANGUAGES]:
        parsed = _weighted_tag(entry)
        if parsed is not None and parsed[0] > 0:
            weighted.append(parsed)
    weighted.sort(key=lambda item: -item[0])  # stable: equal weights keep their order
    return tuple(dict.fromkeys(tag for _quality, tag in weighted))


def _weighted_tag(entry: str) -> tuple[float, str] | None:
    tag, *parameters = (part.strip() for part in entry.split(";"))
    tag = tag.lower()
    if not _TAG.match(tag):
        return None
    quality = 1.0
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            if not _QUALITY.match(value):
                return None
            quality = float(value)
    return quality, tag


def request_languages(request: Request) -> tuple[str, ...]:
    """The languages of the request's reader, read once per request."""
    cached = getattr(request.state, "accepted_languages", None)
    if cached is None:
        cached = accepted_languages(request.headers.get("accept-language"))
        request.state.accepted_languages = cached
    return tuple(cached)


class Named(Protocol):
    """A topic or a subtopic: names by language and the key that stands in for them."""

    @property
    def names(self) -> dict[str, str]: ...

    @property
    def key(self) -> str: ...


def name_for(request: Request | None, item: Named) -> str:
    """A topic's or subtopic's name in the language of the request's reader."""
    languages = request_languages(request) if request is not None else ()
    return topic_name(item.names, languages, item.key)


@jinja2.pass_context
def topic_name_filter(context: jinja2.runtime.Context, item: Any) -> str:
    """``{{ ticket.topic|topic_name }}``: the name in the reader's language (the page's
    ``request`` says which)."""
    request = context.get("request")
    return name_for(request if isinstance(request, Request) else None, item)
