"""A ticket's custom field values gathered into its row by the statement that reads it
(tickets.listed): one JSON array per value, with what its field says of how to show it,
so that a list or a GET still costs one statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, func

from helpwire.fields import values
from helpwire.fields.models import CustomField, FieldKind, TicketFieldValue

# The parts of one gathered value, in order.
_KEY, _KIND, _SHOWN, _OPTIONS, _TEXT, _NUMBER, _DATE = range(7)


def gathered_value(dialect: str) -> ColumnElement[Any]:
    """One value as a JSON array: the field's key, kind, whether customers see it, its
    options (a multi-select's only: they order its answer) and the typed columns."""
    options: Any = CustomField.options
    if dialect != "postgresql":
        options = func.json(CustomField.options)  # as JSON, not as the text it is kept in
    multi = case((CustomField.kind == FieldKind.MULTI_SELECT.value, options), else_=None)
    build = func.json_build_array if dialect == "postgresql" else func.json_array
    return build(
        CustomField.key,
        CustomField.kind,
        CustomField.visible_to_customers,
        multi,
        TicketFieldValue.text_value,
        TicketFieldValue.number_value,
        TicketFieldValue.date_value,
    )


def gathered_where(ticket_id: Any) -> tuple[ColumnElement[bool], ...]:
    return (
        TicketFieldValue.ticket_id == ticket_id,
        CustomField.id == TicketFieldValue.field_id,
    )


def from_gathered(rows: Sequence[Sequence[Any]], *, staff: bool) -> dict[str, Any]:
    """The values an answer shows, from a ticket's gathered rows: a customer's without
    the fields shown to staff only."""
    by_key: dict[str, tuple[CustomField, list[values.Stored]]] = {}
    for row in rows:
        if not (staff or row[_SHOWN]):
            continue
        field = CustomField(key=row[_KEY], kind=row[_KIND], options=row[_OPTIONS] or [])
        column = field.value_column
        raw = row[{"text_value": _TEXT, "number_value": _NUMBER, "date_value": _DATE}[column]]
        value: Any = date.fromisoformat(raw) if column.value == "date_value" else raw
        if column.value == "number_value":
            value = float(raw)
        by_key.setdefault(field.key, (field, []))[1].append(values.Stored(column, value))
    return {key: values.answered(field, stored) for key, (field, stored) in by_key.items()}
