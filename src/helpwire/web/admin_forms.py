"""Pieces the admin pages share: reading form fields, form errors, capped counts as shown."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import ValidationError
from starlette.datastructures import FormData

from helpwire.problems import Problem, ValidationProblem
from helpwire.web.shared import form_text

PAGE_SIZE = 50
# Counts on the overview stop here: a number above it says "more than", cheaply.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class FormError:
    """What is wrong with a posted form, shown above it; ``field`` names the input."""

    message: str
    field: str | None = None


def form_error(problem: Problem) -> FormError:
    field = problem.errors[0].get("field") if problem.errors else None
    return FormError(message=problem.detail, field=str(field) if field else None)


def pydantic_error(exc: ValidationError) -> FormError:
    """The first complaint of a schema, phrased for a form: ``url: String should ...``."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = str(first.get("msg", "is not valid"))
    return FormError(message=f"{where}: {message}" if where else message, field=where or None)


def checked(form: FormData, name: str) -> bool:
    """A checkbox: present (with any value) when ticked, absent when not."""
    return form.get(name) is not None


def form_words(form: FormData, name: str) -> list[str]:
    """A text field of keys separated by commas, spaces or lines, in order, once each."""
    words = re.split(r"[\s,]+", form_text(form, name).strip())
    return list(dict.fromkeys(w for w in words if w))


def form_int(form: FormData, name: str, *, default: int | None = None) -> int | None:
    text = form_text(form, name).strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValidationProblem.for_field(name, "must be a whole number") from None


def form_float(form: FormData, name: str) -> float | None:
    text = form_text(form, name).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValidationProblem.for_field(name, "must be a number") from None


def parse_names(text: str, *, field: str) -> dict[str, str]:
    """Localized names written one per line as ``en: Billing``."""
    names: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        locale, colon, name = line.partition(":")
        if not colon:
            raise ValidationProblem.for_field(
                field, f"line {number}: write each name as “locale: name”, e.g. “en: Billing”"
            )
        locale = locale.strip().lower()
        if locale in names:
            raise ValidationProblem.for_field(field, f"line {number}: {locale!r} is given twice")
        names[locale] = name.strip()
    return names


def names_text(names: dict[str, str]) -> str:
    """The other way round, for a form: ``en`` first, then the rest by locale."""
    ordered = sorted(names.items(), key=lambda item: (item[0] != "en", item[0]))
    return "\n".join(f"{locale}: {name}" for locale, name in ordered)


def shown_count(count: int) -> str:
    return f"{COUNT_CAP:,}+" if count > COUNT_CAP else f"{count:,}"
