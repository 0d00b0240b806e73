"""Mail to customers as the deployment set it up: HELPWIRE_MAIL_FROM, HELPWIRE_MAIL_SMTP_URL
and the settings beside them, read once and checked, so that a wrong setting stops the
start with its name rather than failing every message later."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from helpwire.settings import Settings
from helpwire.tickets.models import Status

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


class MailSettingError(ValueError):
    """A mail setting that cannot work, with the setting's name."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: str  # none | starttls | tls
    username: str | None
    password: str | None

    def as_channel_config(self, sender: str) -> dict[str, Any]:
        """The shape of an email channel's settings (notify.models.Channel.email)."""
        return {
            "host": self.host,
            "port": self.port,
            "tls": self.tls,
            "username": self.username or "",
            "password": self.password or "",
            "from": sender,
            "to": [],
        }


@dataclass(frozen=True)
class MailConfig:
    sender: Address
    smtp: SmtpServer
    plus_addressing: bool
    notify_statuses: frozenset[str]
    default_language: str
    base_url: str
    attachments_max_bytes: int = 10 * 1024 * 1024

    @property
    def domain(self) -> str:
        return self.sender.domain

    @classmethod
    def from_settings(cls, settings: Settings) -> MailConfig | None:
        """None when mail to customers is not set up (no HELPWIRE_MAIL_SMTP_URL)."""
        if settings.mail_smtp_url is None:
            return None
        if not settings.mail_from:
            raise MailSettingError(
                "HELPWIRE_MAIL_FROM is needed with HELPWIRE_MAIL_SMTP_URL: "
                "the sender of mail to customers, e.g. Support <support@example.org>"
            )
        return cls(
            sender=parse_sender(settings.mail_from),
            smtp=parse_smtp_url(settings.mail_smtp_url.get_secret_value()),
            plus_addressing=settings.mail_plus_addressing,
            notify_statuses=parse_statuses(settings.mail_notify_statuses),
            default_language=settings.mail_default_language.strip().lower() or "en",
            base_url=settings.base_url.rstrip("/"),
            attachments_max_bytes=settings.mail_attachments_max_bytes,
        )


def parse_sender(text: str) -> Address:
    name, address = parseaddr(text)
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain:
        raise MailSettingError(
            f"HELPWIRE_MAIL_FROM: {text!r} holds no address like support@example.org"
        )
    return Address(display_name=name, username=local, domain=domain.lower())


@dataclass(frozen=True)
class ServerUrl:
    """A mail server's URL, checked: scheme, host, port (the scheme's own when none is
    given), and the user name and password percent-decoded (an @ in either is %40)."""

    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    path: str
    query: str


def parse_server_url(url: str, *, setting: str, default_ports: dict[str, int]) -> ServerUrl:
    """``url`` of the setting ``setting``, whose schemes are ``default_ports``' keys."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in default_ports:
        schemes = " or ".join(f"{name}://" for name in default_ports)
        raise MailSettingError(f"{setting} must start with {schemes}")
    if not parts.hostname:
        raise MailSettingError(f"{setting} names no host")
    try:
        port = parts.port or default_ports[scheme]
    except ValueError:
        raise MailSettingError(f"{setting} has a port that is not a number") from None
    return ServerUrl(
        scheme=scheme,
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        path=unquote(parts.path),
        query=parts.query,
    )


def parse_smtp_url(url: str) -> SmtpServer:
    """smtp://user:pass@host:587?starttls=true, smtps://user:pass@host:465, smtp://host:25."""
    server = parse_server_url(url, setting="HELPWIRE_MAIL_SMTP_URL", default_ports=DEFAULT_PORTS)
    return SmtpServer(
        host=server.host,
        port=server.port,
        tls="tls" if server.scheme == "smtps" else _starttls(server.query),
        username=server.username,
        password=server.password,
    )


def _starttls(query: str) -> str:
    values = parse_qs(query).get("starttls", ["false"])
    value = values[-1].strip().lower()
    if value in _TRUE:
        return "starttls"
    if value in _FALSE:
        return "none"
    raise MailSettingError("HELPWIRE_MAIL_SMTP_URL: starttls must be true or false")


def parse_statuses(text: str) -> frozenset[str]:
    names = {part.strip().lower() for part in text.split(",") if part.strip()}
    known = {status.value for status in Status}
    unknown = sorted(names - known)
    if unknown:
        raise MailSettingError(
            f"HELPWIRE_MAIL_NOTIFY_STATUSES: {', '.join(unknown)} is not a status "
            f"({', '.join(sorted(known))})"
        )
    return frozenset(names)
