"""Reading a received message: who wrote it to whom, what it answers, its text (with the
quoted history cut off when it is a reply), its attachments, and whether it is noise that
must never be answered (auto-replies, delivery reports, our own messages).

The standard library's ``email`` package parses; ``mail-parser-reply`` cuts replies from
quoted history and signatures in many languages. Nothing here touches the database: a
message that cannot be read raises :class:`Unreadable` with the reason, and the pipeline
puts it in the quarantine.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from email import errors, policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses
from functools import cache
from html.parser import HTMLParser

from mailparser_reply import EmailReplyParser

from helpwire.mail.templates import SHIPPED_LANGUAGES, shipped

# The languages whose reply headers ("On ... wrote:", "Am ... schrieb:") are recognised.
REPLY_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "sv", "da", "pl", "cs", "ja", "ko", "zh")
_ID = re.compile(r"<([^<>\s]{1,500})>")
_STRUCTURAL_DEFECTS = (
    errors.NoBoundaryInMultipartDefect,
    errors.StartBoundaryNotFoundDefect,
    errors.MultipartInvariantViolationDefect,
)
_ENCRYPTED_TYPES = frozenset(
    {"multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime"}
)
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_AUTO_REPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-auto-response-suppress")
# The line Outlook and others put above a quoted message, in the languages mail comes in.
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|messaggio originale|oorspronkelijk bericht|originalmeddelande|"
    r"oprindelig meddelelse|wiadomość oryginalna|původní zpráva)\s*-{2,}\s*$",
    re.IGNORECASE | re.MULTILINE,
)


class Unreadable(ValueError):
    """A message that cannot be made into a comment; the reason, for the quarantine."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str
    sender: str  # the From address, lower-case ("" when there is none)
    sender_name: str
    reply_to: list[str]
    to: list[str]
    cc: list[str]
    delivered_to: list[str]
    subject: str
    answers: list[str]  # Message-IDs of In-Reply-To and References, latest first
    noise: str | None  # why it must not be answered, or None
    # What the receiving server's Authentication-Results says failed, or None.
    forged: str | None = None
    text: str = ""
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def recipients(self) -> list[str]:
        return [*self.to, *self.cc, *self.delivered_to]


def read_headers(raw: bytes) -> Message:
    """The header block alone: enough to store and deduplicate a message that may not
    parse further."""
    return BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)


def message_id_of(headers: Message, raw: bytes) -> str:
    """The message's Message-ID without brackets; one made from its bytes when it has
    none, so that the same message sent twice is still recognised."""
    found: list[str] = _ID.findall(clean(str(headers.get("message-id") or "")))
    if found:
        return found[0]
    return f"sha256.{hashlib.sha256(raw).hexdigest()}@missing.invalid"


def clean(text: str) -> str:
    """``text`` as the database can keep it: without NUL characters (PostgreSQL refuses
    them in text) and with lone surrogates (undecodable bytes) replaced."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def decoded(value: object) -> str:
    """A header's text with its encoded words (RFC 2047) decoded; as it is when they do
    not decode."""
    text = str(value or "")
    try:
        return clean(str(make_header(decode_header(text))))
    except (errors.HeaderParseError, UnicodeDecodeError, LookupError, ValueError):
        return clean(text)


def addresses(headers: Message, name: str) -> list[str]:
    values = [str(value) for value in headers.get_all(name, [])]
    found = [clean(address).strip().lower() for _name, address in getaddresses(values)]
    return [address for address in found if "@" in address]


def _sender(headers: Message) -> tuple[str, str]:
    values = [str(value) for value in headers.get_all("from", [])]
    for name, address in getaddresses(values):
        if "@" in address:
            return clean(address).strip().lower(), decoded(name).strip()
    return "", ""


def subject_of(headers: Message) -> str:
    return " ".join(decoded(headers.get("subject")).split())


def _answers(headers: Message) -> list[str]:
    # In-Reply-To first, then References from the latest back: the nearest match wins.
    in_reply_to = _ID.findall(clean(str(headers.get("in-reply-to") or "")))
    references = list(reversed(_ID.findall(clean(str(headers.get("references") or "")))))
    return list(dict.fromkeys([*in_reply_to, *references]))


def noise_of(message: Message, *, own_addresses: frozenset[str]) -> str | None:
    """Why the message must never be answered nor reopen a ticket, or None (RFC 3834
    Auto-Submitted, the common auto-reply headers, bulk precedence, RFC 3464 delivery
    reports, and mail from helpwire itself)."""
    auto = str(message.get("auto-submitted") or "").strip().lower()
    if auto and auto != "no":
        return f"an automatic message (Auto-Submitted: {auto})"
    for name in _AUTO_REPLY_HEADERS:
        if message.get(name) is not None:
            return f"an automatic reply ({name})"
    precedence = str(message.get("precedence") or "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"bulk mail (Precedence: {precedence})"
    if message.get_content_type() == "multipart/report":
        report = str(message.get_param("report-type") or "").lower()
        return f"a delivery report ({report or 'multipart/report'})"
    sender, _name = _sender(message)
    if sender.startswith(("mailer-daemon@", "postmaster@")):
        return "a mail server's report"
    if sender in own_addresses or message.get("x-helpwire-ticket") is not None:
        return "a message helpwire sent"
    return None


_AUTH_RESULT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)


def failed_authentication(message: Message) -> str | None:
    """What the receiving mail server found forged about the sender, from the topmost
    Authentication-Results header (RFC 8601), the one the last hop, your own server,
    added: DMARC failed, or SPF and DKIM both failed. Headers further down were written
    by whoever sent the message and prove nothing; only a failure is taken from them
    here, never a pass, so a forged header can make nothing more trusted."""
    header = message.get("authentication-results")
    if header is None:
        return None
    results: dict[str, str] = {}
    for method, result in _AUTH_RESULT.findall(clean(str(header))):
        results.setdefault(method.lower(), result.lower())
    if results.get("dmarc") == "fail":
        return "dmarc=fail"
    if results.get("spf") == "fail" and results.get("dkim") == "fail":
        return "spf=fail, dkim=fail"
    return None


def parse(raw: bytes, *, own_addresses: frozenset[str]) -> ParsedMail:
    """Everything the pipeline needs of ``raw``; :class:`Unreadable` when it cannot be
    read (broken MIME, an unknown character set, encrypted).

    Parsed with the standard library's compat32 policy: its headers are the strings as
    they came, decoded only where read. The default policy parses a header each time it
    is read, and reading the parts' types took half of a message's processing time."""
    try:
        message = BytesParser(policy=policy.compat32).parsebytes(raw)
    except (errors.MessageError, ValueError, IndexError) as exc:
        raise Unreadable(f"the message does not parse: {exc}") from None
    _check_readable(message)
    leaves = _leaves(message)
    sender, sender_name = _sender(message)
    parsed = ParsedMail(
        message_id=message_id_of(message, raw),
        sender=sender,
        sender_name=sender_name,
        reply_to=addresses(message, "reply-to"),
        to=addresses(message, "to"),
        cc=addresses(message, "cc"),
        delivered_to=[
            *addresses(message, "delivered-to"),
            *addresses(message, "x-original-to"),
        ],
        subject=subject_of(message),
        answers=_answers(message),
        noise=noise_of(message, own_addresses=own_addresses),
        forged=failed_authentication(message),
    )
    parsed.text, parsed.attachments = _content(leaves)
    return parsed


def _check_readable(message: Message) -> None:
    for part in message.walk():
        if part.get_content_type() in _ENCRYPTED_TYPES:
            raise Unreadable(f"the message is encrypted ({part.get_content_type()})")
        for defect in part.defects:
            if isinstance(defect, _STRUCTURAL_DEFECTS):
                raise Unreadable(f"broken MIME structure: {type(defect).__name__}")


def _leaves(part: Message) -> list[Message]:
    """The parts that hold content, in order; a forwarded message (message/rfc822) is one
    of them, whole, not the parts inside it."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        return [part]
    payload = part.get_payload()
    children = payload if isinstance(payload, list) else []
    return [leaf for child in children if isinstance(child, Message) for leaf in _leaves(child)]


def _filename(part: Message) -> str | None:
    name = part.get_filename()  # decoded() cleans it
    return decoded(name).strip() or None if name else None


def _is_attachment(part: Message) -> bool:
    if part.get_content_type() == "message/rfc822":
        return True
    return part.get_content_disposition() == "attachment" or _filename(part) is not None


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        raise Unreadable(f"unknown character set {charset!r}") from None
    return payload.decode(charset, errors="replace")


def _content(leaves: list[Message]) -> tuple[str, list[Attachment]]:
    """The message's text (its plain parts, else its HTML as text) and its attachments.
    The HTML rendering of a plain part (multipart/alternative) is not an attachment: it
    has no name."""
    plain: list[str] = []
    html: list[str] = []
    files: list[Attachment] = []
    for part in leaves:
        if _is_attachment(part):
            files.append(_attachment(part))
        elif part.get_content_type() == "text/plain":
            plain.append(_text(part))
        elif part.get_content_type() == "text/html":
            html.append(_text(part))
    text = "\n\n".join(plain) if plain else "\n\n".join(html_to_text(h) for h in html)
    return clean(text).replace("\r\n", "\n").strip(), files


def _attachment(part: Message) -> Attachment:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        inner = part.get_payload()
        first = inner[0] if isinstance(inner, list) and inner else None
        data = first.as_bytes() if isinstance(first, Message) else b""
        return Attachment(_filename(part) or "forwarded.eml", content_type, data)
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    return Attachment(_filename(part) or "attachment", content_type, data)


class _TextOfHtml(HTMLParser):
    """The readable text of an HTML part: tags and scripts dropped, blocks on lines."""

    _BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "blockquote"})
    _SKIPPED = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.chunks).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@cache
def _markers() -> tuple[str, ...]:
    return tuple(shipped(language)["marker"] for language in SHIPPED_LANGUAGES)


@cache
def _reply_parser() -> EmailReplyParser:
    return EmailReplyParser(languages=list(REPLY_LANGUAGES))


def latest_reply(text: str) -> str:
    """The new words of a reply: above our "write above this line" marker and above an
    "Original Message" line, then without the quoted history and signature. The whole
    text when nothing would be left."""
    cut = text
    for marker in _markers():
        position = cut.find(marker)
        if position >= 0:
            cut = cut[:position]
    original = _ORIGINAL_MESSAGE.search(cut)
    if original is not None:
        cut = cut[: original.start()]
    cut = _drop_marker_quote(_before_signature(cut))
    reply: str | None = _reply_parser().parse_reply(text=cut)
    stripped = (reply or "").strip()
    return stripped or cut.strip() or text.strip()


def _before_signature(text: str) -> str:
    """The text above the signature separator, a line of "-- " (RFC 3676, 4.3), which
    mail programs put above a signature; some trim it to "--"."""
    lines = text.splitlines()
    for position, line in enumerate(lines):
        if line.rstrip() == "--" and position > 0:
            return "\n".join(lines[:position])
    return text


def _drop_marker_quote(text: str) -> str:
    """The reply header a mail program writes just above a quoted marker ("On ... wrote:"
    followed by "> -- Please write ...") is left dangling once the marker is cut: the
    parser removes it with the rest of the quote, and a lone "> " line here."""
    lines = text.rstrip().splitlines()
    while lines and lines[-1].strip() in {">", ""}:
        lines.pop()
    return "\n".join(lines)
