"""A ticket's service level: which policy applies, its clocks, its alarms and its timer.

:func:`subscriber` hears, in the event's own transaction, of what starts, stops or pauses a
clock (a new ticket, a public reply, a status change, a change of the fields a policy
matches on), brings the ticket's clocks up to date at the event's time and writes what the
ticket shows (tickets.sla, sla_due_at, sla_breached). The next warning or breach is one job
per ticket, keyed ``sla:<ticket id>``, moved by every change; :func:`run_timer` fires it.
Each alarm is marked on its clock as it is recorded, in the same transaction, so it is
recorded once however many workers run and however often a timer runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.db.subscribers import Subscribers
from helpwire.jobs.registry import JobContext
from helpwire.jobs.service import cancel_job, enqueue_job
from helpwire.sla.calendars import BusinessHours, parse_clock_time
from helpwire.sla.clocks import DONE, PAUSED, RUNNING, TARGETS, Alarm, Clock, Clocks
from helpwire.sla.models import Calendar, SlaPolicy, TicketSla
from helpwire.tickets.events import EventType, record
from helpwire.tickets.models import Event, Status, Ticket

TIMER_KIND = "sla.timer"
# The events a ticket's clocks follow.
EVENT_TYPES = (
    EventType.TICKET_CREATED.value,
    EventType.COMMENT_CREATED.value,
    EventType.TICKET_STATUS_CHANGED.value,
    EventType.TICKET_UPDATED.value,
    EventType.TICKET_ESCALATED.value,
)
DEFAULT_PAUSE_STATUSES = (Status.PENDING.value, Status.HOLD.value)
# Solved stops the clocks until the ticket is reopened; closed ends them.
_STOPPED = (Status.SOLVED.value,)
_ENDED = (Status.CLOSED.value,)


def hours_of(calendar: Calendar) -> BusinessHours:
    if calendar.windows is None:
        return BusinessHours(time_zone=calendar.time_zone)
    return BusinessHours(
        time_zone=calendar.time_zone,
        windows={
            day: tuple((parse_clock_time(a), parse_clock_time(b)) for a, b in spans)
            for day, spans in calendar.windows.items()
        },
        holiday_country=calendar.holiday_country,
        holiday_subdivision=calendar.holiday_subdivision,
        custom_holidays=frozenset(
            datetime.fromisoformat(day).date() for day in calendar.custom_holidays
        ),
    )


_CALENDARS_KEY = "helpwire.sla.calendars"
_POLICIES_KEY = "helpwire.sla.policies"


async def _calendar_rows(session: AsyncSession) -> list[tuple[int, str, BusinessHours]]:
    """The calendars (id, key, hours), read once per transaction: a request may record
    several events, and the SLA clocks and triggers both read them."""
    state = Subscribers.transaction_state(session)
    if _CALENDARS_KEY not in state:
        rows = await session.scalars(select(Calendar))
        state[_CALENDARS_KEY] = [(c.id, c.key, hours_of(c)) for c in rows]
    found: list[tuple[int, str, BusinessHours]] = state[_CALENDARS_KEY]
    return found


async def _calendars(session: AsyncSession) -> dict[int, BusinessHours]:
    return {calendar_id: hours for calendar_id, _key, hours in await _calendar_rows(session)}


async def calendars_by_key(session: AsyncSession) -> dict[str, BusinessHours]:
    return {key: hours for _id, key, hours in await _calendar_rows(session)}


def matches(policy: SlaPolicy, ticket: Ticket) -> bool:
    """Whether each condition the policy gives holds for the ticket."""
    conditions = policy.conditions or {}
    values: dict[str, Any] = {
        "priorities": ticket.priority,
        "types": ticket.type,
        "topic_ids": ticket.topic_id,
        "account_ids": ticket.account_id,
        "group_ids": ticket.group_id,
    }
    for name, value in values.items():
        wanted = conditions.get(name)
        if wanted and value not in wanted:
            return False
    tags = conditions.get("tags")
    return not tags or bool(set(tags) & set(ticket.tags))


async def policy_for(session: AsyncSession, ticket: Ticket) -> SlaPolicy | None:
    """The first active policy, by position, whose conditions the ticket meets (the
    policies read once per transaction)."""
    state = Subscribers.transaction_state(session)
    if _POLICIES_KEY not in state:
        state[_POLICIES_KEY] = list(
            await session.scalars(
                select(SlaPolicy)
                .where(SlaPolicy.is_active.is_(True))
                .order_by(SlaPolicy.position, SlaPolicy.id)
            )
        )
    policies: list[SlaPolicy] = state[_POLICIES_KEY]
    return next((p for p in policies if matches(p, ticket)), None)


async def subscriber(session: AsyncSession, *, event: Event, ticket: Any) -> None:
    """Brings the ticket's clocks up to date with ``event`` (registered for EVENT_TYPES)."""
    await bring_up_to_date(session, ticket=ticket, at=event.created_at, event=event)


async def bring_up_to_date(
    session: AsyncSession, *, ticket: Ticket, at: datetime, event: Event | None = None
) -> None:
    """Match the policy, follow ``event`` (if any), pause or resume for the status, record
    what came due, and write the ticket's SLA and its timer."""
    row = await session.get(TicketSla, ticket.id)
    policy = await policy_for(session, ticket)
    if policy is None and row is None:
        return
    calendars = await _calendars(session)
    clocks = Clocks(
        {t: Clock.from_json(c) for t, c in (row.clocks if row else {}).items()},
        lambda calendar_id: calendars.get(calendar_id) or BusinessHours(),
    )
    if row is None:
        row = TicketSla(ticket_id=ticket.id, clocks={}, breaches=[])
        session.add(row)
    alarms: list[Alarm] = []
    if policy is None:
        clocks.clocks.clear()
    else:
        _follow_policy(clocks, policy, ticket, at, fresh=row.policy_id is None)
        if event is not None:
            alarms += _follow_event(clocks, policy, ticket, event)
        alarms += _follow_status(clocks, policy, ticket, at)
        alarms += clocks.settle(at, warning_minutes=policy.warning_minutes)
    row.policy_id = policy.id if policy else None
    await _store(session, row=row, ticket=ticket, policy=policy, clocks=clocks, at=at)
    await _record_alarms(session, ticket=ticket, policy=policy, alarms=alarms, row=row)


def _target(policy: SlaPolicy, target: str) -> tuple[int, int] | None:
    spec = (policy.targets or {}).get(target)
    if not spec:
        return None
    return int(spec["minutes"]), int(spec["calendar_id"])


def _follow_policy(
    clocks: Clocks, policy: SlaPolicy, ticket: Ticket, at: datetime, *, fresh: bool
) -> None:
    """The policy's targets on the clocks: a target it drops goes, one it changes counts
    on with the working time used so far. A new ticket's clocks start in _follow_event."""
    for target in TARGETS:
        spec = _target(policy, target)
        if spec is None:
            clocks.clocks.pop(target, None)
        elif target in clocks.clocks:
            clock = clocks.clocks[target]
            if (clock.minutes, clock.calendar_id) != spec and clock.state != DONE:
                clocks.retarget(target, minutes=spec[0], calendar_id=spec[1], at=at)
        elif fresh and target == "resolution" and ticket.status not in _ENDED:
            # A ticket a policy applies to later: its resolution clock starts now.
            clocks.start(target, minutes=spec[0], calendar_id=spec[1], at=at)


def _follow_event(clocks: Clocks, policy: SlaPolicy, ticket: Ticket, event: Event) -> list[Alarm]:
    at = event.created_at
    staff = event.actor is not None and event.actor.is_staff
    if event.type == EventType.TICKET_CREATED.value:
        first = _target(policy, "first_reply")
        if first is not None and not staff:
            clocks.start("first_reply", minutes=first[0], calendar_id=first[1], at=at)
        return []
    if event.type != EventType.COMMENT_CREATED.value or event.internal:
        return []
    if staff:
        return clocks.stop("first_reply", at) + clocks.stop("next_reply", at)
    nxt = _target(policy, "next_reply")
    first_open = clocks.clocks.get("first_reply") is not None and (
        clocks.clocks["first_reply"].state != DONE
    )
    current = clocks.clocks.get("next_reply")
    waiting = current is not None and current.state != DONE
    if nxt is not None and not first_open and not waiting:
        clocks.start("next_reply", minutes=nxt[0], calendar_id=nxt[1], at=at)
    return []


def _follow_status(clocks: Clocks, policy: SlaPolicy, ticket: Ticket, at: datetime) -> list[Alarm]:
    status = ticket.status
    if status in _ENDED:
        alarms: list[Alarm] = []
        for target, clock in list(clocks.clocks.items()):
            if clock.state != DONE:
                alarms += clocks.stop(target, at) if target == "resolution" else []
                clock.state, clock.due_at, clock.running_since = DONE, None, None
        return alarms
    pausing = policy.pause_statuses or []
    if status in _STOPPED or status in pausing:
        alarms = clocks.settle(at, warning_minutes=0)
        clocks.pause(at)
        return alarms
    clocks.resume(at)
    return []


async def _store(
    session: AsyncSession,
    *,
    row: TicketSla,
    ticket: Ticket,
    policy: SlaPolicy | None,
    clocks: Clocks,
    at: datetime,
) -> None:
    row.clocks = {t: c.to_json() for t, c in clocks.clocks.items()}
    row.updated_at = at
    states = {c.state for c in clocks.clocks.values()}
    if policy is None:
        ticket.sla, ticket.sla_due_at = None, None
    else:
        ticket.sla = {
            "policy": policy.name,
            **{f"{t}_due_at": _iso(clocks.due(t)) for t in TARGETS},
            "breaches": list(row.breaches),
            "paused": PAUSED in states and RUNNING not in states,
        }
        ticket.sla_due_at = min(
            (c.due_at for _t, c in clocks.running() if c.due_at is not None), default=None
        )
    key = f"sla:{ticket.id}"
    wake = clocks.next_alarm(warning_minutes=policy.warning_minutes) if policy else None
    if wake is None:
        await cancel_job(session, key=key)
    else:
        await enqueue_job(
            session, kind=TIMER_KIND, key=key, payload={"ticket_id": ticket.id}, run_at=wake
        )


async def _record_alarms(
    session: AsyncSession,
    *,
    ticket: Ticket,
    policy: SlaPolicy | None,
    alarms: Sequence[Alarm],
    row: TicketSla,
) -> None:
    for alarm in alarms:
        if alarm.kind == "breached":
            row.breaches = [
                *row.breaches,
                {
                    "target": alarm.target,
                    "due_at": alarm.due_at.isoformat(),
                    "breached_at": max(alarm.due_at, row.updated_at).isoformat(),
                },
            ]
            ticket.sla_breached = True
            if ticket.sla is not None:
                ticket.sla = {**ticket.sla, "breaches": list(row.breaches)}
        await record(
            session,
            ticket=ticket,
            actor=None,
            type=EventType.SLA_BREACHED if alarm.kind == "breached" else EventType.SLA_WARNING,
            internal=True,
            data={
                "target": alarm.target,
                "due_at": alarm.due_at.isoformat(),
                "policy": policy.name if policy else None,
            },
        )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


async def run_timer(context: JobContext) -> None:
    """A ticket's timer: record the warnings and breaches due by the worker's clock, and
    set the next one."""
    ticket_id = int(context.payload["ticket_id"])
    ticket = await context.session.scalar(
        select(Ticket).where(Ticket.id == ticket_id).with_for_update(of=Ticket)
    )
    if ticket is None:
        return
    await bring_up_to_date(context.session, ticket=ticket, at=context.now)
