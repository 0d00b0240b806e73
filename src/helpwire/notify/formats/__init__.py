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

The package: ``shared`` reads the payload into the view and holds the length and
escaping tools; ``slack``, ``mattermost``, ``discord``, ``teams`` and ``email`` render it
(a webhook channel posts the payload itself, unrendered). Names with an underscore are
private to the package.

Pure functions: no I/O. (Only an e-mail whose payload timestamp is unreadable falls back
to the clock for its Date.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpwire.notify.formats.discord import _discord
from helpwire.notify.formats.email import email_message
from helpwire.notify.formats.mattermost import _mattermost
from helpwire.notify.formats.shared import _headline, _read, _View, _view
from helpwire.notify.formats.slack import _slack
from helpwire.notify.formats.teams import _teams
from helpwire.notify.models import ChannelKind

__all__ = ["chat_message", "email_message", "headline"]

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
