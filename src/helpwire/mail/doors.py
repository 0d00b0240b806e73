"""The doors mail comes in by, as the settings open them: the SMTP listener
(HELPWIRE_MAIL_LISTEN) and the mailbox poller (HELPWIRE_MAIL_IMAP_URL), run by `helpwire
serve` and by `helpwire mail listen`; and, in every such process, a sweep that processes
messages taken for processing and never finished (their process stopped in between)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from helpwire.mail.imap import Mailbox, MailboxPoller
from helpwire.mail.inbound import Pipeline
from helpwire.mail.listener import parse_listen, start_listener
from helpwire.settings import Settings

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 600.0
FIRST_SWEEP_AFTER_S = 60.0


@dataclass(frozen=True)
class Doors:
    listen: str | None
    mailbox: Mailbox | None
    oauth2_token: str | None
    oauth2_token_file: Path | None
    processed_folder: str
    poll_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Doors:
        """Checked here, so that a wrong setting stops the start with its name."""
        if settings.mail_listen:
            parse_listen(settings.mail_listen)
        url = settings.mail_imap_url
        token = settings.mail_imap_oauth2_token
        return cls(
            listen=settings.mail_listen or None,
            mailbox=Mailbox.from_url(url.get_secret_value()) if url else None,
            oauth2_token=token.get_secret_value() if token else None,
            oauth2_token_file=settings.mail_imap_oauth2_token_file,
            processed_folder=settings.mail_imap_processed_folder,
            poll_seconds=settings.mail_imap_poll_seconds,
        )

    @property
    def any_open(self) -> bool:
        return self.listen is not None or self.mailbox is not None


async def run_doors(
    pipeline: Pipeline,
    doors: Doors,
    stop: asyncio.Event,
    *,
    sock: socket.socket | None = None,
    on_listening: Callable[[asyncio.Server], None] | None = None,
) -> None:
    """Until ``stop``: the listener and the poller where set up, and the sweep. The
    listener serves on ``sock`` when given (an inherited socket), else on
    HELPWIRE_MAIL_LISTEN; ``on_listening`` is told of it once it listens."""
    server: asyncio.Server | None = None
    if sock is not None or doors.listen:
        server = await start_listener(pipeline, listen=doors.listen, sock=sock)
        if on_listening is not None:
            on_listening(server)
    tasks = [asyncio.create_task(_sweep(pipeline, stop))]
    if doors.mailbox is not None:
        poller = MailboxPoller(
            pipeline,
            doors.mailbox,
            processed_folder=doors.processed_folder,
            poll_seconds=doors.poll_seconds,
            oauth2_token=doors.oauth2_token,
            oauth2_token_file=doors.oauth2_token_file,
        )
        tasks.append(asyncio.create_task(poller.run_forever(stop)))
    try:
        await stop.wait()
    finally:
        if server is not None:
            server.close()
            await server.wait_closed()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _sweep(pipeline: Pipeline, stop: asyncio.Event) -> None:
    wait = FIRST_SWEEP_AFTER_S
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
        if stop.is_set():
            return
        wait = SWEEP_EVERY_S
        try:
            swept = await pipeline.process_waiting()
        except Exception as exc:  # the database may be away for a while; next time, then
            log.warning("could not look for unprocessed mail: %s", exc)
            continue
        if swept:
            log.info("processed %d messages left unprocessed", swept)
