"""A ticket's whole timeline for agents: comments and events in time order, each event said
in words ("Sam Agent changed status from new to open by replying")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from helpwire.accounts.models import User
from helpwire.tickets.events import EventType
from helpwire.tickets.field_values import CHANGE_PREFIX as CUSTOM_FIELD_CHANGE
from helpwire.tickets.models import Comment, Event

# Shown as the comment itself, not as a line of its own.
SHOWN_AS_COMMENT = frozenset({EventType.COMMENT_CREATED.value})

_STATUS_REASONS = {
    "agent_reply": "by replying",
    "customer_reply": "by replying",
    "reopen": "by reopening it",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    comment: Comment | None = None
    event: Event | None = None
    # For events: who did it and what, in words.
    who: str = ""
    what: str = ""


def person(user: User | None) -> str:
    if user is None:
        return "helpwire"
    return user.real_name or user.username


def _value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "nothing"
    if isinstance(value, bool):  # a checkbox field
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "{…}"
    return str(value)


def _field_change(field: str, change: dict[str, Any]) -> str:
    name = field.replace("_", " ")
    before, after = change.get("before"), change.get("after")
    if field == "attributes":
        return "changed the attributes"
    if field.startswith(CUSTOM_FIELD_CHANGE):
        key = field.removeprefix(CUSTOM_FIELD_CHANGE)
        if after is None:
            return f"cleared the field “{key}” (was {_value(before)})"
        return f"set the field “{key}” from {_value(before)} to {_value(after)}"
    if field == "subject":
        return f"changed the subject from “{_value(before)}” to “{_value(after)}”"
    return f"changed {name} from {_value(before)} to {_value(after)}"


def describe(event: Event) -> str:
    """What the event did, as the end of a sentence whose subject is its actor."""
    data: dict[str, Any] = event.data or {}
    kind = event.type
    if kind == EventType.TICKET_CREATED:
        filed = f"filed the ticket (via {data.get('via') or 'api'})"
        fields = data.get("fields") or {}
        given = [f"{key}: {_value(value)}" for key, value in fields.items()]
        return f"{filed} with {'; '.join(given)}" if given else filed
    if kind == EventType.TICKET_UPDATED:
        changes = data.get("changes") or {}
        parts = [_field_change(field, change) for field, change in changes.items()]
        return "; ".join(parts) or "changed the ticket"
    if kind == EventType.TICKET_STATUS_CHANGED:
        text = f"changed status from {_value(data.get('before'))} to {_value(data.get('after'))}"
        reason = _STATUS_REASONS.get(str(data.get("reason")))
        return f"{text} {reason}" if reason else text
    if kind == EventType.TICKET_ASSIGNED:
        if data.get("after") is None:
            return f"unassigned the ticket (was {_value(data.get('before'))})"
        return f"assigned the ticket to {data['after']}"
    if kind == EventType.TICKET_ESCALATED:
        priority = data.get("priority") or {}
        return f"escalated the ticket (priority {_value(priority.get('before'))} to urgent)"
    if kind == EventType.TICKET_RATED:
        comment = data.get("comment")
        rating = f"rated the ticket {data.get('score')}/5"
        return f"{rating}: “{comment}”" if comment else rating
    if kind == EventType.COMMENT_RATED:
        thumbs = "thumbs up" if data.get("score") == 1 else "thumbs down"
        comment = data.get("comment")
        return f"rated a reply {thumbs}: “{comment}”" if comment else f"rated a reply {thumbs}"
    return _describe_clocks_and_rules(kind, data) or kind.replace(".", " ").replace("_", " ")


def _describe_clocks_and_rules(kind: str, data: dict[str, Any]) -> str | None:
    target = str(data.get("target", "")).replace("_", " ")
    policy = f" ({data['policy']})" if data.get("policy") else ""
    if kind == EventType.SLA_WARNING:
        return f"warns: the {target} target is due soon{policy}"
    if kind == EventType.SLA_BREACHED:
        return f"notes: the {target} target was missed{policy}"
    if kind == EventType.RULE_APPLIED:
        rule = data.get("rule") or {}
        done = "; ".join(data.get("done") or []) or "nothing to do"
        skipped = "; ".join(data.get("skipped") or [])
        name = f"the {rule.get('kind', 'rule')} “{rule.get('name', '')}”"
        text = f"ran {name} ({data.get('why')}): {done}"
        return f"{text}; not done: {skipped}" if skipped else text
    return None


def merge(comments: Sequence[Comment], events: Sequence[Event]) -> list[TimelineEntry]:
    """Comments and events oldest first: "filed the ticket" leads (it is recorded just
    after the first comment, which is the ticket's body), and at one moment a comment
    comes before the events it caused (a reply, then the status change it made)."""
    entries = [TimelineEntry(at=c.created_at, comment=c) for c in comments]
    entries += [
        TimelineEntry(at=e.created_at, event=e, who=person(e.actor), what=describe(e))
        for e in events
        if e.type not in SHOWN_AS_COMMENT
    ]
    entries.sort(
        key=lambda entry: (
            entry.event is None or entry.event.type != EventType.TICKET_CREATED,
            entry.at,
            entry.comment is None,
        )
    )
    return entries
