"""Sending one payload to one channel: HTTP (chat kinds, signed webhooks) and SMTP.

A sender never raises for a failed delivery: it returns what happened, and the relay
decides what follows (retry, dead letter, disable the channel).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

import aiosmtplib
import httpcore
import httpx

from helpwire import __version__
from helpwire.db.secrets import Undecryptable
from helpwire.files.storage import FileStorage
from helpwire.notify.formats import chat_message, email_message
from helpwire.notify.models import Channel, ChannelKind
from helpwire.notify.outbound import (
    STRICT,
    AddressPolicy,
    checked_socket,
    checked_transport,
    redact_url,
)
from helpwire.notify.signing import sign

SNIPPET_CHARS = 1024
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = f"helpwire/{__version__} (+webhooks)"
MAX_RETRY_AFTER_S = 24 * 3600
SMTP_TIMEOUT_S = 30.0
# Mail to customers: SMTP's line ends, and header lines up to RFC 5322's 998 characters.
# With the usual 78, Python folds a long Message-ID in In-Reply-To or References into
# encoded words, which mail programs do not thread by (Outlook's IDs run past 78).
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    duration_ms: float
    status_code: int | None = None
    response: str | None = None
    error: str | None = None
    retry_after_s: float | None = None  # the receiver asked us to wait this long
    gone: bool = False  # 410: the receiver says this endpoint is gone for good


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER_S)


def undecryptable(channel: Channel) -> str | None:
    """Why the channel's URL or secrets cannot be used (encrypted with a key this process
    does not have), or None. Its deliveries fail with that reason, the others go on."""
    password = (channel.email or {}).get("password")
    for value in (channel.url, channel.secret, channel.previous_secret, password):
        if isinstance(value, Undecryptable):
            return value.reason
    return None


def active_secrets(channel: Channel, *, now: datetime) -> list[str]:
    found = [channel.secret] if channel.secret else []
    if (
        channel.previous_secret
        and channel.previous_secret_expires_at
        and channel.previous_secret_expires_at > now
    ):
        found.append(channel.previous_secret)
    return found


def http_request_for(
    channel: Channel, payload: dict[str, Any], *, message_id: str, now: datetime
) -> tuple[bytes, dict[str, str]]:
    """The body and headers a chat or webhook channel is sent."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if channel.kind == ChannelKind.WEBHOOK:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(now.timestamp())
        headers.update(
            {
                "webhook-id": message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(
                    message_id=message_id,
                    timestamp=timestamp,
                    body=body,
                    secrets_=active_secrets(channel, now=now),
                ),
            }
        )
        return body, headers
    message = chat_message(ChannelKind(channel.kind), payload)
    return json.dumps(message, ensure_ascii=False).encode(), headers


def _answer_text(response: httpx.Response) -> str:
    """What the admin sees of an answer. A redirect is never followed (it could lead
    anywhere, internal services included), and its body is not shown."""
    if response.is_redirect:
        return f"redirect to {redact_url(response.headers.get('location'))} not followed"
    return response.text[:SNIPPET_CHARS]


def _failure(exc: Exception) -> str:
    # A refused address is reported by httpx as a ConnectError caused by ours.
    cause = exc.__cause__ or exc
    return f"{cause.__class__.__name__}: {cause}"[:SNIPPET_CHARS]


def quiet_http_client_logs() -> None:
    """httpx logs every request's full URL at INFO, and the URLs of Slack, Discord and
    Teams webhooks are their credentials; helpwire logs what it sends itself, redacted."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


class Sender:
    """Sends to any channel kind; one instance per relay, sharing an HTTP connection pool.
    Every connection goes through ``policy`` (see outbound.py)."""

    def __init__(
        self,
        http: httpx.AsyncClient | None = None,
        *,
        policy: AddressPolicy = STRICT,
        files: FileStorage | None = None,
    ) -> None:
        self.policy = policy
        # Where the files attached to mail to customers are read from.
        self.files = files
        quiet_http_client_logs()
        self._http = http or httpx.AsyncClient(
            timeout=HTTP_TIMEOUT,
            follow_redirects=False,
            trust_env=False,
            transport=checked_transport(policy),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(
        self, channel: Channel, payload: dict[str, Any], *, message_id: str, now: datetime
    ) -> SendResult:
        locked = undecryptable(channel)
        if locked is not None:
            return SendResult(ok=False, duration_ms=0.0, error=locked)
        if channel.kind == ChannelKind.EMAIL:
            return await self._send_email(channel, payload)
        if channel.kind == ChannelKind.CUSTOMER_MAIL:
            return await self._send_customer_mail(channel, payload)
        return await self._send_http(channel, payload, message_id=message_id, now=now)

    async def _send_http(
        self, channel: Channel, payload: dict[str, Any], *, message_id: str, now: datetime
    ) -> SendResult:
        started = time.perf_counter()
        try:
            body, headers = http_request_for(channel, payload, message_id=message_id, now=now)
            response = await self._http.post(channel.url or "", content=body, headers=headers)
        except (httpx.HTTPError, ValueError) as exc:
            return SendResult(
                ok=False,
                duration_ms=(time.perf_counter() - started) * 1000,
                error=_failure(exc),
            )
        elapsed = (time.perf_counter() - started) * 1000
        status = response.status_code
        return SendResult(
            ok=200 <= status < 300,
            duration_ms=elapsed,
            status_code=status,
            response=_answer_text(response),
            retry_after_s=(
                retry_after_seconds(response.headers.get("retry-after"), now=now)
                if status in (429, 503)
                else None
            ),
            gone=status == 410,
        )

    async def _send_email(self, channel: Channel, payload: dict[str, Any]) -> SendResult:
        config = channel.email or {}

        async def attempt() -> tuple[dict[str, Any], str]:
            message = email_message(
                payload, sender=config["from"], recipients=list(config.get("to") or [])
            )
            # Connected here, to a checked address; the host name still serves TLS.
            sock = await checked_socket(
                self.policy,
                config["host"],
                int(config.get("port") or 25),
                limit_s=SMTP_TIMEOUT_S,
            )
            return await aiosmtplib.send(message, sock=sock, **_smtp_login(config))

        return await _smtp_attempt(attempt)

    async def _send_customer_mail(self, channel: Channel, payload: dict[str, Any]) -> SendResult:
        """A message to a ticket's people, rendered whole when it was queued (helpwire.mail).
        The server is the operator's own (HELPWIRE_MAIL_SMTP_URL), often on this machine
        or the private network: it is not held to the address policy of admins' channels."""
        config = channel.email or {}
        data = payload.get("data") or {}

        async def attempt() -> tuple[dict[str, Any], str]:
            message = await self._with_attachments(data["message"], data.get("attachments"))
            return await aiosmtplib.send(
                message,
                sender=data["from"],
                recipients=list(data["recipients"]),
                port=int(config.get("port") or 25),
                **_smtp_login(config),
            )

        return await _smtp_attempt(attempt)

    async def _with_attachments(self, text: str, attachments: list[Any] | None) -> bytes:
        """The queued message with its files added, read from storage now: the queue holds
        what to attach, not the bytes. A file that is gone, or not what was queued, fails
        the attempt (it is retried, and an admin sees why) rather than go out without."""
        if not attachments:
            return text.encode()
        if self.files is None:
            raise ValueError("this relay has no file storage to read attachments from")
        message = message_from_string(text, policy=MAIL_POLICY)
        assert isinstance(message, EmailMessage)
        for attachment in attachments:
            data = b"".join([chunk async for chunk in self.files.open_chunks(attachment["key"])])
            if hashlib.sha256(data).hexdigest() != attachment["sha256"]:
                raise ValueError(f"the file {attachment['filename']!r} changed in storage")
            maintype, _, subtype = str(attachment["content_type"]).partition("/")
            message.add_attachment(
                data,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=attachment["filename"],
            )
        return message.as_bytes(policy=MAIL_POLICY)


def _smtp_login(config: dict[str, Any]) -> dict[str, Any]:
    """aiosmtplib's connection settings from an email channel's: host, sign-in, TLS."""
    tls = config.get("tls", "starttls")
    return {
        "hostname": config["host"],
        "username": config.get("username") or None,
        "password": config.get("password") or None,
        "use_tls": tls == "tls",
        "start_tls": tls == "starttls",
        "timeout": SMTP_TIMEOUT_S,
    }


async def _smtp_attempt(
    attempt: Callable[[], Awaitable[tuple[dict[str, Any], str]]],
) -> SendResult:
    """One SMTP send as a SendResult. Accepted for some recipients counts as delivered
    (sending again would repeat it to the others); the server's refusals of the rest are
    kept in the attempt's answer."""
    started = time.perf_counter()
    try:
        refused, reply = await attempt()
    except (
        aiosmtplib.SMTPException,
        httpcore.ConnectError,
        OSError,
        KeyError,
        ValueError,
    ) as exc:
        return SendResult(
            ok=False,
            duration_ms=(time.perf_counter() - started) * 1000,
            error=_failure(exc),
        )
    refusals = "".join(f"; refused {address}: {answer}" for address, answer in refused.items())
    return SendResult(
        ok=True,
        duration_ms=(time.perf_counter() - started) * 1000,
        status_code=250,
        response=(str(reply) + refusals)[:SNIPPET_CHARS],
    )


def describe_failure(result: SendResult) -> str:
    """A failed attempt in one line, for a channel's health."""
    if result.status_code is not None:
        return f"HTTP {result.status_code}: {(result.response or '')[:200]}"
    return result.error or "unknown error"
