"""Which of a topic's names a reader sees, and the reader's languages from their browser."""

from __future__ import annotations

import pytest

from helpwire.topics.service import topic_name
from helpwire.web.languages import MAX_HEADER_CHARS, MAX_LANGUAGES, accepted_languages

NAMES = {"en": "Billing", "de": "Abrechnung", "de-ch": "Rechnungswesen", "ru": "Оплата"}


@pytest.mark.parametrize(
    ("locales", "expected"),
    [
        ("de-CH", "Rechnungswesen"),  # the exact locale, whatever its case
        ("de-AT", "Abrechnung"),  # its language part
        ("de", "Abrechnung"),
        ("fr", "Billing"),  # no name in the language: English
        (None, "Billing"),
        ((), "Billing"),
        (("fr-CH", "ru-RU", "de"), "Оплата"),  # the first preferred language with a name
        ((" RU ",), "Оплата"),
    ],
)
def test_the_readers_language_then_english(
    locales: str | tuple[str, ...] | None, expected: str
) -> None:
    assert topic_name(NAMES, locales, "billing") == expected


def test_without_english_the_first_name_then_the_key() -> None:
    assert topic_name({"ru": "Оплата", "de": "Abrechnung"}, "fr", "billing") == "Оплата"
    assert topic_name({"ru": "Оплата", "de": "Abrechnung"}, "de", "billing") == "Abrechnung"
    assert topic_name({}, "de", "billing") == "billing"
    assert topic_name({"en": ""}, None, "billing") == "billing"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.5", ("de-de", "de", "en")),
        ("en;q=0.2, ru-RU, de;q=0.7", ("ru-ru", "de", "en")),  # by weight
        ("fr, de", ("fr", "de")),  # equal weights keep the header's order
        ("de;q=0, en", ("en",)),  # q=0: not wanted
        ("*, ru;q=0.5", ("ru",)),  # the wildcard names no language
        ("RU ; Q=0.5", ("ru",)),
        ("de;q=2, ru;q=abc, en;q=0.5", ("en",)),  # a weight out of range is junk
        ("<script>, de_DE, 12, de-DE-x-toolongsubtag, ru", ("ru",)),
        ("de, de;q=0.5, DE", ("de",)),  # each language once
        ("", ()),
        (None, ()),
        (",,;;,", ()),
    ],
)
def test_accept_language_is_read_by_weight_and_junk_ignored(
    header: str | None, expected: tuple[str, ...]
) -> None:
    assert accepted_languages(header) == expected


def test_a_long_header_is_read_only_in_part() -> None:
    many = ", ".join(f"l{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(100))
    assert len(accepted_languages(many)) == MAX_LANGUAGES
    # A tag cut off at the limit is not taken for one the browser sent.
    header = "x" * (MAX_HEADER_CHARS - 10) + ", de, de-chxyz"
    assert len(header) > MAX_HEADER_CHARS
    assert accepted_languages(header) == ("de",)
