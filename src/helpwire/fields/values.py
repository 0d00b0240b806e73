"""A field's value in the three forms it takes: as given (JSON, or a web form's text), as
stored (the typed columns of ``ticket_field_values``) and as answered.

Checking a value against its field is the one rule of every entry point: the API's
``fields``, a face's attributes, the portal's and the console's forms all come here."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from helpwire.fields.models import CustomField, FieldKind, ValueColumn
from helpwire.fields.schemas import MAX_CHOSEN, MAX_TEXT_CHARS
from helpwire.problems import ValidationProblem

# Numbers are stored as double precision: integers up to 2**53 stay exact, and a bound
# keeps every stored number one that JSON and both engines hold alike.
MAX_NUMBER = 1e15
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE_WORDS = frozenset({"true", "on", "yes", "1"})
_FALSE_WORDS = frozenset({"false", "off", "no", "0", ""})


@dataclass(frozen=True)
class Stored:
    """One row's worth of a value: the column it goes in and what it holds."""

    column: ValueColumn
    value: str | float | date


def _refuse(where: str, message: str, code: str = "invalid") -> ValidationProblem:
    return ValidationProblem.for_field(where, message, code)


def parse(field: CustomField, value: Any, *, where: str) -> list[Stored]:
    """The rows ``value`` is stored as (none: the value is cleared), or a 422 on ``where``
    saying what the field takes."""
    if value is None or value == "" or value == []:
        return []
    kind = FieldKind(field.kind)
    if kind == FieldKind.TEXT:
        return [Stored(ValueColumn.TEXT, _text(value, where))]
    if kind == FieldKind.NUMBER:
        return [Stored(ValueColumn.NUMBER, _number(value, where))]
    if kind == FieldKind.DATE:
        return [Stored(ValueColumn.DATE, _date(value, where))]
    if kind == FieldKind.CHECKBOX:
        if not isinstance(value, bool):
            raise _refuse(where, "must be true or false", "wrong_type")
        return [Stored(ValueColumn.NUMBER, 1.0 if value else 0.0)]
    if kind == FieldKind.SELECT:
        return [Stored(ValueColumn.TEXT, _option(field, value, where))]
    return [Stored(ValueColumn.TEXT, option) for option in _options(field, value, where)]


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _refuse(where, "must be a string", "wrong_type")
    text = value.strip()
    if len(text) > MAX_TEXT_CHARS:
        raise _refuse(where, f"must be at most {MAX_TEXT_CHARS} characters")
    if not text:
        raise _refuse(where, "must not be blank")
    return text


def parse_number(value: float) -> float:
    """A number as stored, or ValueError when it is not one that is stored."""
    number = float(value)
    if not math.isfinite(number) or abs(number) > MAX_NUMBER:
        raise ValueError(value)
    return number


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(where, "must be a number", "wrong_type")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or abs(number) > MAX_NUMBER:
        raise _refuse(where, f"must be a finite number of at most {MAX_NUMBER:.0e} in size")
    return number


def _date(value: Any, where: str) -> date:
    if not isinstance(value, str):
        raise _refuse(where, "must be a date as YYYY-MM-DD", "wrong_type")
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise _refuse(where, "must be a date as YYYY-MM-DD", "wrong_type") from None


def _option(field: CustomField, value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _refuse(where, "must be one of the field's options (a string)", "wrong_type")
    if value not in field.options:
        allowed = ", ".join(field.options)
        raise _refuse(where, f"unknown option {value!r}; one of {allowed}", "unknown_option")
    return value


def _options(field: CustomField, value: Any, where: str) -> list[str]:
    if not isinstance(value, list):
        raise _refuse(where, "must be a list of the field's options", "wrong_type")
    if len(value) > MAX_CHOSEN:
        raise _refuse(where, f"must choose at most {MAX_CHOSEN} options")
    chosen = {_option(field, option, f"{where}[{i}]") for i, option in enumerate(value)}
    return [option for option in field.options if option in chosen]


def answered(field: CustomField, rows: Sequence[Stored]) -> Any:
    """The value as answers show it, from its stored rows (at least one)."""
    kind = FieldKind(field.kind)
    if kind == FieldKind.MULTI_SELECT:
        chosen = {str(row.value) for row in rows}
        order = {option: i for i, option in enumerate(field.options)}
        return sorted(chosen, key=lambda option: (order.get(option, len(order)), option))
    value = rows[0].value
    if kind == FieldKind.CHECKBOX:
        return value == 1.0
    if kind == FieldKind.NUMBER and isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, date):
        return value.isoformat()
    return value


def from_form(field: CustomField, raw: Sequence[str]) -> Any:
    """A web form's text for the field as the API would give it: numbers and yes/no read
    from their text, a multi-select's ticked options as a list. What cannot be read is
    given on as text, for :func:`parse` to refuse with its message."""
    kind = FieldKind(field.kind)
    if kind == FieldKind.MULTI_SELECT:
        return [option for option in raw if option]
    text = raw[-1].strip() if raw else ""
    if kind == FieldKind.CHECKBOX:
        word = text.lower()
        return True if word in _TRUE_WORDS else False if word in _FALSE_WORDS else text
    if kind == FieldKind.NUMBER and text:
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and abs(number) <= MAX_NUMBER else number
    return text or None


def filter_value(field: CustomField, raw: str, *, where: str) -> str | float | date:
    """One value of a list filter, typed like the field's column: a select's option, a
    number, a date, true/false for a checkbox, any text for a text field."""
    kind = FieldKind(field.kind)
    if kind in (FieldKind.NUMBER, FieldKind.CHECKBOX):
        read = from_form(field, [raw])
        if kind == FieldKind.CHECKBOX and not isinstance(read, bool):
            raise _refuse(where, "must be true or false", "wrong_type")
        if kind == FieldKind.NUMBER and not isinstance(read, int | float):
            raise _refuse(where, "must be a number", "wrong_type")
        return parse(field, read, where=where)[0].value
    if kind == FieldKind.MULTI_SELECT:
        return _option(field, raw, where)
    stored = parse(field, raw, where=where)
    if not stored:
        raise _refuse(where, "must not be empty")
    return stored[0].value
