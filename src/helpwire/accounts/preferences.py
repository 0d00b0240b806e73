"""A person's language and time zone: which values are allowed, and how they are read.

The pages come in the languages helpwire ships a catalogue for (web/locale); a language
tag is accepted when its first part is one of them ("de-AT" reads German pages and gets
German mail). Time zones are IANA names as the system's zone database knows them."""

from __future__ import annotations

import zoneinfo
from datetime import tzinfo
from functools import lru_cache

# English is the text as written; every other one has a catalogue in web/locale.
SHIPPED_LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"
MAX_TIME_ZONE_CHARS = 64


def primary_language(tag: str) -> str:
    """The first part of a language tag, lower-case: ``"de-AT"`` -> ``"de"``."""
    return tag.split("-", 1)[0].lower()


def check_language(tag: str) -> str:
    """``tag`` if it names a shipped language ("" too: the default); ValueError if not."""
    if tag and primary_language(tag) not in SHIPPED_LANGUAGES:
        shipped = ", ".join(SHIPPED_LANGUAGES)
        raise ValueError(f"is not a language helpwire speaks (one of: {shipped})")
    return tag


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # The names the zone database lists: a directory ("Europe"), a path or a file that
    # merely happens to lie among the zones is not a time zone.
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=512)
def _zone(name: str) -> tzinfo | None:
    if name not in _known_zones():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def check_time_zone(name: str) -> str:
    """``name`` if it is an IANA time zone ("" too: UTC); ValueError if not."""
    if name and (len(name) > MAX_TIME_ZONE_CHARS or _zone(name) is None):
        raise ValueError('is not a time zone name (IANA, such as "Europe/Berlin")')
    return name


def zone_of(name: str | None) -> tzinfo | None:
    """The zone a stored name stands for; None for none (or one no longer known)."""
    return _zone(name) if name else None


def time_zone_names() -> list[str]:
    """Every IANA zone name the system knows, sorted: the choices of a settings form."""
    return sorted(_known_zones())
