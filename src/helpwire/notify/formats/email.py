"""E-mail: a plain-text and an HTML part, with headers that thread a ticket's messages."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, formatdate, make_msgid, parseaddr
from typing import Any

from helpwire.notify.formats.shared import (
    _VIEWS,
    INTERNAL_MARK,
    INTERNAL_WARNING,
    _clip,
    _Event,
    _generic_view,
    _headline,
    _parse_time,
    _quote,
    _read,
    _str,
    _View,
)

EMAIL_QUOTE_MAX = 100_000


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
