"""Microsoft Teams: an Adaptive Card, kept under the size Teams accepts."""

from __future__ import annotations

import json
from typing import Any

from helpwire.notify.formats.shared import (
    FACT_MAX,
    INTERNAL_MARK,
    INTERNAL_WARNING,
    _chat_markdown_escape,
    _clip,
    _md_link,
    _View,
)

# Teams refuses webhook messages over 28 KB, and some tenants fail well below that.
TEAMS_MAX_BYTES = 20_000
TEAMS_QUOTE_MAX = 8000


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
