"""Mattermost: one Markdown post."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpwire.notify.formats.shared import (
    FACT_MAX,
    INTERNAL_MARK,
    INTERNAL_WARNING,
    _chat_markdown_escape,
    _clip,
    _join,
    _md_link,
    _quote,
    _Section,
    _size,
    _View,
)

# Mattermost 5.0+ accepts posts of 16,383 characters; keep a margin.
MATTERMOST_MAX = 16_000
MATTERMOST_QUOTE_MAX = 12_000


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
