"""A ticket's whole timeline for agents: comments and events in time order, each event said
in words ("Sam Agent changed status from new to open by replying")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from helpwire.accounts.models import User
from helpwire.accounts.preferences import DEFAULT_LANGUAGE
from helpwire.tickets.events import EventType
from helpwire.tickets.field_values import CHANGE_PREFIX as CUSTOM_FIELD_CHANGE
from helpwire.tickets.models import Comment, Event
from helpwire.web.i18n import N_, current_locale

# Shown as the comment itself, not as a line of its own.
SHOWN_AS_COMMENT = frozenset({EventType.COMMENT_CREATED.value})

_STATUS_REASONS = {
    "agent_reply": N_("by replying"),
    "customer_reply": N_("by replying"),
    "reopen": N_("by reopening it"),
    "with_reply": N_("with their reply"),
    "with_note": N_("with their internal note"),
    "merged": N_("by merging it"),
}
# The fields a change names, as a sentence says them.
_FIELD_NAMES = {
    "subject": N_("subject"),
    "status": N_("status"),
    "priority": N_("priority"),
    "type": N_("type"),
    "topic": N_("topic"),
    "subtopic": N_("subtopic"),
    "tags": N_("tags"),
    "assignee": N_("assignee"),
    "group": N_("group"),
    "access_level": N_("access level"),
    "projects": N_("projects"),
}
# Fields whose values are one of a few words, shown as the pages' labels ("Offen").
_LABELLED_FIELDS = frozenset({"status", "priority", "type", "access_level"})


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    comment: Comment | None = None
    event: Event | None = None
    # For events: who did it, by name.
    who: str = ""

    @property
    def what(self) -> str:
        """What the event did, in words, in the language of the page being rendered (so
        it is worked out when the page is, not when the timeline is read)."""
        return describe(self.event) if self.event is not None else ""


def person(user: User | None) -> str:
    if user is None:
        return "helpwire"
    return user.real_name or user.username


def _value(value: Any, *, labelled: bool = False) -> str:
    locale = current_locale()
    if value is None or value == "" or value == []:
        return locale.gettext("nothing")
    if isinstance(value, bool):  # a checkbox field
        return locale.gettext("yes") if value else locale.gettext("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "{…}"
    if labelled and locale.language != DEFAULT_LANGUAGE:
        # English says the value as it is ("from new to open"); another language says
        # the label the pages show for it ("von Neu zu Offen").
        return locale.gettext(str(value).replace("_", " ").capitalize())
    return str(value)


def _field_change(field: str, change: dict[str, Any]) -> str:
    locale = current_locale()
    before, after = change.get("before"), change.get("after")
    if field == "attributes":
        return locale.gettext("changed the attributes")
    if field == "followers":
        return _followers_change(before or [], after or [])
    if field.startswith(CUSTOM_FIELD_CHANGE):
        key = field.removeprefix(CUSTOM_FIELD_CHANGE)
        if after is None:
            return locale.gettext(
                "cleared the field “%(key)s” (was %(before)s)", key=key, before=_value(before)
            )
        return locale.gettext(
            "set the field “%(key)s” from %(before)s to %(after)s",
            key=key,
            before=_value(before),
            after=_value(after),
        )
    if field == "subject":
        return locale.gettext(
            "changed the subject from “%(before)s” to “%(after)s”",
            before=_value(before),
            after=_value(after),
        )
    labelled = field in _LABELLED_FIELDS
    return locale.gettext(
        "changed %(field)s from %(before)s to %(after)s",
        field=locale.gettext(_FIELD_NAMES.get(field) or field.replace("_", " ")),
        before=_value(before, labelled=labelled),
        after=_value(after, labelled=labelled),
    )


def _followers_change(before: list[Any], after: list[Any]) -> str:
    locale = current_locale()
    added = ", ".join(str(v) for v in after if v not in before)
    removed = ", ".join(str(v) for v in before if v not in after)
    parts = [locale.gettext("added %(names)s to the followers", names=added)] if added else []
    if removed:
        parts.append(locale.gettext("removed %(names)s from the followers", names=removed))
    return "; ".join(parts) or locale.gettext("left the followers as they were")


def _filed(event: Event, data: dict[str, Any]) -> str:
    locale = current_locale()
    if data.get("split_from") is not None:
        return locale.gettext(
            "split this ticket off #%(number)s (%(comments)s)",
            number=data["split_from"],
            comments=_comments(data),
        )
    via = str(data.get("via") or "api").replace("_", "-")
    requester = data.get("requester")
    if event.actor is not None and requester and requester != event.actor.username:
        # Staff filed it for a customer (who phoned, chatted, walked in).
        return locale.gettext(
            "filed the ticket for %(requester)s (via %(via)s)", requester=requester, via=via
        )
    filed = locale.gettext("filed the ticket (via %(via)s)", via=via)
    given = [f"{key}: {_value(value)}" for key, value in (data.get("fields") or {}).items()]
    if given:
        return locale.gettext("%(filed)s with %(fields)s", filed=filed, fields="; ".join(given))
    return filed


def _comments(data: dict[str, Any]) -> str:
    count = data.get("comments") or 0
    return current_locale().ngettext("%(num)d comment", "%(num)d comments", count)


def _describe_move(kind: str, data: dict[str, Any]) -> str:
    locale = current_locale()
    subject = f" “{data['subject']}”" if data.get("subject") else ""
    if kind == EventType.TICKET_MERGED and data.get("from") is not None:
        return locale.gettext(
            "merged #%(number)s%(subject)s into this ticket (%(comments)s)",
            number=data["from"],
            subject=subject,
            comments=_comments(data),
        )
    if kind == EventType.TICKET_MERGED:
        return locale.gettext(
            "merged this ticket into #%(number)s%(subject)s (%(comments)s)",
            number=data.get("into"),
            subject=subject,
            comments=_comments(data),
        )
    return locale.gettext(
        "split %(comments)s off into #%(number)s%(subject)s",
        comments=_comments(data),
        number=data.get("into"),
        subject=subject,
    )


def describe(event: Event) -> str:
    """What the event did, as the end of a sentence whose subject is its actor."""
    data: dict[str, Any] = event.data or {}
    kind = event.type
    locale = current_locale()
    if kind == EventType.TICKET_CREATED:
        return _filed(event, data)
    if kind in (EventType.TICKET_MERGED, EventType.TICKET_SPLIT):
        return _describe_move(kind, data)
    if kind == EventType.TICKET_UPDATED:
        changes = data.get("changes") or {}
        parts = [_field_change(field, change) for field, change in changes.items()]
        return "; ".join(parts) or locale.gettext("changed the ticket")
    if kind == EventType.TICKET_STATUS_CHANGED:
        return _status_change(data)
    if kind == EventType.TICKET_ASSIGNED:
        if data.get("after") is None:
            return locale.gettext(
                "unassigned the ticket (was %(before)s)", before=_value(data.get("before"))
            )
        return locale.gettext("assigned the ticket to %(assignee)s", assignee=data["after"])
    if kind == EventType.TICKET_ESCALATED:
        priority = data.get("priority") or {}
        return locale.gettext(
            "escalated the ticket (priority %(before)s to urgent)",
            before=_value(priority.get("before"), labelled=True),
        )
    if kind == EventType.TICKET_RATED:
        return _rated(data)
    if kind == EventType.COMMENT_RATED:
        return _reply_rated(data)
    return _describe_clocks_and_rules(kind, data) or kind.replace(".", " ").replace("_", " ")


def _status_change(data: dict[str, Any]) -> str:
    locale = current_locale()
    text = locale.gettext(
        "changed status from %(before)s to %(after)s",
        before=_value(data.get("before"), labelled=True),
        after=_value(data.get("after"), labelled=True),
    )
    reason = _STATUS_REASONS.get(str(data.get("reason")))
    return f"{text} {locale.gettext(reason)}" if reason else text


def _rated(data: dict[str, Any]) -> str:
    locale = current_locale()
    comment = data.get("comment")
    if comment:
        return locale.gettext(
            "rated the ticket %(score)s/5: “%(comment)s”", score=data.get("score"), comment=comment
        )
    return locale.gettext("rated the ticket %(score)s/5", score=data.get("score"))


def _reply_rated(data: dict[str, Any]) -> str:
    locale = current_locale()
    up = data.get("score") == 1
    comment = data.get("comment")
    if comment:
        if up:
            return locale.gettext("rated a reply thumbs up: “%(comment)s”", comment=comment)
        return locale.gettext("rated a reply thumbs down: “%(comment)s”", comment=comment)
    return (
        locale.gettext("rated a reply thumbs up")
        if up
        else locale.gettext("rated a reply thumbs down")
    )


def _describe_clocks_and_rules(kind: str, data: dict[str, Any]) -> str | None:
    locale = current_locale()
    target = str(data.get("target", "")).replace("_", " ")
    if locale.language != DEFAULT_LANGUAGE:
        target = locale.gettext(target.capitalize())
    policy = f" ({data['policy']})" if data.get("policy") else ""
    if kind == EventType.SLA_WARNING:
        return locale.gettext("warns: the %(target)s target is due soon", target=target) + policy
    if kind == EventType.SLA_BREACHED:
        return locale.gettext("notes: the %(target)s target was missed", target=target) + policy
    if kind == EventType.RULE_APPLIED:
        rule = data.get("rule") or {}
        done = "; ".join(data.get("done") or []) or locale.gettext("nothing to do")
        skipped = "; ".join(data.get("skipped") or [])
        text = locale.gettext(
            "ran the %(kind)s “%(name)s” (%(why)s): %(done)s",
            kind=rule.get("kind", "rule"),
            name=rule.get("name", ""),
            why=data.get("why"),
            done=done,
        )
        return (
            locale.gettext("%(text)s; not done: %(skipped)s", text=text, skipped=skipped)
            if skipped
            else text
        )
    if kind == EventType.PERSON_ERASED:
        if data.get("role") == "requester":
            return locale.gettext("erased the personal data of the ticket's requester")
        return locale.gettext("erased the personal data of someone who wrote on this ticket")
    return None


def merge(comments: Sequence[Comment], events: Sequence[Event]) -> list[TimelineEntry]:
    """Comments and events oldest first: "filed the ticket" leads (it is recorded just
    after the first comment, which is the ticket's body), and at one moment a comment
    comes before the events it caused (a reply, then the status change it made)."""
    entries = [TimelineEntry(at=c.created_at, comment=c) for c in comments]
    entries += [
        TimelineEntry(at=e.created_at, event=e, who=person(e.actor))
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
