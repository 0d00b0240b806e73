"""Rules of the custom fields domain: the fields admins define, and the values tickets
carry. The tickets service calls :func:`write_values` for every entry point that files or
changes a ticket; this package knows tickets only by their ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.audit.log import TargetType
from helpwire.audit.log import record as audit
from helpwire.db.base import utcnow
from helpwire.fields import values
from helpwire.fields.models import CustomField, FieldKind, TicketFieldValue, ValueColumn
from helpwire.fields.schemas import FieldCreate, FieldUpdate
from helpwire.problems import Conflict, Forbidden, NotFound, ValidationProblem, field_error
from helpwire.topics.models import Topic
from helpwire.topics.service import check_key

CHOICE_KINDS = frozenset({FieldKind.SELECT, FieldKind.MULTI_SELECT})


# --- definitions -----------------------------------------------------------------------


async def list_fields(
    session: AsyncSession, *, staff: bool, include_inactive: bool = False
) -> Sequence[CustomField]:
    """The fields in form order; a customer's are the active ones shown to customers."""
    query = select(CustomField).order_by(CustomField.position, CustomField.key)
    if not staff:
        query = query.where(CustomField.visible_to_customers.is_(True))
    if not staff or not include_inactive:
        query = query.where(CustomField.is_active.is_(True))
    return (await session.scalars(query)).all()


async def get_field(session: AsyncSession, *, key: str, staff: bool) -> CustomField:
    """The field; a customer asking for one not shown to customers gets a 404."""
    field = await session.scalar(select(CustomField).where(CustomField.key == key))
    if field is None or not (staff or (field.visible_to_customers and field.is_active)):
        raise NotFound(f"no field {key!r}")
    return field


async def create_field(session: AsyncSession, *, new: FieldCreate) -> CustomField:
    key = check_key("key", new.key)
    if await session.scalar(select(CustomField.id).where(CustomField.key == key)) is not None:
        raise Conflict(f"field {key!r} exists already")
    now = utcnow()
    field = CustomField(
        key=key,
        name=new.name.strip(),
        description=new.description,
        kind=new.kind.value,
        options=_checked_options(new.kind, new.options),
        visible_to_customers=new.visible_to_customers,
        required=new.required,
        is_active=True,
        position=new.position,
        created_at=now,
        updated_at=now,
    )
    field.required_topics = await _topics(session, new.required_topics)
    session.add(field)
    await session.flush()
    await _audit_field(session, action="field.created", field=field, before=None)
    return field


async def update_field(
    session: AsyncSession, *, field: CustomField, changes: FieldUpdate
) -> CustomField:
    before = _field_snapshot(field)
    given = changes.model_fields_set
    for name in ("description", "visible_to_customers", "required", "position", "is_active"):
        value = getattr(changes, name)
        if name in given and value is not None:
            setattr(field, name, value)
    if changes.name is not None:
        field.name = changes.name.strip()
    if changes.options is not None:
        options = _checked_options(FieldKind(field.kind), changes.options)
        await _check_options_unused(session, field=field, removed=set(field.options) - set(options))
        field.options = options
    if changes.required_topics is not None:
        field.required_topics = await _topics(session, changes.required_topics)
    field.updated_at = utcnow()
    await session.flush()
    await _audit_field(session, action="field.updated", field=field, before=before)
    return field


def _field_snapshot(field: CustomField) -> dict[str, Any]:
    return {
        "key": field.key,
        "name": field.name,
        "description": field.description,
        "kind": field.kind,
        "options": list(field.options),
        "visible_to_customers": field.visible_to_customers,
        "required": field.required,
        "required_topics": sorted(topic.key for topic in field.required_topics),
        "position": field.position,
        "is_active": field.is_active,
    }


async def _audit_field(
    session: AsyncSession, *, action: str, field: CustomField, before: dict[str, Any] | None
) -> None:
    """Defining fields is an admin's setting: each change is in the audit log."""
    await audit(
        session,
        action=action,
        target_type=TargetType.FIELD,
        target_key=field.key,
        before=before,
        after=_field_snapshot(field),
    )


def _checked_options(kind: FieldKind, options: Sequence[str]) -> list[str]:
    if kind not in CHOICE_KINDS:
        if options:
            raise ValidationProblem.for_field("options", f"a {kind.value} field has no options")
        return []
    if not options:
        raise ValidationProblem.for_field("options", f"a {kind.value} field needs options")
    if len(set(options)) != len(options):
        raise ValidationProblem.for_field("options", "must not repeat an option")
    return list(options)


async def _check_options_unused(
    session: AsyncSession, *, field: CustomField, removed: set[str]
) -> None:
    """An option tickets still have stays: removed, their values would name nothing."""
    if not removed:
        return
    used = await session.scalar(
        select(TicketFieldValue.text_value)
        .where(
            TicketFieldValue.field_id == field.id,
            TicketFieldValue.text_value.in_(sorted(removed)),
        )
        .limit(1)
    )
    if used is not None:
        raise Conflict(f"option {used!r} is the value of tickets; change their values first")


async def _topics(session: AsyncSession, keys: Sequence[str]) -> list[Topic]:
    wanted = list(dict.fromkeys(keys))
    found = {t.key: t for t in await session.scalars(select(Topic).where(Topic.key.in_(wanted)))}
    for index, key in enumerate(wanted):
        if key not in found:
            raise ValidationProblem.for_field(
                f"required_topics[{index}]", f"unknown topic {key!r}", "unknown_topic"
            )
    return sorted(found.values(), key=lambda t: t.key)


# --- values ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Given:
    """A value given for a field, and where it was given (for the error that names it)."""

    key: str
    value: Any
    where: str


@dataclass(frozen=True)
class FieldChange:
    key: str
    before: Any
    after: Any
    visible_to_customers: bool


async def all_fields(session: AsyncSession) -> dict[str, CustomField]:
    """Every field by key: a handful of rows, read once per change of a ticket."""
    return {f.key: f for f in await session.scalars(select(CustomField))}


def given_values(
    fields: Mapping[str, CustomField],
    *,
    explicit: Mapping[str, Any] | None,
    attributes: Mapping[str, Any] | None,
) -> list[Given]:
    """The values of ``explicit`` (the API's ``fields``) and those a ticket's attributes
    carry for active fields: an attribute named like a field's key, or nested along its
    dots (``selectel.notice_id`` is ``attributes["selectel"]["notice_id"]``). A field given
    both ways must be given the same value."""
    given = {key: Given(key, value, f"fields.{key}") for key, value in (explicit or {}).items()}
    for field in fields.values():
        if not field.is_active or not attributes:
            continue
        found, value = _attribute(attributes, field.key)
        if not found:
            continue
        where = f"attributes.{field.key}"
        if field.key in given and given[field.key].value != value:
            raise ValidationProblem.for_field(
                where, f"differs from fields.{field.key}; give the value once", "conflict"
            )
        given.setdefault(field.key, Given(field.key, value, where))
    return list(given.values())


def _attribute(attributes: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    if key in attributes:
        return True, attributes[key]
    current: Any = attributes
    for part in key.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return False, None
        current = current[part]
    return True, current


async def current_values(
    session: AsyncSession, *, ticket_ids: Sequence[int], staff: bool
) -> dict[int, dict[str, Any]]:
    """Each ticket's values by field key, in one query for a whole page; a customer's
    leave out the fields shown to staff only. Tickets without values are left out."""
    if not ticket_ids:
        return {}
    query = (
        select(TicketFieldValue, CustomField)
        .join(CustomField, CustomField.id == TicketFieldValue.field_id)
        .where(TicketFieldValue.ticket_id.in_(list(ticket_ids)))
        .order_by(TicketFieldValue.ticket_id, CustomField.position, CustomField.key)
    )
    if not staff:
        query = query.where(CustomField.visible_to_customers.is_(True))
    rows: dict[int, dict[str, tuple[CustomField, list[values.Stored]]]] = defaultdict(dict)
    for value, field in (await session.execute(query)).tuples():
        stored = values.Stored(field.value_column, _stored_value(value, field.value_column))
        rows[value.ticket_id].setdefault(field.key, (field, []))[1].append(stored)
    return {
        ticket_id: {key: values.answered(field, stored) for key, (field, stored) in by_key.items()}
        for ticket_id, by_key in rows.items()
    }


def _stored_value(row: TicketFieldValue, column: ValueColumn) -> Any:
    value = getattr(row, column.value)
    return float(value) if column == ValueColumn.NUMBER else value


@dataclass(frozen=True)
class Planned:
    """Values checked and ready to store: what changes, and each changed field's rows."""

    changes: list[FieldChange]
    rows: list[tuple[CustomField, list[values.Stored]]]


async def plan_values(
    session: AsyncSession,
    *,
    ticket_id: int | None,
    topic_id: int | None,
    given: Sequence[Given],
    staff: bool,
    topic_changed: bool = False,
    fields: Mapping[str, CustomField] | None = None,
) -> Planned:
    """Check ``given`` against the fields for a new ticket (``ticket_id`` None) or a
    changed one; nothing is written yet (:func:`store_values` does), so a new ticket is
    checked before it takes its number.

    Refused: an unknown or inactive field, a value of the wrong type or an unknown option
    (422), a staff-only field written by the customer side (403), and a field the ticket's
    topic requires left without a value: on a new ticket, on a change of topic, or cleared
    (422). A staff-only field is never required of the customer side, which cannot set
    it."""
    fields = fields if fields is not None else await all_fields(session)
    parsed = [(fields_for(fields, item, staff=staff), item) for item in given]
    stored = {
        field.key: values.parse(field, item.value, where=item.where) for field, item in parsed
    }
    before: dict[str, Any] = {}
    if ticket_id is not None:
        current = await current_values(session, ticket_ids=[ticket_id], staff=True)
        before = current.get(ticket_id, {})
    after = dict(before)
    for field, _item in parsed:
        if stored[field.key]:
            after[field.key] = values.answered(field, stored[field.key])
        else:
            after.pop(field.key, None)
    _check_required(
        fields,
        topic_id=topic_id,
        after=after,
        staff=staff,
        every=ticket_id is None or topic_changed,
        cleared={f.key for f, _item in parsed if not stored[f.key]},
    )
    changes: list[FieldChange] = []
    rows: list[tuple[CustomField, list[values.Stored]]] = []
    for field, _item in parsed:
        old, new = before.get(field.key), after.get(field.key)
        if old != new:
            changes.append(FieldChange(field.key, old, new, field.visible_to_customers))
            rows.append((field, stored[field.key]))
    return Planned(changes, rows)


async def store_values(
    session: AsyncSession, *, ticket_id: int, planned: Planned, is_new: bool
) -> None:
    """Write what :func:`plan_values` checked: each changed field's rows replace its old."""
    for field, rows in planned.rows:
        if not is_new:
            await session.execute(
                delete(TicketFieldValue).where(
                    TicketFieldValue.ticket_id == ticket_id, TicketFieldValue.field_id == field.id
                )
            )
        session.add_all(
            TicketFieldValue(
                ticket_id=ticket_id, field_id=field.id, **{row.column.value: row.value}
            )
            for row in rows
        )
    if planned.rows:
        await session.flush()


async def copy_values(session: AsyncSession, *, from_ticket_id: int, to_ticket_id: int) -> None:
    """A ticket made from another (split off it) starts with the other's values, so that it
    is filed under the same fields and a field its topic requires is there."""
    rows = await session.scalars(
        select(TicketFieldValue).where(TicketFieldValue.ticket_id == from_ticket_id)
    )
    session.add_all(
        TicketFieldValue(
            ticket_id=to_ticket_id,
            field_id=row.field_id,
            text_value=row.text_value,
            number_value=row.number_value,
            date_value=row.date_value,
        )
        for row in rows
    )


def fields_for(fields: Mapping[str, CustomField], item: Given, *, staff: bool) -> CustomField:
    """The field ``item`` names, if it is in use and this side may write it."""
    field = fields.get(item.key)
    if field is None:
        raise ValidationProblem.for_field(item.where, f"no field {item.key!r}", "unknown_field")
    if not field.is_active:
        raise ValidationProblem.for_field(
            item.where, f"field {item.key!r} is no longer in use", "inactive_field"
        )
    if not staff and not field.visible_to_customers:
        message = "is set by support only"
        raise Forbidden(
            f"{item.where}: {message}", errors=[field_error(item.where, message, "staff_only")]
        )
    return field


def _check_required(
    fields: Mapping[str, CustomField],
    *,
    topic_id: int | None,
    after: Mapping[str, Any],
    staff: bool,
    every: bool,
    cleared: set[str],
) -> None:
    missing = [
        field
        for field in fields.values()
        if field.is_active
        and (staff or field.visible_to_customers)
        and field.required_for(topic_id)
        and field.key not in after
        and (every or field.key in cleared)
    ]
    if missing:
        errors = [
            field_error(f"fields.{f.key}", f"{f.name} is required for this ticket", "required")
            for f in missing
        ]
        raise ValidationProblem(
            "required fields have no value: " + ", ".join(f.key for f in missing), errors=errors
        )
