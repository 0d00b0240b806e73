"""Slack: Block Kit blocks with mrkdwn, and a plain-text fallback."""

from __future__ import annotations

from typing import Any

from helpwire.notify.formats.shared import (
    ELLIPSIS,
    FACT_MAX,
    INTERNAL_MARK,
    INTERNAL_WARNING,
    _clip,
    _defuse_mentions,
    _join,
    _plain,
    _quote,
    _Section,
    _View,
)

# Slack Block Kit limits (api.slack.com/reference/block-kit).
SLACK_MAX_BLOCKS = 50
SLACK_SECTION_MAX = 3000
SLACK_CONTEXT_MAX = 2000
SLACK_BUTTON_TEXT_MAX = 75
SLACK_URL_MAX = 3000
SLACK_FALLBACK_MAX = 3000  # Slack itself truncates at 40,000; a notification needs far less


def _slack_entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_escape(text: str) -> str:
    # Slack reads only <...> as links and mentions (<!channel>, <@U123>); with & < >
    # escaped no user text can produce one.
    return _slack_entities(_defuse_mentions(text))


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
