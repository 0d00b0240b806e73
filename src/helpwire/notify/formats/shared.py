"""What every platform shares: the payload read into a platform-neutral :class:`_View`
(what to say, as plain unescaped text), and the length and escaping tools the renderers use.

Names with an underscore are private to the formats package, not to this module."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

ELLIPSIS = "…"
NOTHING = "—"  # shown for an empty value, so that every UCloud field keeps its line
INTERNAL_MARK = "INTERNAL NOTE"
INTERNAL_WARNING = "staff only, not visible to the customer"
MISSING_UA = "Missing UA"

HEADLINE_MAX = 200
FACT_MAX = 500  # rendered characters of one fact value in a chat message


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
        case "ticket.merged" if d.get("into") is not None:
            return f"Ticket{ref} merged into #{_one_line(d.get('into'))}"
        case "ticket.merged":
            return f"Ticket #{_one_line(d.get('from'))} merged into ticket{ref}"
        case "ticket.split":
            return f"Ticket #{_one_line(d.get('into'))} split off ticket{ref}"
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


def _md_link(label: str, url: str | None, escape: Callable[[str], str]) -> str:
    return f"[{escape(label)}]({url})" if url else escape(label)
