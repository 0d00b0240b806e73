"""Running triggers on events and automations on time, and saying so in the timeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.db.subscribers import Subscriber, Subscribers
from helpwire.jobs.registry import JobContext
from helpwire.mail.config import MailConfig
from helpwire.rules.acting import rules_actor
from helpwire.rules.actions import Outcome, perform
from helpwire.rules.conditions import TIME_FIELDS, Situation, holds
from helpwire.rules.models import Automation, RuleRun, Trigger
from helpwire.sla.calendars import BusinessHours
from helpwire.sla.service import calendars_by_key
from helpwire.tickets.events import EventType, record
from helpwire.tickets.models import Comment, Event, Status, Ticket

# Events as triggers name them: a comment by whom, and every field change as one.
_TRIGGER_EVENT = {
    EventType.TICKET_CREATED.value: "ticket.created",
    EventType.TICKET_UPDATED.value: "ticket.updated",
    EventType.TICKET_ASSIGNED.value: "ticket.updated",
    EventType.TICKET_ESCALATED.value: "ticket.updated",
    EventType.TICKET_STATUS_CHANGED.value: "ticket.status_changed",
    EventType.TICKET_RATED.value: "ticket.rated",
    EventType.SLA_WARNING.value: "sla.warning",
    EventType.SLA_BREACHED.value: "sla.breached",
}
TRIGGER_EVENTS = (
    "ticket.created",
    "ticket.updated",
    "ticket.status_changed",
    "comment.customer",
    "comment.agent",
    "ticket.rated",
    "sla.warning",
    "sla.breached",
)
_FIRED_KEY = "helpwire.rules.fired"
# Triggers fired by what triggers did, one inside the other, at most this deep: each trigger
# fires once per ticket in a transaction, so a loop ends anyway; this bounds the work.
MAX_DEPTH = 10
_DEPTH_KEY = "helpwire.rules.depth"
AUTOMATION_BATCH = 500


def trigger_event(event: Event) -> str | None:
    if event.type == EventType.COMMENT_CREATED.value:
        if event.internal:
            return None
        staff = event.actor is not None and event.actor.is_staff
        return "comment.agent" if staff else "comment.customer"
    return _TRIGGER_EVENT.get(event.type)


async def _event_text(session: AsyncSession, event: Event | None, ticket: Ticket) -> str:
    comment_id = (event.data or {}).get("comment_id") if event is not None else None
    comment = await session.get(Comment, comment_id) if isinstance(comment_id, int) else None
    text = comment.body if comment is not None else ""
    return f"{ticket.subject}\n{text}".lower()


_TRIGGERS_KEY = "helpwire.rules.triggers"


async def _active_triggers(session: AsyncSession) -> list[Trigger]:
    """The active triggers in order, read once per transaction."""
    state = Subscribers.transaction_state(session)
    if _TRIGGERS_KEY not in state:
        query = select(Trigger).where(Trigger.is_active.is_(True))
        state[_TRIGGERS_KEY] = list(
            await session.scalars(query.order_by(Trigger.position, Trigger.id))
        )
    found: list[Trigger] = state[_TRIGGERS_KEY]
    return found


def _fired_in_this_transaction(session: AsyncSession) -> set[tuple[int, int]]:
    """(trigger, ticket) pairs fired in the session's current transaction. Kept with the
    transaction itself, not in transaction_state: a savepoint rolled back for a refused
    action empties that, and a trigger must still not fire twice."""
    transaction = session.sync_session.get_transaction()
    kept = session.info.get(_FIRED_KEY)
    if kept is None or kept[0] is not transaction:
        kept = (transaction, set())
        session.info[_FIRED_KEY] = kept
    fired: set[tuple[int, int]] = kept[1]
    return fired


def subscriber(*, mail: MailConfig | None) -> Subscriber:
    """Runs the active triggers of each event, in the event's transaction."""

    async def on_event(session: AsyncSession, *, event: Event, ticket: Any) -> None:
        name = trigger_event(event)
        if name is None:
            return
        triggers = [t for t in await _active_triggers(session) if name in t.events]
        if triggers:
            await _run_triggers(session, triggers, event=event, ticket=ticket, mail=mail)

    return on_event


async def _run_triggers(
    session: AsyncSession,
    triggers: Sequence[Trigger],
    *,
    event: Event,
    ticket: Ticket,
    mail: MailConfig | None,
) -> None:
    fired = _fired_in_this_transaction(session)
    depth = int(session.info.get(_DEPTH_KEY, 0))
    situation = Situation(
        ticket=ticket,
        event=event,
        now=event.created_at,
        text=await _event_text(session, event, ticket),
        calendars=await calendars_by_key(session),
    )
    for trigger in triggers:
        if (trigger.id, ticket.id) in fired or not holds(trigger.conditions, situation):
            continue
        fired.add((trigger.id, ticket.id))
        if depth >= MAX_DEPTH:
            await _say(
                session,
                ticket,
                kind="trigger",
                rule=trigger,
                why=event.type,
                outcome=Outcome([], [f"not run: {MAX_DEPTH} triggers deep"]),
            )
            continue
        session.info[_DEPTH_KEY] = depth + 1
        try:
            actor = await rules_actor(session)
            outcome = await perform(
                session, actions=trigger.actions, ticket=ticket, event=event, actor=actor, mail=mail
            )
        finally:
            session.info[_DEPTH_KEY] = depth
        await _say(session, ticket, kind="trigger", rule=trigger, why=event.type, outcome=outcome)


async def _say(
    session: AsyncSession,
    ticket: Ticket,
    *,
    kind: str,
    rule: Trigger | Automation,
    why: str,
    outcome: Outcome,
    actor: Actor | None = None,
) -> None:
    """The timeline's line: which rule ran, on what, what it did and what it could not."""
    await record(
        session,
        ticket=ticket,
        actor=(actor or await rules_actor(session)).user,
        type=EventType.RULE_APPLIED,
        internal=True,
        data={
            "rule": {"kind": kind, "id": rule.id, "name": rule.name},
            "why": why,
            "done": outcome.done,
            "skipped": outcome.skipped,
        },
    )


# --- automations ---------------------------------------------------------------------


def _time_condition(automation: Automation) -> tuple[str, int]:
    """The automation's (first) wait: the ticket's column and its minutes."""
    for condition in automation.conditions:
        if condition["field"] in TIME_FIELDS:
            return TIME_FIELDS[condition["field"]], int(condition["value"])
    raise ValueError(f"automation {automation.id} has no time condition")


def candidates(automation: Automation, *, now: datetime, limit: int) -> Any:
    """The tickets that have waited long enough and that this automation has not acted on
    since they began to wait, oldest wait first (by index: status and the time)."""
    column_name, minutes = _time_condition(automation)
    column = getattr(Ticket, column_name)
    acted = exists(
        select(RuleRun.id).where(
            RuleRun.automation_id == automation.id,
            RuleRun.ticket_id == Ticket.id,
            RuleRun.created_at >= column,
        )
    )
    query = select(Ticket).where(
        column <= now - timedelta(minutes=minutes), ~acted, Ticket.status != Status.CLOSED.value
    )
    statuses = _statuses(automation.conditions)
    if statuses:
        query = query.where(Ticket.status.in_(statuses))
    return query.order_by(column, Ticket.id).limit(limit)


def _statuses(conditions: Sequence[Mapping[str, Any]]) -> list[str]:
    for condition in conditions:
        if condition["field"] == "status" and condition["op"] in ("is", "in"):
            value = condition["value"]
            return [v for v in (value if isinstance(value, list) else [value]) if v]
    return []


async def _claim(
    session: AsyncSession, automation: Automation, ticket: Ticket, *, now: datetime
) -> bool:
    """Record that the automation acts on this ticket now; False if another run did."""
    column_name, _minutes = _time_condition(automation)
    occurrence = getattr(ticket, column_name) or ticket.updated_at
    dialect = session.bind.dialect.name
    insert = postgresql.insert(RuleRun) if dialect == "postgresql" else sqlite.insert(RuleRun)
    result = await session.execute(
        insert.values(
            automation_id=automation.id,
            ticket_id=ticket.id,
            occurrence=occurrence.isoformat(),
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(RuleRun.id)
    )
    return result.first() is not None


def automations_job(*, mail: MailConfig | None) -> Any:
    """The recurring job: each active automation, in order, on its waiting tickets."""

    async def run(context: JobContext) -> None:
        session = context.session
        automations = list(
            await session.scalars(
                select(Automation)
                .where(Automation.is_active.is_(True))
                .order_by(Automation.position, Automation.id)
            )
        )
        calendars = await calendars_by_key(session)
        for automation in automations:
            await _run_automation(
                session, automation, now=context.now, calendars=calendars, mail=mail
            )

    return run


async def _run_automation(
    session: AsyncSession,
    automation: Automation,
    *,
    now: datetime,
    calendars: Mapping[str, BusinessHours],
    mail: MailConfig | None,
) -> int:
    tickets = list(await session.scalars(candidates(automation, now=now, limit=AUTOMATION_BATCH)))
    acted = 0
    for ticket in tickets:
        situation = Situation(ticket=ticket, event=None, now=now, text="", calendars=calendars)
        if not holds(automation.conditions, situation):
            continue
        if not await _claim(session, automation, ticket, now=now):
            continue
        actor = await rules_actor(session)
        outcome = await perform(
            session, actions=automation.actions, ticket=ticket, event=None, actor=actor, mail=mail
        )
        await _say(session, ticket, kind="automation", rule=automation, why="time", outcome=outcome)
        acted += 1
    return acted


async def dry_run(
    session: AsyncSession, *, rule: Trigger | Automation, now: datetime, limit: int = 100
) -> tuple[list[int], int]:
    """The numbers of the tickets the rule would act on now (at most ``limit``), and how
    many tickets were looked at. A trigger is judged on the tickets not closed, most
    recently updated first (its text conditions against their subjects)."""
    calendars = await calendars_by_key(session)
    if isinstance(rule, Automation):
        tickets = list(await session.scalars(candidates(rule, now=now, limit=AUTOMATION_BATCH)))
    else:
        tickets = list(
            await session.scalars(
                select(Ticket)
                .where(Ticket.status != Status.CLOSED.value)
                .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
                .limit(1000)
            )
        )
    matched = [
        t.number
        for t in tickets
        if holds(
            rule.conditions,
            Situation(ticket=t, event=None, now=now, text=t.subject.lower(), calendars=calendars),
        )
    ]
    return matched[:limit], len(tickets)


__all__ = ["TRIGGER_EVENTS", "automations_job", "dry_run", "subscriber"]
