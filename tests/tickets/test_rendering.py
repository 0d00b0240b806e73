"""Comment bodies become safe HTML whatever format they arrive in."""

from __future__ import annotations

from helpwire.tickets.models import BodyFormat
from helpwire.tickets.rendering import render_body


def test_text_is_escaped_and_keeps_its_lines() -> None:
    stored, html = render_body("a <b>bold</b> claim\nnext line\n\nnew paragraph", BodyFormat.TEXT)
    assert stored == "a <b>bold</b> claim\nnext line\n\nnew paragraph"
    assert html == "<p>a &lt;b&gt;bold&lt;/b&gt; claim<br>\nnext line</p>\n<p>new paragraph</p>\n"


def test_markdown_is_rendered_but_raw_html_and_script_links_are_not() -> None:
    _stored, html = render_body(
        "**bold** [ok](https://example.com) [bad](javascript:alert(1)) <script>alert(1)</script>"
        ' <img src=x onerror="alert(1)">',
        BodyFormat.MARKDOWN,
    )
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.com"' in html
    # Shown as text, never as a link, a script or an element with a handler.
    assert 'href="javascript' not in html
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_html_is_stored_sanitized() -> None:
    stored, html = render_body(
        '<p onclick="x()">hi <a href="javascript:alert(1)">link</a><script>bad()</script>'
        '<iframe src="https://evil.example"></iframe></p>',
        BodyFormat.HTML,
    )
    assert stored == html
    assert "onclick" not in html and "<script" not in html and "<iframe" not in html
    assert "javascript:" not in html
    assert "hi" in html
