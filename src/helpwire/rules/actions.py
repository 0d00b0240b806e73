"""What triggers, automations and macros do to a ticket, as the rules user.

Field changes go through the tickets service as one update (so they are checked and
recorded as any agent's change would be); notes and replies through its comments; a
channel gets the event the rule runs on; mail goes through the mail channel when mail is
set up. An action list is checked when the rule is saved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.accounts.models import STAFF_ROLES, User
from helpwire.groups.models import Group
from helpwire.mail.config import MailConfig
from helpwire.mail.outbound import queue_rule_mail
from helpwire.notify.models import Channel
from helpwire.notify.outbox import enqueue_to_channel
from helpwire.problems import Problem, ValidationProblem
from helpwire.rules.models import Macro
from helpwire.rules.templates import render_text
from helpwire.tickets import service as tickets
from helpwire.tickets.models import BodyFormat, Event, Priority, Status, Ticket, TicketType
from helpwire.tickets.queues import WORKING
from helpwire.tickets.schemas import TicketUpdate

SET_FIELDS = {
    "set_status": ("status", {s.value for s in Status}),
    "set_priority": ("priority", {p.value for p in Priority}),
    "set_type": ("type", {t.value for t in TicketType}),
    "set_topic": ("topic", None),
    "set_group": ("group", None),
}
KINDS = (
    *SET_FIELDS,
    "assign",
    "assign_round_robin",
    "assign_least_open",
    "add_tags",
    "remove_tags",
    "add_note",
    "reply",
    "notify_channel",
    "email",
    "apply_macro",
)
MAX_TEXT = 50_000


def check_actions(
    actions: Sequence[Mapping[str, Any]], *, allow_reply: bool = True
) -> list[dict[str, Any]]:
    """The actions in their stored form, or a 422 naming the first that is wrong."""
    if not actions:
        raise ValidationProblem.for_field("actions", "a rule does at least one thing")
    clean = []
    for index, action in enumerate(actions):
        where = f"actions[{index}]"
        kind = action.get("type")
        if kind not in KINDS or (kind == "reply" and not allow_reply):
            raise ValidationProblem.for_field(f"{where}.type", f"one of {', '.join(KINDS)}")
        clean.append({"type": kind, **_check_value(where, kind, action)})
    return clean


def _check_value(where: str, kind: str, action: Mapping[str, Any]) -> dict[str, Any]:
    value = action.get("value")
    if kind in SET_FIELDS:
        allowed = SET_FIELDS[kind][1]
        if allowed is not None and value not in allowed:
            raise ValidationProblem.for_field(
                f"{where}.value", f"one of {', '.join(sorted(allowed))}"
            )
        if allowed is None and value is not None and not isinstance(value, str):
            raise ValidationProblem.for_field(f"{where}.value", "a key or null")
        return {"value": value}
    if kind in ("add_tags", "remove_tags"):
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ValidationProblem.for_field(f"{where}.value", "a list of tags")
        return {"value": sorted({v.strip().lower() for v in value if v.strip()})}
    if kind in ("assign_round_robin", "assign_least_open"):
        if not isinstance(action.get("group"), str):
            raise ValidationProblem.for_field(f"{where}.group", "a group's key")
        return {"group": action["group"]}
    if kind == "assign":
        if value is not None and not isinstance(value, str):
            raise ValidationProblem.for_field(f"{where}.value", "a username or null")
        return {"value": value}
    if kind in ("add_note", "reply"):
        _text(f"{where}.value", value)
        return {"value": value}
    if kind in ("notify_channel", "apply_macro"):
        if not isinstance(value, int) or isinstance(value, bool):
            what = "a channel's id" if kind == "notify_channel" else "a shared macro's id"
            raise ValidationProblem.for_field(f"{where}.value", what)
        return {"value": value}
    to = action.get("to")
    if not isinstance(to, str) or not (to in ("requester", "assignee") or "@" in to):
        raise ValidationProblem.for_field(f"{where}.to", "requester, assignee or an address")
    _text(f"{where}.subject", action.get("subject"), limit=255)
    _text(f"{where}.value", value)
    return {"to": to, "subject": action["subject"], "value": value}


def _text(where: str, value: Any, limit: int = MAX_TEXT) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValidationProblem.for_field(where, f"text of 1..{limit} characters")


@dataclass
class Outcome:
    """What the actions did (for the timeline's line) and what they could not do."""

    done: list[str]
    skipped: list[str]


async def perform(
    session: AsyncSession,
    *,
    actions: Sequence[Mapping[str, Any]],
    ticket: Ticket,
    event: Event | None,
    actor: Actor,
    mail: MailConfig | None,
) -> Outcome:
    """Do ``actions`` to ``ticket`` in the caller's transaction. A field change that the
    ticket refuses (a closed ticket, a retired group) is skipped and said so, never
    half-done: all of one rule's field changes are one update."""
    outcome = Outcome([], [])
    changes = await _field_changes(session, actions, ticket, outcome)
    if changes:
        try:
            async with session.begin_nested():
                await tickets.update_ticket(
                    session, actor=actor, number=ticket.number, changes=TicketUpdate(**changes)
                )
            outcome.done.append("changed " + ", ".join(sorted(changes)))
        except Problem as exc:
            outcome.skipped.append(f"changes refused: {exc.detail}")
    for action in actions:
        try:
            async with session.begin_nested():
                await _other(
                    session,
                    action,
                    ticket=ticket,
                    event=event,
                    actor=actor,
                    mail=mail,
                    outcome=outcome,
                )
        except Problem as exc:
            outcome.skipped.append(f"{action['type']} refused: {exc.detail}")
    return outcome


async def _field_changes(
    session: AsyncSession, actions: Sequence[Mapping[str, Any]], ticket: Ticket, outcome: Outcome
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    tags = set(ticket.tags)
    for action in actions:
        kind = action["type"]
        if kind in SET_FIELDS:
            field = SET_FIELDS[kind][0]
            if field == "topic" and action["value"]:
                topic, _, subtopic = str(action["value"]).partition("/")
                changes["topic"], changes["subtopic"] = topic, subtopic or None
            else:
                changes[field] = action["value"]
        elif kind == "assign":
            changes["assignee"] = action["value"]
        elif kind in ("assign_round_robin", "assign_least_open"):
            chosen = await _choose_assignee(session, kind, action["group"])
            if chosen is None:
                outcome.skipped.append(f"nobody available in group {action['group']}")
            else:
                changes["assignee"] = chosen
        elif kind == "add_tags":
            tags |= set(action["value"])
        elif kind == "remove_tags":
            tags -= set(action["value"])
    if tags != set(ticket.tags):
        changes["tags"] = sorted(tags)
    return changes


async def _choose_assignee(session: AsyncSession, kind: str, group_key: str) -> str | None:
    """An available, active member of the group: the next after the last one chosen
    (round robin), or the one with the fewest tickets still being worked on."""
    group = await session.scalar(
        select(Group).where(Group.key == group_key, Group.is_active.is_(True)).with_for_update()
    )
    if group is None:
        return None
    members = sorted(
        (m for m in group.members if m.is_active and m.available and m.role in STAFF_ROLES),
        key=lambda m: m.username,
    )
    if not members:
        return None
    if kind == "assign_round_robin":
        last = next((m for m in members if m.id == group.last_assigned_id), None)
        after = [m for m in members if last is not None and m.username > last.username]
        chosen = (after or members)[0]
        group.last_assigned_id = chosen.id
        return chosen.username
    loads = dict(
        (
            await session.execute(
                select(Ticket.assignee_id, func.count())
                .where(
                    Ticket.assignee_id.in_([m.id for m in members]),
                    Ticket.status.in_([s.value for s in WORKING]),
                )
                .group_by(Ticket.assignee_id)
            )
        )
        .tuples()
        .all()
    )
    return min(members, key=lambda m: (loads.get(m.id, 0), m.username)).username


async def _other(
    session: AsyncSession,
    action: Mapping[str, Any],
    *,
    ticket: Ticket,
    event: Event | None,
    actor: Actor,
    mail: MailConfig | None,
    outcome: Outcome,
) -> None:
    kind = action["type"]
    if kind in ("add_note", "reply"):
        await _write(
            session,
            actor,
            ticket,
            action["value"],
            body_format=BodyFormat.MARKDOWN,
            internal=kind == "add_note",
        )
        outcome.done.append("added an internal note" if kind == "add_note" else "replied")
    elif kind == "notify_channel":
        channel = await session.get(Channel, action["value"])
        if channel is None or not channel.enabled or event is None:
            outcome.skipped.append(f"channel {action['value']} is not there or not enabled")
        else:
            await enqueue_to_channel(session, channel_id=channel.id, event=event, ticket=ticket)
            outcome.done.append(f"sent to channel {channel.name}")
    elif kind == "apply_macro":
        await _apply_macro(session, action["value"], ticket=ticket, actor=actor, outcome=outcome)
    elif kind == "email":
        await _email(
            session, action, ticket=ticket, event=event, actor=actor, mail=mail, outcome=outcome
        )


async def _apply_macro(
    session: AsyncSession, macro_id: int, *, ticket: Ticket, actor: Actor, outcome: Outcome
) -> None:
    """A shared macro's text, written as its macro says (reply or note), by the rules user.
    Its field changes are for agents applying it by hand; a rule sets fields itself."""
    macro = await session.scalar(
        select(Macro).where(Macro.id == macro_id, Macro.owner_id.is_(None))
    )
    if macro is None:
        outcome.skipped.append(f"no shared macro {macro_id}")
        return
    await _write(
        session,
        actor,
        ticket,
        macro.body,
        body_format=BodyFormat(macro.body_format),
        internal=macro.internal,
    )
    outcome.done.append(f"wrote the macro “{macro.name}”")


async def _write(
    session: AsyncSession,
    actor: Actor,
    ticket: Ticket,
    text: str,
    *,
    body_format: BodyFormat,
    internal: bool,
) -> None:
    """A reply or a note by ``actor``, its placeholders filled in for this ticket."""
    await tickets.add_comment_to(
        session,
        actor=actor,
        ticket=ticket,
        body=render_text(text, ticket=ticket, viewer=actor.user),
        body_format=body_format,
        internal=internal,
        file_ids=(),
        max_files=0,
    )


async def _email(
    session: AsyncSession,
    action: Mapping[str, Any],
    *,
    ticket: Ticket,
    event: Event | None,
    actor: Actor,
    mail: MailConfig | None,
    outcome: Outcome,
) -> None:
    to = action["to"]
    person: User | None = {"requester": ticket.requester, "assignee": ticket.assignee}.get(to)
    address = (
        person.email if person is not None else (None if to in ("requester", "assignee") else to)
    )
    if mail is None:
        outcome.skipped.append("e-mail is not set up (HELPWIRE_MAIL_SMTP_URL)")
        return
    if not address:
        outcome.skipped.append(f"no address for {to}")
        return
    await queue_rule_mail(
        session,
        mail,
        ticket=ticket,
        event=event,
        to=address,
        subject=render_text(action["subject"], ticket=ticket, viewer=actor.user),
        text=render_text(action["value"], ticket=ticket, viewer=actor.user),
    )
    outcome.done.append(f"e-mailed {to}")
