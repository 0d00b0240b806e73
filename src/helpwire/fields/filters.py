"""Ticket lists by custom field: ``field.<key>=value`` filters and ``sort=field.<key>``,
read into the field's id, its value column and typed values, before the list's query is
built (as the list resolves every other name first: tickets.listing.resolve_names)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.fields import values
from helpwire.fields.models import CustomField, FieldKind, TicketFieldValue, ValueColumn
from helpwire.problems import ValidationProblem

FILTER_PREFIX = "field."
SORT_PREFIX = "field."
RANGE = ".."
# Filters by field in one list: each is an index range read.
MAX_FIELD_FILTERS = 10
RANGE_KINDS = frozenset({FieldKind.NUMBER, FieldKind.DATE})
# A filter matching more tickets than this is checked ticket by ticket as the list walks
# its own order (EXISTS), one matching fewer drives the list from its matches (IN): see
# tickets.field_filters.
FEW_MATCHES = 1_000

Typed = str | float | date


@dataclass(frozen=True)
class FieldFilter:
    """Tickets with a value of field ``field_id`` in ``column``: one of ``equals``, or
    within ``low``..``high`` (inclusive; None: open), or any value when neither is given."""

    field_id: int
    column: ValueColumn
    equals: tuple[Typed, ...] = ()
    low: Typed | None = None
    high: Typed | None = None
    # More than FEW_MATCHES tickets match (probed when the filter is read).
    many: bool = False
    # No ticket has two rows that match (not a multi-select given several options), so a
    # count may read the matching rows themselves.
    row_per_ticket: bool = True
    # A ticket's row is checked without the value's index (SQLite; see value_conditions).
    check_by_ticket_index: bool = False


def value_conditions(wanted: FieldFilter, *, per_ticket: bool = False) -> list[ColumnElement[bool]]:
    """The filter's conditions on ``ticket_field_values``: one range of one index. "IS NOT
    NULL" is the partial index's own condition, given so that both engines see at once
    that the index holds every row the filter can match.

    ``per_ticket``: for checking one ticket's rows (with ``ticket_id`` given by the caller);
    on SQLite the value is wrapped so that it does not read the value's index for it: it
    did, and read a range's every entry (or, for a sort's "has a value", the field's
    million) for each ticket, where the (ticket, field) index finds the ticket's one row.
    PostgreSQL plans these checks well on its own, and wrapped, misjudged how many rows
    match (5,000 for 200,000) and read the whole table for them."""
    column: ColumnElement[Any] = getattr(TicketFieldValue, wanted.column.value).expression
    if per_ticket and wanted.check_by_ticket_index:
        column = func.coalesce(column, column)
    conditions = [TicketFieldValue.field_id == wanted.field_id, column.is_not(None)]
    if wanted.equals:
        conditions.append(column.in_(wanted.equals))
    if wanted.low is not None:
        conditions.append(column >= wanted.low)
    if wanted.high is not None:
        conditions.append(column <= wanted.high)
    return conditions


async def _with_probe(session: AsyncSession, wanted: FieldFilter) -> FieldFilter:
    """The filter, knowing whether it matches many tickets: up to FEW_MATCHES + 1 entries
    of its index range are counted (well under a millisecond)."""
    rows = select(literal(1)).where(*value_conditions(wanted)).limit(FEW_MATCHES + 1)
    found = await session.scalar(select(func.count()).select_from(rows.subquery()))
    sqlite = session.bind.dialect.name == "sqlite"
    return replace(wanted, many=int(found or 0) > FEW_MATCHES, check_by_ticket_index=sqlite)


@dataclass(frozen=True)
class FieldSort:
    """A list in the order of one field's values; only tickets with a value are listed."""

    field_id: int
    column: ValueColumn
    kind: FieldKind


async def _field(session: AsyncSession, key: str, *, staff: bool, where: str) -> CustomField:
    field = await session.scalar(select(CustomField).where(CustomField.key == key))
    if field is None or not (staff or field.visible_to_customers):
        raise ValidationProblem.for_field(where, f"no field {key!r}", "unknown_field")
    return field


async def read_filters(
    session: AsyncSession, *, given: Sequence[tuple[str, str]], staff: bool
) -> tuple[FieldFilter, ...]:
    """``given``: (key, raw value) per query parameter ``field.<key>``. Several values of a
    field match any of them; a range (``10..20``, ``2026-01-01..``, ``..5``; number and
    date fields) is a condition of its own. A 422 names the parameter that is wrong."""
    if len({key for key, _raw in given}) > MAX_FIELD_FILTERS:
        raise ValidationProblem.for_field(
            "field", f"at most {MAX_FIELD_FILTERS} fields can filter one list"
        )
    found: list[FieldFilter] = []
    equal: dict[str, tuple[CustomField, list[Typed]]] = {}
    for key, raw in given:
        where = FILTER_PREFIX + key
        field = await _field(session, key, staff=staff, where=where)
        if FieldKind(field.kind) in RANGE_KINDS and RANGE in raw:
            found.append(_range(field, raw, where))
        else:
            typed = values.filter_value(field, raw, where=where)
            equal.setdefault(key, (field, []))[1].append(typed)
    for field, wanted in equal.values():
        options = tuple(dict.fromkeys(wanted))
        single = FieldKind(field.kind) != FieldKind.MULTI_SELECT or len(options) == 1
        found.append(FieldFilter(field.id, field.value_column, options, row_per_ticket=single))
    return tuple([await _with_probe(session, wanted) for wanted in found])


def _range(field: CustomField, raw: str, where: str) -> FieldFilter:
    low_raw, _sep, high_raw = raw.partition(RANGE)
    if not low_raw.strip() and not high_raw.strip():
        raise ValidationProblem.for_field(where, "a range needs at least one end: a..b, a.., ..b")
    low = values.filter_value(field, low_raw, where=where) if low_raw.strip() else None
    high = values.filter_value(field, high_raw, where=where) if high_raw.strip() else None
    return FieldFilter(field.id, field.value_column, low=low, high=high)


async def read_sort(session: AsyncSession, *, key: str, staff: bool) -> FieldSort:
    where = "sort"
    field = await _field(session, key, staff=staff, where=where)
    kind = FieldKind(field.kind)
    if kind == FieldKind.MULTI_SELECT:
        raise ValidationProblem.for_field(where, "a multi-select field has no order to sort by")
    return FieldSort(field.id, field.value_column, kind)


def cursor_value(sort: FieldSort, raw: object) -> Typed:
    """A cursor's sort value, checked like a filter's (a tampered cursor is a 422)."""
    try:
        if sort.column == ValueColumn.NUMBER:
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise ValueError(raw)
            return values.parse_number(raw)
        if sort.column == ValueColumn.DATE:
            return date.fromisoformat(str(raw))
        if not isinstance(raw, str) or len(raw) > 255:
            raise ValueError(raw)
        return raw
    except (ValueError, ValidationProblem):
        raise ValidationProblem.for_field("cursor", "is not a cursor this API gave out") from None
