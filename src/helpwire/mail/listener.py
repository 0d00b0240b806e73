"""The SMTP door: a server an MTA (Postfix, Exim, a cloud relay) hands received mail to.

It answers ``250`` only once the message is stored (processing follows, and whatever it
comes to, the message is kept); when it cannot be stored it answers ``451`` and the MTA
keeps the message and tries again. A message larger than twice HELPWIRE_MAIL_MAX_BYTES is
refused with ``552`` before it is read, and the MTA tells its sender; one over the limit
but under that is stored and kept in the quarantine.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from helpwire.mail.inbound import Pipeline

log = logging.getLogger(__name__)


class InboundHandler:
    """aiosmtpd's handler: every message to the pipeline."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    async def handle_DATA(  # noqa: N802 (aiosmtpd's name for the hook)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        recipients = [str(r).lower() for r in envelope.rcpt_tos]
        try:
            outcome = await self.pipeline.accept(raw, source="smtp", envelope_to=recipients)
        except Exception:
            log.exception("could not store a message from SMTP; the sender will try again")
            return "451 4.3.0 The message could not be stored; try again later"
        return f"250 2.0.0 Stored as {outcome.id} ({outcome.state})"


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` of HELPWIRE_MAIL_LISTEN (``[::1]:2525`` for IPv6)."""
    host, colon, port = value.rpartition(":")
    if not colon or not port.isdigit() or not host:
        raise ValueError(f"HELPWIRE_MAIL_LISTEN: {value!r} is not host:port, e.g. 127.0.0.1:2525")
    return host.strip("[]"), int(port)


async def start_listener(
    pipeline: Pipeline, *, listen: str | None = None, sock: socket.socket | None = None
) -> asyncio.Server:
    """The SMTP server on ``listen`` (several processes may share the port: each takes a
    share of the connections) or on an already bound ``sock``."""
    limit = pipeline.config.max_bytes * 2

    def factory() -> SMTP:
        return SMTP(
            InboundHandler(pipeline),
            data_size_limit=limit,
            enable_SMTPUTF8=True,
            decode_data=False,
            ident="helpwire",
        )

    loop = asyncio.get_running_loop()
    options: dict[str, Any] = {}
    if sock is not None:
        options["sock"] = sock
    else:
        assert listen is not None
        host, port = parse_listen(listen)
        options.update(host=host, port=port, reuse_port=True)
    server = await loop.create_server(factory, **options)
    log.info("listening for mail over SMTP", extra={"listen": listen or "socket"})
    return server
