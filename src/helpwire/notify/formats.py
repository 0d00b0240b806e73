"""Rendering a notification payload as a chat message or an e-mail.

Every channel renders from the same canonical document (``payloads.event_payload`` or
``payloads.test_payload``). Rendering has two steps:

1. the payload is read into a platform-neutral :class:`_View` of plain, unescaped text
   (what to say), tolerant of missing or odd fields, so that no payload ever raises;
2. one renderer per platform decides how to say it: its markup, its escaping, its limits.

All escaping lives in step 2, so user text is escaped exactly once, just before it is
wrapped in markup. Where a platform limits a length, the *raw* text is shortened until its
rendering fits (:func:`_clip`), so a cut never splits an escape sequence, entity or link.

The layout of a new ticket follows the UCloud support service: a title line with number,
type and priority, "User information", "Technical info", the subject, the message quoted
line by line, the attached files and a link to the ticket.

Pure functions: no I/O. (Only an e-mail whose payload timestamp is unreadable falls back
to the clock for its Date.)
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formatdate, make_msgid, parseaddr
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

from helpwire.notify.models import ChannelKind

ELLIPSIS = "…"
NOTHING = "—"  # shown for an empty value, so that every UCloud field keeps its line
INTERNAL_MARK = "INTERNAL NOTE"
INTERNAL_WARNING = "staff only, not visible to the customer"
MISSING_UA = "Missing UA"

HEADLINE_MAX = 200
FACT_MAX = 500  # rendered characters of one fact value in a chat message

# Slack Block Kit limits (api.slack.com/reference/block-kit).
SLACK_MAX_BLOCKS = 50
SLACK_SECTION_MAX = 3000
SLACK_CONTEXT_MAX = 2000
SLACK_BUTTON_TEXT_MAX = 75
SLACK_URL_MAX = 3000
SLACK_FALLBACK_MAX = 3000  # Slack itself truncates at 40,000; a notification needs far less

# Mattermost 5.0+ accepts posts of 16,383 characters; keep a margin.
MATTERMOST_MAX = 16_000
MATTERMOST_QUOTE_MAX = 12_000

# Discord embed limits (discord.com/developers/docs/resources/message#embed-object).
DISCORD_CONTENT_MAX = 2000
DISCORD_TITLE_MAX = 256
DISCORD_DESCRIPTION_MAX = 4096
DISCORD_FIELDS_MAX = 25
DISCORD_FIELD_NAME_MAX = 256
DISCORD_FIELD_VALUE_MAX = 1024
DISCORD_FOOTER_MAX = 2048
DISCORD_EMBED_TOTAL_MAX = 6000

# Teams refuses webhook messages over 28 KB, and some tenants fail well below that.
TEAMS_MAX_BYTES = 20_000
TEAMS_QUOTE_MAX = 8000

EMAIL_QUOTE_MAX = 100_000

COLOR_DEFAULT = 0x5865F2
COLOR_BY_PRIORITY = {"low": 0x95A5A6, "normal": 0x3498DB, "high": 0xE67E22, "urgent": 0xE74C3C}
COLOR_INTERNAL = 0xF1C40F
COLOR_DONE = 0x2ECC71


# --------------------------------------------------------------------------------------
# Reading the payload
# --------------------------------------------------------------------------------------


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _seq(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _str(value: Any) -> str:
    """Any JSON value as display text ('' for null)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return _compact_json(value)


# C0/C1 controls and the bidi overrides that can make a line display as something else.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _one_line(value: Any) -> str:
    """Single-line text: what goes into titles, facts and headers (no header injection)."""
    return " ".join(_CONTROLS.sub(" ", _str(value)).split())


def _multi_line(value: Any) -> str:
    """Block text with normalised line ends, no control characters, no blank margins."""
    text = _str(value).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_CONTROLS.sub("", line).rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def _safe_url(value: Any) -> str | None:
    """An http(s) URL fit to put in a link, or None: never a javascript: or data: link,
    and no character that would end a Slack ``<url|text>`` or a Markdown ``(url)`` early."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return re.sub(r"[\s<>|()\"'`\\\[\]{}^]", lambda m: quote(m.group()), value)


class _TextFromHtml(HTMLParser):
    """Text of an HTML comment body (stored sanitised), one line per block element."""

    _BREAKS = frozenset(
        {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _html_to_text(value: str) -> str:
    parser = _TextFromHtml()
    parser.feed(value)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts))


def _body_text(comment: dict[str, Any]) -> str:
    body = _str(comment.get("body"))
    if comment.get("body_format") == "html":
        body = _html_to_text(body)
    return _multi_line(body)


@dataclass(frozen=True)
class _Event:
    """The parts of a payload the renderings use, each defaulted to something empty."""

    type: str
    timestamp: str
    data: dict[str, Any]
    event: dict[str, Any]
    details: dict[str, Any]
    ticket: dict[str, Any]
    comment: dict[str, Any] | None

    @property
    def number(self) -> int | None:
        number = self.ticket.get("number")
        return number if isinstance(number, int) and not isinstance(number, bool) else None

    @property
    def ref(self) -> str:
        return f" #{self.number}" if self.number is not None else ""

    @property
    def url(self) -> str | None:
        return _safe_url(self.ticket.get("url"))

    @property
    def subject(self) -> str:
        return _one_line(self.ticket.get("subject"))

    @property
    def actor(self) -> str:
        # No actor: the service itself did it (a scheduled close, an import).
        return _person(self.event.get("actor")) or "helpwire"

    @property
    def internal(self) -> bool:
        comment = self.comment or {}
        return bool(
            comment.get("internal") or self.details.get("internal") or self.event.get("internal")
        )


def _read(payload: dict[str, Any]) -> _Event:
    payload = _obj(payload)
    data = _obj(payload.get("data"))
    event = _obj(data.get("event"))
    comment = data.get("comment")
    return _Event(
        type=_one_line(payload.get("type") or event.get("type")) or "unknown",
        timestamp=_one_line(payload.get("timestamp") or event.get("created_at")),
        data=data,
        event=event,
        details=_obj(event.get("details")),
        ticket=_obj(data.get("ticket")),
        comment=comment if isinstance(comment, dict) else None,
    )


def _person(user: Any) -> str:
    user = _obj(user)
    username = _one_line(user.get("username"))
    real_name = _one_line(user.get("real_name"))
    if real_name and username and real_name != username:
        return f"{real_name} ({username})"
    return real_name or username


def _topic(ticket: dict[str, Any]) -> str:
    def name(value: Any) -> str:
        topic = _obj(value)
        names = _obj(topic.get("names"))
        label = names.get("en") or next((v for v in names.values() if v), None)
        return _one_line(label or topic.get("key"))

    return " / ".join(
        part for part in (name(ticket.get("topic")), name(ticket.get("subtopic"))) if part
    )


def _account(ticket: dict[str, Any]) -> str:
    account = ticket.get("account")
    if not isinstance(account, dict):
        return _one_line(account)  # a bare key, as the REST API shows it
    key, name = _one_line(account.get("key")), _one_line(account.get("name"))
    return f"{name} ({key})" if name and key and name != key else name or key


def _value_or_nothing(value: Any) -> str:
    return _one_line(value) or NOTHING


def _change(value: Any) -> str:
    """One side of a ticket.updated change."""
    if value is None or value == [] or value == {}:
        return NOTHING
    return _one_line(value)


def _label(field_name: str) -> str:
    known = {"tp_id": "Third-party ID", "external_url": "External URL"}
    return known.get(field_name, field_name.replace("_", " ").capitalize())


# --------------------------------------------------------------------------------------
# The platform-neutral view
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Link:
    label: str
    url: str | None


@dataclass(frozen=True)
class _Section:
    title: str
    facts: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _View:
    """What a message says, as plain unescaped text; renderers add markup and escaping."""

    url: str | None  # the ticket in the web UI (or the instance, for a test message)
    link_label: str
    title: str
    headline: str
    timestamp: str
    summary: str = ""  # who did what
    sections: tuple[_Section, ...] = ()
    subject: str = ""
    quote_label: str = ""
    quote: str = ""  # multi-line text to show quoted
    internal: bool = False
    files: tuple[_Link, ...] = ()
    footer: tuple[str, ...] = ()
    color: int = COLOR_DEFAULT


def _phrase(ev: _Event, ref: str) -> str:
    """What happened, in a few words, with ``ref`` (' #42' or '') after the word ticket."""
    d = ev.details
    match ev.type:
        case "ticket.created":
            return f"New ticket{ref}"
        case "ticket.updated":
            fields = ", ".join(_label(str(f)) for f in _obj(d.get("changes")))
            return f"Ticket{ref} updated" + (f" ({fields})" if fields else "")
        case "ticket.status_changed":
            return f"Ticket{ref} status changed to {_value_or_nothing(d.get('after'))}"
        case "ticket.assigned":
            after = _one_line(d.get("after"))
            return f"Ticket{ref} assigned to {after}" if after else f"Ticket{ref} unassigned"
        case "ticket.escalated":
            after = _one_line(_obj(d.get("priority")).get("after")) or "urgent"
            return f"Ticket{ref} escalated to {after}"
        case "ticket.rated":
            return f"Ticket{ref} rated {_value_or_nothing(d.get('score'))}/5"
        case "comment.created":
            return f"{INTERNAL_MARK} on ticket{ref}" if ev.internal else f"New reply on ticket{ref}"
        case "comment.rated":
            return f"Reply on ticket{ref} rated {_thumbs(d.get('score'))}"
        case "channel.test":
            return _one_line(ev.data.get("message")) or "helpwire test message"
        case _:
            return f"{ev.type} on ticket{ref}" if ev.ticket else f"helpwire event {ev.type}"


def _plain(text: str) -> str:
    return text


def _headline(ev: _Event, *, ref: str) -> str:
    """The phrase and the subject on one line. E-mail subjects pass ``ref=''``: their
    ``[helpwire #42]`` tag carries the number."""
    phrase = _clip(_phrase(ev, ref), _plain, HEADLINE_MAX)
    if not ev.subject or ev.type == "channel.test":
        return phrase
    room = max(HEADLINE_MAX - _size(phrase) - 2, 20)
    return f"{phrase}: {_clip(ev.subject, _plain, room)}"


def _thumbs(score: Any) -> str:
    if score in (1, "1", "+1"):
        return "thumbs up (+1)"
    if score in (-1, "-1"):
        return "thumbs down (-1)"
    return _value_or_nothing(score)


def _format_time(timestamp: str) -> str:
    moment = _parse_time(timestamp)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else timestamp


def _parse_time(timestamp: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the service writes UTC
    return moment.astimezone(UTC)


def _footer(ev: _Event) -> tuple[str, ...]:
    items = [f"helpwire · {ev.type}"]
    t = ev.ticket
    if t:
        items.append(f"Status: {_value_or_nothing(t.get('status'))}")
        items.append(f"Priority: {_value_or_nothing(t.get('priority'))}")
        items.append(f"Assignee: {_one_line(_obj(t.get('assignee')).get('username')) or NOTHING}")
    if ev.timestamp:
        items.append(_format_time(ev.timestamp))
    return tuple(items)


def _color(ev: _Event) -> int:
    if ev.internal:
        return COLOR_INTERNAL
    if ev.type == "ticket.escalated":
        return COLOR_BY_PRIORITY["urgent"]
    if ev.type == "ticket.status_changed" and ev.details.get("after") in ("solved", "closed"):
        return COLOR_DONE
    return COLOR_BY_PRIORITY.get(_str(ev.ticket.get("priority")), COLOR_DEFAULT)


def _files(ev: _Event) -> tuple[_Link, ...]:
    # The comment document has each file's URL; the event details only id and name.
    source = (ev.comment or {}).get("files") or ev.details.get("files")
    links = []
    for item in _seq(source):
        item = _obj(item)
        name = _one_line(item.get("filename")) or _one_line(item.get("id"))
        if name:
            links.append(_Link(name, _safe_url(item.get("url"))))
    return tuple(links)


def _base_view(ev: _Event, **fields: Any) -> _View:
    """The parts every event shares; ``fields`` override them."""
    line = _headline(ev, ref=ev.ref)
    defaults: dict[str, Any] = {
        "url": ev.url,
        "link_label": f"Open ticket{ev.ref}",
        "title": line,
        "headline": line,
        "timestamp": ev.timestamp,
        "footer": _footer(ev),
        "color": _color(ev),
        "internal": ev.internal,
    }
    return _View(**{**defaults, **fields})


def _created_view(ev: _Event) -> _View:
    t = ev.ticket
    requester = _obj(t.get("requester"))
    kind = _one_line(t.get("type")).capitalize() or "Ticket"
    title = f"New ticket{ev.ref} — {kind}, priority {_value_or_nothing(t.get('priority'))}"
    user = _Section(
        "User information",
        (
            ("Username", _value_or_nothing(requester.get("username"))),
            ("Security role", _value_or_nothing(requester.get("role"))),
            ("Real name", _value_or_nothing(requester.get("real_name"))),
            ("Email", _value_or_nothing(requester.get("email"))),
            ("Account", _account(t) or NOTHING),
            ("Projects", _value_or_nothing(t.get("projects"))),
        ),
    )
    requester_name = _one_line(requester.get("username"))
    actor_name = _one_line(_obj(ev.event.get("actor")).get("username"))
    summary = (
        f"Filed by {ev.actor} on behalf of {_person(requester)}"
        if actor_name and requester_name and actor_name != requester_name
        else ""
    )
    comment = ev.comment or {}
    return _base_view(
        ev,
        title=title,
        summary=summary,
        sections=(user, _Section("Technical info", _technical_facts(ev))),
        subject=ev.subject or NOTHING,
        quote_label="Message",
        quote=_body_text(comment),
        files=_files(ev),
    )


def _technical_facts(ev: _Event) -> tuple[tuple[str, str], ...]:
    """Context and attributes only reach staff channels; customer-audience documents lack
    them and show just the topic."""
    t = ev.ticket
    facts: list[tuple[str, str]] = []
    context = t.get("context")
    if isinstance(context, dict):
        via = _one_line(context.get("via") or ev.details.get("via")) or NOTHING
        service = _one_line(context.get("service") or ev.details.get("on_behalf_of_service"))
        facts += [
            ("Request ID", _value_or_nothing(context.get("request_id"))),
            ("User agent", _one_line(context.get("user_agent")) or MISSING_UA),
            ("Location", _value_or_nothing(context.get("location"))),
            ("Via", f"{via} (service {service})" if service else via),
        ]
        if context.get("info"):
            facts.append(("Client info", _one_line(context.get("info"))))
    facts.append(("Topic", _topic(t) or NOTHING))
    if t.get("attributes"):
        facts.append(("Attributes", _one_line(t.get("attributes"))))
    return tuple(facts)


def _updated_view(ev: _Event) -> _View:
    changes = _obj(ev.details.get("changes"))
    facts = tuple(
        (_label(str(name)), f"{_change(_obj(c).get('before'))} → {_change(_obj(c).get('after'))}")
        for name, c in changes.items()
    )
    return _base_view(
        ev,
        summary=f"{ev.actor} updated ticket{ev.ref}.",
        sections=(_Section("Changes", facts),) if facts else (),
    )


_STATUS_REASONS = {
    "agent_reply": "after a reply from support",
    "customer_reply": "after a reply from the customer",
    "reopen": "reopened",
}


def _status_view(ev: _Event) -> _View:
    d = ev.details
    reason = _one_line(d.get("reason"))
    summary = (
        f"{ev.actor} changed the status of ticket{ev.ref} from "
        f"{_value_or_nothing(d.get('before'))} to {_value_or_nothing(d.get('after'))}"
        + (f" ({_STATUS_REASONS.get(reason, reason)})" if reason else "")
        + "."
    )
    return _base_view(ev, summary=summary)


def _assigned_view(ev: _Event) -> _View:
    before, after = _one_line(ev.details.get("before")), _one_line(ev.details.get("after"))
    if after:
        summary = f"{ev.actor} assigned ticket{ev.ref} to {after}" + (
            f" (was {before})." if before else "."
        )
    else:
        summary = f"{ev.actor} unassigned ticket{ev.ref}" + (f" (was {before})." if before else ".")
    return _base_view(ev, summary=summary)


def _escalated_view(ev: _Event) -> _View:
    priority = _obj(ev.details.get("priority"))
    summary = (
        f"{ev.actor} escalated ticket{ev.ref}: priority "
        f"{_value_or_nothing(priority.get('before'))} → {_value_or_nothing(priority.get('after'))}."
    )
    return _base_view(ev, summary=summary)


def _ticket_rated_view(ev: _Event) -> _View:
    d = ev.details
    return _base_view(
        ev,
        summary=f"{ev.actor} rated ticket{ev.ref} {_value_or_nothing(d.get('score'))}/5.",
        quote_label="Rating comment",
        quote=_multi_line(d.get("comment")),
    )


def _comment_view(ev: _Event) -> _View:
    comment = ev.comment or {}
    if ev.internal:
        summary = f"{ev.actor} added an internal note to ticket{ev.ref}."
        label = f"{INTERNAL_MARK} ({INTERNAL_WARNING})"
    else:
        summary = f"{ev.actor} replied on ticket{ev.ref}."
        label = "Reply"
    return _base_view(
        ev, summary=summary, quote_label=label, quote=_body_text(comment), files=_files(ev)
    )


def _comment_rated_view(ev: _Event) -> _View:
    d = ev.details
    feedback = _multi_line(d.get("comment"))
    summary = f"{ev.actor} rated a reply on ticket{ev.ref}: {_thumbs(d.get('score'))}."
    if feedback:
        return _base_view(ev, summary=summary, quote_label="Feedback", quote=feedback)
    return _base_view(
        ev, summary=summary, quote_label="Rated reply", quote=_body_text(ev.comment or {})
    )


def _test_view(ev: _Event) -> _View:
    return _base_view(
        ev,
        url=_safe_url(ev.data.get("url")),
        link_label="Open helpwire",
        title="helpwire test message",
        summary=_one_line(ev.data.get("message")),
        footer=(f"helpwire · {ev.type}", _format_time(ev.timestamp)),
    )


def _generic_view(ev: _Event) -> _View:
    """Any event this module does not know yet: say what it is and show its details."""
    facts = tuple((_label(str(k)), _value_or_nothing(v)) for k, v in ev.details.items())
    comment = ev.comment or {}
    label = f"{INTERNAL_MARK} ({INTERNAL_WARNING})" if ev.internal else "Comment"
    return _base_view(
        ev,
        summary=f"{ev.actor}: {ev.type}" + (f" on ticket{ev.ref}." if ev.ticket else "."),
        sections=(_Section("Details", facts),) if facts else (),
        quote_label=label,
        quote=_body_text(comment),
        files=_files(ev),
    )


_VIEWS: dict[str, Callable[[_Event], _View]] = {
    "ticket.created": _created_view,
    "ticket.updated": _updated_view,
    "ticket.status_changed": _status_view,
    "ticket.assigned": _assigned_view,
    "ticket.escalated": _escalated_view,
    "ticket.rated": _ticket_rated_view,
    "comment.created": _comment_view,
    "comment.rated": _comment_rated_view,
    "channel.test": _test_view,
}


def _view(payload: dict[str, Any]) -> _View:
    ev = _read(payload)
    return _VIEWS.get(ev.type, _generic_view)(ev)


# --------------------------------------------------------------------------------------
# Lengths and escaping
# --------------------------------------------------------------------------------------


def _size(text: str) -> int:
    # Platforms count in code points or in UTF-16 code units (JavaScript); the latter is
    # never smaller, so limits hold either way.
    return len(text.encode("utf-16-le")) // 2


def _clip(raw: str, render: Callable[[str], str], limit: int) -> str:
    """``render(raw)``, at most ``limit`` long: if too long, the longest prefix of ``raw``
    whose rendering fits, with an ellipsis. Shortening the raw text, never the rendering,
    keeps escapes, entities and links whole."""
    out = render(raw)
    if _size(out) <= limit:
        return out
    # Renderings only add characters, so a prefix longer than the limit never fits.
    low, high = 0, min(len(raw), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if _size(render(raw[:middle]) + ELLIPSIS) <= limit:
            low = middle
        else:
            high = middle - 1
    out = render(raw[:low]) + ELLIPSIS
    return out if _size(out) <= limit else ELLIPSIS


def _join(parts: Iterable[str], limit: int, sep: str = "\n") -> str:
    """Whole parts joined while they fit; an ellipsis marks any left out."""
    out = ""
    for part in parts:
        candidate = out + sep + part if out else part
        if _size(candidate) > limit:
            marked = out + sep + ELLIPSIS if out else ELLIPSIS
            return marked if _size(marked) <= limit else out
        out = candidate
    return out


# A mention starts at a word boundary; the local part of an e-mail address is not one.
_MENTION = re.compile(r"(?<![\w.+\-])@(?=\w)")


def _defuse_mentions(text: str) -> str:
    """@channel, @here, @all, @everyone, @someone: a zero-width space after the @ keeps
    the text readable but stops chat services from notifying anyone."""
    return _MENTION.sub("@\u200b", text)


def _slack_entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_escape(text: str) -> str:
    # Slack reads only <...> as links and mentions (<!channel>, <@U123>); with & < >
    # escaped no user text can produce one.
    return _slack_entities(_defuse_mentions(text))


# Markdown that works anywhere in a line: emphasis, code, strike-through, spoilers and
# tables, links ([text](url), <url>) and Discord's <@id> mentions. CommonMark, Discord
# and Mattermost all read a backslash before ASCII punctuation as "this character, literally".
_MARKDOWN_INLINE = re.compile(r"([\\`*_~\[\]<|])")
# Markdown that works only at the start of a line: headings, quotes, lists, setext rules.
_MARKDOWN_LINE_START = re.compile(r"^([ \t]*)([#>+=-]|\d+[.)])", re.MULTILINE)


def _markdown_escape(text: str) -> str:
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    return _MARKDOWN_LINE_START.sub(
        lambda m: f"{m.group(1)}{m.group(2)[:-1]}\\{m.group(2)[-1]}", text
    )


def _chat_markdown_escape(text: str) -> str:
    return _markdown_escape(_defuse_mentions(text))


def _quote(text: str, escape: Callable[[str], str]) -> str:
    return "\n".join(f"> {escape(line)}" if line else ">" for line in text.split("\n"))


# --------------------------------------------------------------------------------------
# Slack
# --------------------------------------------------------------------------------------


def _slack_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _slack_link(url: str, label: str) -> str:
    return f"<{_slack_entities(url)}|{_slack_escape(label)}>"


def _slack_facts(section: _Section) -> str:
    lines = [
        f"• *{_slack_escape(label)}:* {_clip(value, _slack_escape, FACT_MAX)}"
        for label, value in section.facts
    ]
    return _join([f"*{_slack_escape(section.title)}*", *lines], SLACK_SECTION_MAX)


def _slack(view: _View) -> dict[str, Any]:
    esc = _slack_escape
    title = _clip(view.title, lambda s: f"*{esc(s)}*", 1000)
    if view.url and len(view.url) < SLACK_SECTION_MAX - 1100:
        title += "\n" + _slack_link(view.url, view.link_label)
    blocks = [_slack_section(title)]
    if view.internal:
        blocks.append(_slack_section(f":lock: *{INTERNAL_MARK}* — {INTERNAL_WARNING}"))
    if view.summary:
        blocks.append(_slack_section(_clip(view.summary, esc, SLACK_SECTION_MAX)))
    blocks += [_slack_section(_slack_facts(s)) for s in view.sections if s.facts]
    if view.subject:
        blocks.append(
            _slack_section(_clip(view.subject, lambda s: f"*Subject:* {esc(s)}", SLACK_SECTION_MAX))
        )
    if view.quote:
        header = f"*{esc(view.quote_label)}:*\n"
        blocks.append(
            _slack_section(_clip(view.quote, lambda s: header + _quote(s, esc), SLACK_SECTION_MAX))
        )
    if view.files:
        lines = [_slack_link(f.url, f.label) if f.url else esc(f.label) for f in view.files]
        blocks.append(_slack_section(_join(["*Files:*", *lines], SLACK_SECTION_MAX)))
    if view.url and len(view.url) <= SLACK_URL_MAX:
        blocks.append(_slack_button(view.url, view.link_label))
    if view.footer:
        text = _clip(" · ".join(view.footer), esc, SLACK_CONTEXT_MAX)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    return {
        "text": _clip(view.headline, esc, SLACK_FALLBACK_MAX),
        "blocks": _cap_blocks(blocks),
        # User-supplied URLs (the location, say) must not fetch previews into the channel.
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _slack_button(url: str, label: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {
                    "type": "plain_text",
                    "text": _clip(label, _plain, SLACK_BUTTON_TEXT_MAX),
                },
                "url": url,
                "action_id": "open_ticket",
            }
        ],
    }


def _cap_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(blocks) <= SLACK_MAX_BLOCKS:
        return blocks
    return [*blocks[: SLACK_MAX_BLOCKS - 1], _slack_section(ELLIPSIS)]


# --------------------------------------------------------------------------------------
# Mattermost
# --------------------------------------------------------------------------------------


def _md_link(label: str, url: str | None, escape: Callable[[str], str]) -> str:
    return f"[{escape(label)}]({url})" if url else escape(label)


def _md_facts(section: _Section, escape: Callable[[str], str], limit: int) -> str:
    lines = [
        f"- **{escape(label)}:** {_clip(value, escape, FACT_MAX)}" for label, value in section.facts
    ]
    return _join([f"**{escape(section.title)}**", *lines], limit)


def _mattermost(view: _View) -> dict[str, Any]:
    esc = _chat_markdown_escape
    head = [_clip(view.title, lambda s: f"#### {esc(s)}", 1000)]
    if view.url:
        head.append(_md_link(view.link_label, view.url, esc))
    if view.internal:
        head.append(f":lock: **{INTERNAL_MARK}** — {INTERNAL_WARNING}")
    if view.summary:
        head.append(_clip(view.summary, esc, 2000))
    head += [_md_facts(s, esc, 4000) for s in view.sections if s.facts]
    if view.subject:
        head.append(_clip(view.subject, lambda s: f"**Subject:** {esc(s)}", 2000))
    tail = []
    if view.files:
        files = [f"- {_md_link(f.label, f.url, esc)}" for f in view.files]
        tail.append(_join(["**Files:**", *files], 3000))
    if view.footer:
        tail.append(_clip(" · ".join(view.footer), lambda s: f"_{esc(s)}_", 1000))
    quote = _md_quote_part(view, esc, budget=MATTERMOST_MAX - _size("\n\n".join(head + tail)) - 4)
    return {"text": _join([*head, *quote, *tail], MATTERMOST_MAX, sep="\n\n")}


def _md_quote_part(view: _View, escape: Callable[[str], str], budget: int) -> list[str]:
    if not view.quote or budget < 100:
        return []
    header = f"**{escape(view.quote_label)}:**\n"
    limit = min(budget, MATTERMOST_QUOTE_MAX)
    return [_clip(view.quote, lambda s: header + _quote(s, escape), limit)]


# --------------------------------------------------------------------------------------
# Discord
# --------------------------------------------------------------------------------------


def _discord_field(name: str, value: str) -> dict[str, Any]:
    return {
        "name": _clip(name, _chat_markdown_escape, DISCORD_FIELD_NAME_MAX),
        "value": value or NOTHING,  # Discord refuses an empty field value
        "inline": False,
    }


def _discord_fields(view: _View) -> list[dict[str, Any]]:
    esc = _chat_markdown_escape
    fields = []
    for section in view.sections:
        if not section.facts:
            continue
        lines = [
            f"**{esc(label)}:** {_clip(value, esc, FACT_MAX // 2)}"
            for label, value in section.facts
        ]
        fields.append(_discord_field(section.title, _join(lines, DISCORD_FIELD_VALUE_MAX)))
    if view.files:
        files = [_md_link(f.label, f.url, esc) for f in view.files]
        fields.append(_discord_field("Files", _join(files, DISCORD_FIELD_VALUE_MAX)))
    return fields[:DISCORD_FIELDS_MAX]


def _discord_description(view: _View, budget: int) -> str:
    esc = _chat_markdown_escape
    parts = []
    if view.internal:
        parts.append(f"🔒 **{INTERNAL_MARK}** — {INTERNAL_WARNING}")
    if view.summary:
        parts.append(_clip(view.summary, esc, 1000))
    if view.subject:
        parts.append(_clip(view.subject, lambda s: f"**Subject:** {esc(s)}", 1000))
    if view.quote:
        header = f"**{esc(view.quote_label)}:**\n"
        room = budget - _size("\n\n".join(parts)) - 2
        if room > 50:
            parts.append(_clip(view.quote, lambda s: header + _quote(s, esc), room))
    return _join(parts, budget, sep="\n\n")


def _discord(view: _View) -> dict[str, Any]:
    esc = _chat_markdown_escape
    embed: dict[str, Any] = {
        "title": _clip(view.title, esc, DISCORD_TITLE_MAX),
        "color": view.color,
        "fields": _discord_fields(view),
    }
    if view.url:
        embed["url"] = view.url
    if view.footer:
        # Footers are not Markdown: plain text, no escaping.
        embed["footer"] = {"text": _clip(" · ".join(view.footer), _plain, DISCORD_FOOTER_MAX)}
    if _parse_time(view.timestamp):
        embed["timestamp"] = view.timestamp
    used = _discord_embed_size(embed)
    description = _discord_description(
        view, min(DISCORD_DESCRIPTION_MAX, DISCORD_EMBED_TOTAL_MAX - used)
    )
    if description:
        embed["description"] = description
    return {
        "content": _clip(view.headline, esc, DISCORD_CONTENT_MAX),
        "embeds": [embed],
        # Nobody is pinged, whatever the text says.
        "allowed_mentions": {"parse": []},
    }


def _discord_embed_size(embed: dict[str, Any]) -> int:
    """The characters Discord counts against the 6000 of an embed."""
    total = _size(embed.get("title", "")) + _size(embed.get("description", ""))
    total += _size(_obj(embed.get("footer")).get("text", ""))
    total += _size(_obj(embed.get("author")).get("name", ""))
    for f in embed.get("fields", []):
        total += _size(f["name"]) + _size(f["value"])
    return total


# --------------------------------------------------------------------------------------
# Microsoft Teams
# --------------------------------------------------------------------------------------


def _text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _teams_card(view: _View, *, fact_max: int, quote_max: int) -> dict[str, Any]:
    # Adaptive Card TextBlocks and facts read a Markdown subset; escape user text for it.
    # Line breaks need a blank line (\n\n) outside lists; there are no block quotes, so a
    # message is shown in an emphasised container instead.
    esc = _chat_markdown_escape
    body: list[dict[str, Any]] = [
        _text_block(_clip(view.title, esc, 1000), weight="Bolder", size="Medium")
    ]
    if view.internal:
        body.append(
            _text_block(
                f"🔒 {INTERNAL_MARK} — {INTERNAL_WARNING}", weight="Bolder", color="Warning"
            )
        )
    if view.summary:
        body.append(_text_block(_clip(view.summary, esc, 2000)))
    for section in view.sections:
        if not section.facts:
            continue
        body.append(_text_block(esc(section.title), weight="Bolder", spacing="Medium"))
        facts = [
            {"title": esc(label), "value": _clip(value, esc, fact_max)}
            for label, value in section.facts
        ]
        body.append({"type": "FactSet", "facts": facts})
    if view.subject:
        body.append(_text_block(_clip(view.subject, lambda s: f"**Subject:** {esc(s)}", 2000)))
    if view.quote:
        text = _clip(
            view.quote, lambda s: "\n\n".join(esc(line) for line in s.split("\n")), quote_max
        )
        body.append(_text_block(f"**{esc(view.quote_label)}:**", spacing="Medium"))
        style = "warning" if view.internal else "emphasis"
        body.append({"type": "Container", "style": style, "items": [_text_block(text)]})
    if view.files:
        links = "\n\n".join(_md_link(f.label, f.url, esc) for f in view.files)
        body.append(_text_block(f"**Files:**\n\n{links}"))
    if view.footer:
        footer = _clip(" · ".join(view.footer), esc, 1000)
        body.append(_text_block(footer, isSubtle=True, size="Small", spacing="Medium"))
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "fallbackText": view.headline,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if view.url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": view.link_label, "url": view.url}]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _json_bytes(body: dict[str, Any]) -> int:
    return len(json.dumps(body, ensure_ascii=False).encode())


def _teams(view: _View) -> dict[str, Any]:
    """The card, shrinking the quoted message and the facts until it fits Teams' limit
    (measured in UTF-8 bytes, so non-Latin text gets proportionally less room)."""
    fact_max, quote_max = FACT_MAX, TEAMS_QUOTE_MAX
    while True:
        message = _teams_card(view, fact_max=fact_max, quote_max=quote_max)
        if _json_bytes(message) <= TEAMS_MAX_BYTES or quote_max < 50:
            return message
        quote_max //= 2
        fact_max = max(fact_max // 2, 50)


# --------------------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------------------


def _email_text(view: _View) -> str:
    lines = [view.title]
    if view.internal:
        lines.append(f"*** {INTERNAL_MARK} — {INTERNAL_WARNING} ***")
    if view.summary:
        lines.append(view.summary)
    for section in view.sections:
        if section.facts:
            lines += ["", section.title]
            lines += [f"  {label}: {value}" for label, value in section.facts]
    if view.subject:
        lines += ["", f"Subject: {view.subject}"]
    if view.quote:
        quote = _clip(view.quote, lambda s: _quote(s, lambda line: line), EMAIL_QUOTE_MAX)
        lines += ["", f"{view.quote_label}:", quote]
    if view.files:
        lines += ["", "Files:"]
        lines += [f"  - {f.label}" + (f" <{f.url}>" if f.url else "") for f in view.files]
    if view.url:
        lines += ["", f"{view.link_label}: {view.url}"]
    if view.footer:
        lines += ["", "-- ", " · ".join(view.footer)]
    return "\n".join(lines) + "\n"


def _html_link(label: str, url: str | None) -> str:
    if not url:
        return html.escape(label)
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>'


def _email_html(view: _View) -> str:
    e = html.escape
    out = [f"<h2>{e(view.title)}</h2>"]
    if view.internal:
        out.append(
            '<p style="background:#fff3cd;border:1px solid #f1c40f;padding:6px">'
            f"<strong>{INTERNAL_MARK}</strong> — {INTERNAL_WARNING}</p>"
        )
    if view.summary:
        out.append(f"<p>{e(view.summary)}</p>")
    for section in view.sections:
        if not section.facts:
            continue
        rows = "".join(
            f'<tr><th align="left" style="padding-right:12px">{e(label)}</th>'
            f"<td>{e(value)}</td></tr>"
            for label, value in section.facts
        )
        out.append(f"<h3>{e(section.title)}</h3><table>{rows}</table>")
    if view.subject:
        out.append(f"<p><strong>Subject:</strong> {e(view.subject)}</p>")
    if view.quote:
        quote = _clip(
            view.quote, lambda s: "<br>\n".join(e(x) for x in s.split("\n")), EMAIL_QUOTE_MAX
        )
        out.append(
            f"<p><strong>{e(view.quote_label)}:</strong></p>"
            '<blockquote style="border-left:3px solid #ccc;margin:0;padding-left:8px">'
            f"{quote}</blockquote>"
        )
    if view.files:
        items = "".join(f"<li>{_html_link(f.label, f.url)}</li>" for f in view.files)
        out.append(f"<p><strong>Files:</strong></p><ul>{items}</ul>")
    if view.url:
        out.append(f"<p>{_html_link(view.link_label, view.url)}</p>")
    if view.footer:
        out.append(f'<p style="color:#888;font-size:small">{e(" · ".join(view.footer))}</p>')
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>'
        '<body style="font-family:sans-serif">\n' + "\n".join(out) + "\n</body></html>\n"
    )


def _mail_domain(sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2]
    return re.sub(r"[^A-Za-z0-9.-]", "", domain) or "helpwire.invalid"


def _message_id(ev: _Event, domain: str, recipients: Sequence[str]) -> str:
    """Stable per event and recipient list, so that a retried delivery is recognisable as
    the same message by the mail clients (a test message gets a fresh one)."""
    event_id = re.sub(r"[^A-Za-z0-9._-]", "", _str(ev.event.get("id")))
    if not event_id:
        return make_msgid(idstring="helpwire", domain=domain)
    to = hashlib.sha256(",".join(sorted(recipients)).encode()).hexdigest()[:12]
    return f"<helpwire.{event_id}.{to}@{domain}>"


def _email_date(timestamp: str) -> str:
    moment = _parse_time(timestamp)
    return format_datetime(moment) if moment else formatdate(usegmt=True)


def _email_subject(payload: dict[str, Any]) -> str:
    """``[helpwire #42] New ticket: Printer on fire`` — the number lives in the tag."""
    ev = _read(payload)
    tag = f"[helpwire #{ev.number}]" if ev.number is not None else "[helpwire]"
    return f"{tag} {_headline(ev, ref='')}"


def email_message(
    payload: dict[str, Any], *, sender: str, recipients: Sequence[str]
) -> EmailMessage:
    """A multipart/alternative e-mail (text/plain + text/html) with Subject, From, To,
    Date, Message-ID."""
    ev = _read(payload)
    view = _VIEWS.get(ev.type, _generic_view)(ev)
    domain = _mail_domain(sender)
    message = EmailMessage()
    message["Subject"] = _email_subject(payload)
    message["From"] = sender
    if recipients:
        message["To"] = ", ".join(recipients)
    message["Date"] = _email_date(ev.timestamp)
    message["Message-ID"] = _message_id(ev, domain, recipients)
    uid = re.sub(r"[^A-Za-z0-9.-]", "", _str(ev.ticket.get("uid") or ev.number))
    if uid:
        # Every message about a ticket names the same (virtual) root, so clients thread them.
        message["References"] = f"<helpwire.ticket.{uid}@{domain}>"
    # RFC 3834: tells vacation responders and ticket systems not to answer.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_email_text(view))
    message.add_alternative(_email_html(view), subtype="html")
    return message


# --------------------------------------------------------------------------------------
# Public interface
# --------------------------------------------------------------------------------------

_CHAT_RENDERERS: dict[ChannelKind, Callable[[_View], dict[str, Any]]] = {
    ChannelKind.SLACK: _slack,
    ChannelKind.MATTERMOST: _mattermost,
    ChannelKind.DISCORD: _discord,
    ChannelKind.TEAMS: _teams,
}


def chat_message(kind: ChannelKind, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON body to POST to an incoming webhook of kind slack | mattermost | discord |
    teams."""
    renderer = _CHAT_RENDERERS.get(ChannelKind(kind))
    if renderer is None:
        raise ValueError(f"{kind} channels are not chat webhooks")
    return renderer(_view(payload))


def headline(payload: dict[str, Any]) -> str:
    """One plain-text line summing the event up, e.g. 'New ticket #42: Printer on fire'."""
    ev = _read(payload)
    return _headline(ev, ref=ev.ref)
