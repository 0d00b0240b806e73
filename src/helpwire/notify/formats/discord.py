"""Discord: an embed, within Discord's per-field and total limits."""

from __future__ import annotations

from typing import Any

from helpwire.notify.formats.shared import (
    FACT_MAX,
    INTERNAL_MARK,
    INTERNAL_WARNING,
    NOTHING,
    _chat_markdown_escape,
    _clip,
    _join,
    _md_link,
    _obj,
    _parse_time,
    _plain,
    _quote,
    _size,
    _View,
)

# Discord embed limits (discord.com/developers/docs/resources/message#embed-object).
DISCORD_CONTENT_MAX = 2000
DISCORD_TITLE_MAX = 256
DISCORD_DESCRIPTION_MAX = 4096
DISCORD_FIELDS_MAX = 25
DISCORD_FIELD_NAME_MAX = 256
DISCORD_FIELD_VALUE_MAX = 1024
DISCORD_FOOTER_MAX = 2048
DISCORD_EMBED_TOTAL_MAX = 6000


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
