"""Turning a comment body into safe HTML, whatever format it came in."""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

from helpwire.tickets.models import BodyFormat

# Raw HTML inside Markdown is not rendered at all; markdown-it also refuses javascript:,
# vbscript: and data: links. nh3 then cleans the result once more.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
}


def sanitize_html(value: str) -> str:
    return str(
        nh3.clean(
            value,
            tags=_ALLOWED_TAGS,
            attributes=_ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer nofollow",
        )
    )


def render_body(body: str, body_format: BodyFormat) -> tuple[str, str]:
    """(body as stored, body as safe HTML). HTML bodies are stored sanitized."""
    if body_format == BodyFormat.HTML:
        clean = sanitize_html(body)
        return clean, clean
    if body_format == BodyFormat.MARKDOWN:
        return body, sanitize_html(_markdown.render(body))
    paragraphs = [p for p in body.replace("\r\n", "\n").split("\n\n") if p.strip()]
    rendered = "".join(
        "<p>" + html.escape(p.strip("\n")).replace("\n", "<br>\n") + "</p>\n" for p in paragraphs
    )
    return body, rendered
