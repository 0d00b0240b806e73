"""The IMAP door: a mailbox read for new mail, which is moved to a folder once it is
stored (HELPWIRE_MAIL_IMAP_PROCESSED_FOLDER). With IDLE the server says when mail comes;
without it, the mailbox is read every HELPWIRE_MAIL_IMAP_POLL_SECONDS.

A message is moved only after the pipeline stored it, so a crash in between leaves it in
the mailbox, to be read again and recognised by its Message-ID. The poller never dies: a
message that cannot be stored is left where it is and tried again on the next round; a
lost connection is made again, waiting longer after each failure (up to five minutes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aioimaplib

from helpwire.mail.config import MailSettingError, parse_server_url
from helpwire.mail.inbound import Pipeline

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"imap": 143, "imaps": 993}
IDLE_SECONDS = 25 * 60  # under the 29 minutes after which servers may drop an idle client
MAX_BACKOFF_S = 300.0
COMMAND_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    tls: bool
    username: str
    password: str | None
    folder: str

    @classmethod
    def from_url(cls, url: str) -> Mailbox:
        """imaps://user:pass@host:993/INBOX (TLS) or imap://user:pass@host:143/INBOX."""
        server = parse_server_url(
            url, setting="HELPWIRE_MAIL_IMAP_URL", default_ports=DEFAULT_PORTS
        )
        if not server.username:
            raise MailSettingError("HELPWIRE_MAIL_IMAP_URL needs a user name")
        return cls(
            host=server.host,
            port=server.port,
            tls=server.scheme == "imaps",
            username=server.username,
            password=server.password,
            folder=server.path.strip("/") or "INBOX",
        )


def quoted(name: str) -> str:
    """A mailbox name as an IMAP quoted string."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class MailboxPoller:
    def __init__(
        self,
        pipeline: Pipeline,
        mailbox: Mailbox,
        *,
        processed_folder: str,
        poll_seconds: float,
        oauth2_token: str | None = None,
        oauth2_token_file: Path | None = None,
        ssl_context: ssl.SSLContext | None = None,
        first_backoff_s: float = 1.0,
        on_round: Callable[[int], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.mailbox = mailbox
        self.processed_folder = processed_folder
        self.poll_seconds = poll_seconds
        self.oauth2_token = oauth2_token
        self.oauth2_token_file = oauth2_token_file
        self.ssl_context = ssl_context
        self.first_backoff_s = first_backoff_s
        # Called after each round with the number of messages taken, and after each
        # failed session with what went wrong (tests wait on them).
        self.on_round = on_round
        self.on_failure = on_failure

    async def connect(self) -> aioimaplib.IMAP4:
        mailbox = self.mailbox
        client: aioimaplib.IMAP4
        if mailbox.tls:
            client = aioimaplib.IMAP4_SSL(
                mailbox.host, mailbox.port, timeout=COMMAND_TIMEOUT_S, ssl_context=self.ssl_context
            )
        else:
            client = aioimaplib.IMAP4(mailbox.host, mailbox.port, timeout=COMMAND_TIMEOUT_S)
        try:
            await client.wait_hello_from_server()
            token = self._oauth2_token()
            if token:
                response = await client.xoauth2(mailbox.username, token)
            else:
                response = await client.login(mailbox.username, mailbox.password or "")
            _check(response, "sign in")
            # Made if missing; a server that has it answers NO, which is fine.
            await client.create(quoted(self.processed_folder))
            _check(await client.select(quoted(mailbox.folder)), f"open {mailbox.folder}")
        except BaseException:
            # Not left open: a poller retrying a wrong password would gather connections.
            _close(client)
            raise
        return client

    def _oauth2_token(self) -> str | None:
        """The access token: read from its file at every connection (a refresher renews
        it there before it expires), else the one given."""
        if self.oauth2_token_file is not None:
            return self.oauth2_token_file.read_text().strip() or None
        return self.oauth2_token

    async def take_new(self, client: aioimaplib.IMAP4) -> int:
        """Store every message in the folder and move each one stored; how many."""
        # Not those marked deleted: a server without MOVE or UIDPLUS keeps what was moved
        # (copied and marked) until someone expunges the folder.
        response = await client.uid_search("UNDELETED")
        _check(response, "search")
        uids = response.lines[0].decode().split() if response.lines else []
        taken = 0
        for uid in uids:
            if not uid.isdigit():
                continue
            raw = await self._fetch(client, uid)
            if raw is None:
                continue
            try:
                await self.pipeline.accept(raw, source="imap")
            except Exception:
                log.exception("could not store a message from IMAP; it stays in the mailbox")
                continue
            await self._move(client, uid)
            taken += 1
        if self.on_round is not None:
            self.on_round(taken)
        return taken

    async def _fetch(self, client: aioimaplib.IMAP4, uid: str) -> bytes | None:
        response = await client.uid("fetch", uid, "(BODY.PEEK[])")
        if response.result != "OK":
            log.warning("could not fetch a message", extra={"uid": uid})
            return None
        for line in response.lines:
            if isinstance(line, bytearray):
                return bytes(line)
        return None

    async def _move(self, client: aioimaplib.IMAP4, uid: str) -> None:
        folder = quoted(self.processed_folder)
        if client.has_capability("MOVE"):
            response = await client.uid("move", uid, folder)
        else:
            response = await client.uid("copy", uid, folder)
            if response.result == "OK":
                response = await client.uid("store", uid, "+FLAGS.SILENT", "(\\Deleted)")
                # Only this message: a plain EXPUNGE would remove whatever else anyone
                # marked deleted in a shared mailbox. Without UIDPLUS it stays marked.
                if response.result == "OK" and client.has_capability("UIDPLUS"):
                    await client.uid("expunge", uid)
        if response.result != "OK":
            # Stored all the same: the next round reads it again, and it is a duplicate.
            log.warning("could not move a stored message", extra={"uid": uid})

    async def run_forever(self, stop: asyncio.Event) -> None:
        backoff = self.first_backoff_s
        while not stop.is_set():
            try:
                await self._session(stop)
                backoff = self.first_backoff_s
            except Exception as exc:  # the poller must outlive any server or message
                log.warning("the mailbox could not be read: %s", exc)
                if self.on_failure is not None:
                    self.on_failure(str(exc))
                await _wait(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _session(self, stop: asyncio.Event) -> None:
        client = await self.connect()
        try:
            while not stop.is_set():
                await self.take_new(client)
                if client.has_capability("IDLE"):
                    await self._idle(client, stop)
                else:
                    await _wait(stop, self.poll_seconds)
        finally:
            await _quietly(client.logout())

    async def _idle(self, client: aioimaplib.IMAP4, stop: asyncio.Event) -> None:
        """Until the server says something changed, the idle time ran out, or ``stop``."""
        idle = await client.idle_start(timeout=IDLE_SECONDS)
        push = asyncio.ensure_future(client.wait_server_push(timeout=IDLE_SECONDS + 60))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({push, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (push, stopping):
                task.cancel()
            client.idle_done()
            await asyncio.wait_for(idle, COMMAND_TIMEOUT_S)


def _close(client: aioimaplib.IMAP4) -> None:
    transport = getattr(client.protocol, "transport", None)
    if transport is not None:
        transport.close()


def _check(response: Any, what: str) -> None:
    if response.result != "OK":
        detail = b" ".join(bytes(line) for line in response.lines).decode(errors="replace")
        raise ConnectionError(f"IMAP {what}: {response.result} {detail}".strip())


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _quietly(awaitable: Any) -> None:
    try:
        await asyncio.wait_for(awaitable, 5)
    except Exception as exc:  # a connection already gone cannot say goodbye
        log.debug("IMAP logout: %s", exc)
