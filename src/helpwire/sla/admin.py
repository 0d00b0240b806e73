"""Calendars and policies: checked when written, and every open ticket's clocks brought up
to date after a change (by a job, in batches: a change may touch a million tickets)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import Account
from helpwire.audit.log import TargetType
from helpwire.audit.log import record as audit
from helpwire.db.base import utcnow
from helpwire.groups.models import Group
from helpwire.jobs.registry import JobContext
from helpwire.jobs.service import enqueue_job
from helpwire.problems import Conflict, NotFound, ValidationProblem
from helpwire.sla.calendars import DAYS, check_holiday_region, parse_clock_time
from helpwire.sla.clocks import TARGETS
from helpwire.sla.models import ALWAYS_OPEN, Calendar, SlaPolicy
from helpwire.sla.service import DEFAULT_PAUSE_STATUSES, bring_up_to_date
from helpwire.tickets.models import Priority, Status, Ticket, TicketType
from helpwire.topics.models import Topic
from helpwire.topics.service import check_key

REAPPLY_KIND = "sla.reapply"
REAPPLY_BATCH = 500
PAUSABLE = (Status.NEW.value, Status.OPEN.value, Status.PENDING.value, Status.HOLD.value)
MAX_TARGET_MINUTES = 525_600 * 5


# --- calendars ------------------------------------------------------------------------


def check_windows(windows: Mapping[str, Sequence[Sequence[str]]]) -> dict[str, list[list[str]]]:
    clean: dict[str, list[list[str]]] = {}
    for day, spans in windows.items():
        if day not in DAYS:
            raise ValidationProblem.for_field("windows", f"{day!r} is not one of {', '.join(DAYS)}")
        ordered = []
        for index, span in enumerate(spans):
            field = f"windows.{day}[{index}]"
            if len(span) != 2:
                raise ValidationProblem.for_field(field, 'a window is ["HH:MM", "HH:MM"]')
            try:
                start, end = (parse_clock_time(part) for part in span)
            except ValueError as exc:
                raise ValidationProblem.for_field(field, str(exc)) from None
            if end.hour == 0 and end.minute == 0 and span[1] != "00:00":
                end_minutes = 24 * 60
            else:
                end_minutes = end.hour * 60 + end.minute
            start_minutes = start.hour * 60 + start.minute
            if end_minutes <= start_minutes:
                raise ValidationProblem.for_field(field, "a window ends after it starts")
            ordered.append((start_minutes, end_minutes, [span[0], span[1]]))
        ordered.sort()
        for before, after in itertools.pairwise(ordered):
            if after[0] < before[1]:
                raise ValidationProblem.for_field(f"windows.{day}", "windows overlap")
        if ordered:
            clean[day] = [span for _s, _e, span in ordered]
    if not clean:
        raise ValidationProblem.for_field("windows", "a calendar is open at least one day")
    return clean


def _check_zone(time_zone: str) -> str:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationProblem.for_field("time_zone", f"no time zone {time_zone!r}") from None
    return time_zone


def _check_days(days: Sequence[str]) -> list[str]:
    out = []
    for index, day in enumerate(days):
        try:
            out.append(date.fromisoformat(day).isoformat())
        except ValueError:
            raise ValidationProblem.for_field(
                f"custom_holidays[{index}]", f"{day!r} is not a date (YYYY-MM-DD)"
            ) from None
    return sorted(set(out))


def _check_region(country: str | None, subdivision: str | None) -> None:
    if country is None:
        if subdivision is not None:
            raise ValidationProblem.for_field("holiday_subdivision", "needs holiday_country")
        return
    reason = check_holiday_region(country, subdivision)
    if reason is not None:
        raise ValidationProblem.for_field("holiday_country", reason)


def calendar_snapshot(calendar: Calendar) -> dict[str, Any]:
    """What the audit log keeps of a calendar."""
    return {
        "key": calendar.key,
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "windows": calendar.windows,
        "holiday_country": calendar.holiday_country,
        "holiday_subdivision": calendar.holiday_subdivision,
        "custom_holidays": list(calendar.custom_holidays or []),
    }


def policy_snapshot(policy: SlaPolicy) -> dict[str, Any]:
    """What the audit log keeps of an SLA policy (ids as stored)."""
    return {
        "name": policy.name,
        "position": policy.position,
        "is_active": policy.is_active,
        "conditions": policy.conditions,
        "targets": policy.targets,
        "pause_statuses": list(policy.pause_statuses or []),
        "warning_minutes": policy.warning_minutes,
    }


async def list_calendars(session: AsyncSession) -> Sequence[Calendar]:
    return (await session.scalars(select(Calendar).order_by(Calendar.key))).all()


async def get_calendar(session: AsyncSession, *, key: str) -> Calendar:
    calendar = await session.scalar(select(Calendar).where(Calendar.key == key))
    if calendar is None:
        raise NotFound(f"no calendar {key!r}")
    return calendar


async def create_calendar(
    session: AsyncSession, *, key: str, values: Mapping[str, Any]
) -> Calendar:
    key = check_key("key", key)
    if await session.scalar(select(Calendar.id).where(Calendar.key == key)) is not None:
        raise Conflict(f"calendar {key!r} exists already")
    now = utcnow()
    calendar = Calendar(key=key, custom_holidays=[], created_at=now, updated_at=now)
    _apply_calendar(calendar, {"time_zone": "UTC", **values}, creating=True)
    session.add(calendar)
    await session.flush()
    await audit(
        session,
        action="calendar.created",
        target_type=TargetType.CALENDAR,
        target_key=calendar.key,
        after=calendar_snapshot(calendar),
    )
    return calendar


async def update_calendar(
    session: AsyncSession, *, calendar: Calendar, values: Mapping[str, Any]
) -> Calendar:
    if calendar.key == ALWAYS_OPEN:
        raise Conflict("the 24/7 calendar is built in and cannot be changed")
    before = calendar_snapshot(calendar)
    _apply_calendar(calendar, values, creating=False)
    calendar.updated_at = utcnow()
    await session.flush()
    await audit(
        session,
        action="calendar.updated",
        target_type=TargetType.CALENDAR,
        target_key=calendar.key,
        before=before,
        after=calendar_snapshot(calendar),
    )
    await schedule_reapply(session)
    return calendar


def _apply_calendar(calendar: Calendar, values: Mapping[str, Any], *, creating: bool) -> None:
    if "name" in values or creating:
        calendar.name = str(values.get("name") or calendar.key)
    if "time_zone" in values:
        calendar.time_zone = _check_zone(str(values["time_zone"]))
    if "windows" in values or creating:
        calendar.windows = check_windows(values.get("windows") or {})
    country = values.get("holiday_country", calendar.holiday_country)
    subdivision = values.get("holiday_subdivision", calendar.holiday_subdivision)
    _check_region(country, subdivision)
    calendar.holiday_country, calendar.holiday_subdivision = country, subdivision
    if "custom_holidays" in values:
        calendar.custom_holidays = _check_days(values["custom_holidays"] or [])


async def delete_calendar(session: AsyncSession, *, calendar: Calendar) -> None:
    if calendar.key == ALWAYS_OPEN:
        raise Conflict("the 24/7 calendar is built in and cannot be deleted")
    for policy in await session.scalars(select(SlaPolicy)):
        if any(t.get("calendar_id") == calendar.id for t in (policy.targets or {}).values()):
            raise Conflict(f"policy {policy.name!r} uses calendar {calendar.key!r}")
    await audit(
        session,
        action="calendar.deleted",
        target_type=TargetType.CALENDAR,
        target_key=calendar.key,
        before=calendar_snapshot(calendar),
    )
    await session.delete(calendar)
    await session.flush()


# --- policies --------------------------------------------------------------------------


async def list_policies(session: AsyncSession) -> Sequence[SlaPolicy]:
    query = select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id)
    return (await session.scalars(query)).all()


async def get_policy(session: AsyncSession, *, policy_id: int) -> SlaPolicy:
    policy = await session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound(f"no SLA policy {policy_id}")
    return policy


async def create_policy(session: AsyncSession, *, values: Mapping[str, Any]) -> SlaPolicy:
    now = utcnow()
    policy = SlaPolicy(
        position=0,
        is_active=True,
        conditions={},
        targets={},
        pause_statuses=list(DEFAULT_PAUSE_STATUSES),
        warning_minutes=0,
        created_at=now,
        updated_at=now,
    )
    await _apply_policy(session, policy, values, creating=True)
    session.add(policy)
    await session.flush()
    await audit(
        session,
        action="sla_policy.created",
        target_type=TargetType.SLA_POLICY,
        target_key=policy.id,
        after=policy_snapshot(policy),
    )
    await schedule_reapply(session)
    return policy


async def update_policy(
    session: AsyncSession, *, policy: SlaPolicy, values: Mapping[str, Any]
) -> SlaPolicy:
    before = policy_snapshot(policy)
    await _apply_policy(session, policy, values, creating=False)
    policy.updated_at = utcnow()
    await session.flush()
    await audit(
        session,
        action="sla_policy.updated",
        target_type=TargetType.SLA_POLICY,
        target_key=policy.id,
        before=before,
        after=policy_snapshot(policy),
    )
    await schedule_reapply(session)
    return policy


async def delete_policy(session: AsyncSession, *, policy: SlaPolicy) -> None:
    await audit(
        session,
        action="sla_policy.deleted",
        target_type=TargetType.SLA_POLICY,
        target_key=policy.id,
        before=policy_snapshot(policy),
    )
    await session.delete(policy)
    await session.flush()
    await schedule_reapply(session)


async def _apply_policy(
    session: AsyncSession, policy: SlaPolicy, values: Mapping[str, Any], *, creating: bool
) -> None:
    if "name" in values or creating:
        name = str(values.get("name") or "").strip()
        if not name:
            raise ValidationProblem.for_field("name", "a policy needs a name")
        taken = await session.scalar(
            select(SlaPolicy.id).where(SlaPolicy.name == name, SlaPolicy.id != policy.id)
        )
        if taken is not None:
            raise Conflict(f"an SLA policy named {name!r} exists already")
        policy.name = name
    for simple in ("position", "is_active", "warning_minutes"):
        if values.get(simple) is not None:
            setattr(policy, simple, values[simple])
    if values.get("pause_statuses") is not None:
        pausing = list(dict.fromkeys(values["pause_statuses"]))
        for status in pausing:
            if status not in (Status.PENDING.value, Status.HOLD.value):
                raise ValidationProblem.for_field(
                    "pause_statuses", f"{status!r}: only pending and hold pause the clocks"
                )
        policy.pause_statuses = pausing
    if values.get("conditions") is not None:
        policy.conditions = await _conditions(session, values["conditions"])
    if values.get("targets") is not None or creating:
        policy.targets = await _targets(session, values.get("targets") or {})


async def _conditions(session: AsyncSession, given: Mapping[str, Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for name, allowed in (("priorities", Priority), ("types", TicketType)):
        for value in given.get(name) or []:
            if value not in {m.value for m in allowed}:
                raise ValidationProblem.for_field(f"conditions.{name}", f"unknown {value!r}")
        if given.get(name):
            out[name] = list(dict.fromkeys(given[name]))
    for name, model, column in (
        ("topics", Topic, Topic.key),
        ("accounts", Account, Account.key),
        ("groups", Group, Group.key),
    ):
        keys = list(dict.fromkeys(given.get(name) or []))
        if not keys:
            continue
        found = dict(
            (await session.execute(select(column, model.id).where(column.in_(keys)))).tuples().all()
        )
        missing = [k for k in keys if k not in found]
        if missing:
            raise ValidationProblem.for_field(f"conditions.{name}", f"no such key {missing[0]!r}")
        out[name[:-1] + "_ids"] = [found[k] for k in keys]
    if given.get("tags"):
        out["tags"] = sorted({str(t).strip().lower() for t in given["tags"]})
    return out


async def _targets(session: AsyncSession, given: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    unknown = set(given) - set(TARGETS)
    if unknown:
        raise ValidationProblem.for_field("targets", f"unknown target {sorted(unknown)[0]!r}")
    if not given:
        raise ValidationProblem.for_field("targets", "a policy sets at least one target")
    out = {}
    for target, spec in given.items():
        minutes = spec.get("minutes")
        if not isinstance(minutes, int) or not 1 <= minutes <= MAX_TARGET_MINUTES:
            raise ValidationProblem.for_field(
                f"targets.{target}.minutes", f"1..{MAX_TARGET_MINUTES} minutes"
            )
        key = spec.get("calendar") or ALWAYS_OPEN
        calendar = await session.scalar(select(Calendar).where(Calendar.key == key))
        if calendar is None:
            raise ValidationProblem.for_field(f"targets.{target}.calendar", f"no calendar {key!r}")
        out[target] = {"minutes": minutes, "calendar_id": calendar.id}
    return out


async def policy_view(session: AsyncSession, policy: SlaPolicy) -> dict[str, Any]:
    """The policy as its API shows it: keys and names where it stores ids."""
    calendars = dict((await session.execute(select(Calendar.id, Calendar.key))).tuples().all())
    conditions: dict[str, list[Any]] = {}
    stored = policy.conditions or {}
    for name in ("priorities", "types", "tags"):
        if stored.get(name):
            conditions[name] = list(stored[name])
    for name, model, column in (
        ("topics", Topic, Topic.key),
        ("accounts", Account, Account.key),
        ("groups", Group, Group.key),
    ):
        ids = stored.get(name[:-1] + "_ids") or []
        if ids:
            keys = dict(
                (await session.execute(select(model.id, column).where(model.id.in_(ids))))
                .tuples()
                .all()
            )
            conditions[name] = [keys.get(i, f"#{i}") for i in ids]
    return {
        "id": policy.id,
        "name": policy.name,
        "position": policy.position,
        "is_active": policy.is_active,
        "conditions": conditions,
        "targets": {
            t: {"minutes": s["minutes"], "calendar": calendars.get(s["calendar_id"], ALWAYS_OPEN)}
            for t, s in (policy.targets or {}).items()
        },
        "pause_statuses": list(policy.pause_statuses or []),
        "warning_minutes": policy.warning_minutes,
        "created_at": policy.created_at,
        "updated_at": policy.updated_at,
    }


# --- bringing open tickets up to date -------------------------------------------------


async def schedule_reapply(session: AsyncSession) -> None:
    """After this transaction, walk every open ticket again (one job at a time: a second
    change before the walk starts moves it, rather than starting another)."""
    await enqueue_job(session, kind=REAPPLY_KIND, key=REAPPLY_KIND, payload={"after_id": 0})


async def reapply(context: JobContext) -> None:
    """One batch of open tickets brought up to date under the current policies; the next
    batch is a job of its own."""
    after_id = int(context.payload.get("after_id", 0))
    tickets = list(
        await context.session.scalars(
            select(Ticket)
            .where(Ticket.id > after_id, Ticket.status.in_((*PAUSABLE, Status.SOLVED.value)))
            .order_by(Ticket.id)
            .limit(REAPPLY_BATCH)
            # Locked as a request or a ticket's timer locks it: two of them bringing one
            # ticket's clocks up to date at once would both record its alarms.
            .with_for_update(of=Ticket)
        )
    )
    for ticket in tickets:
        await bring_up_to_date(context.session, ticket=ticket, at=context.now)
    if len(tickets) == REAPPLY_BATCH:
        await enqueue_job(
            context.session,
            kind=REAPPLY_KIND,
            key=f"{REAPPLY_KIND}:{tickets[-1].id}",
            payload={"after_id": tickets[-1].id},
        )
