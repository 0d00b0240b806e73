"""The doors mail comes in by: the SMTP listener fed by smtplib, and a real Dovecot mailbox
read over IMAP (once, and woken by IDLE); and the round trip through Dovecot from a ticket
filed on a compatible API to the customer's answer."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import json
import smtplib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from helpwire.mail.imap import Mailbox, MailboxPoller
from helpwire.mail.inbound import Pipeline
from helpwire.mail.listener import start_listener
from tests.conftest import World
from tests.dovecot import Dovecot, dovecot, started  # noqa: F401
from tests.faces.test_ucloud import file_ticket, newest_ticket
from tests.mail.conftest import SUPPORT, Outbox
from tests.mail.test_inbound import comments, mail
from tests.ports import listening_socket, port_of


@pytest.fixture
def pipeline(app: FastAPI) -> Pipeline:
    found: Pipeline = app.state.mail_pipeline
    return found


@pytest.fixture
async def open_smtp_door(pipeline: Pipeline) -> AsyncIterator[Callable[[], Awaitable[int]]]:
    """Starts the listener (on a socket the test bound) when called; its port."""
    servers: list[asyncio.Server] = []

    async def start() -> int:
        sock = listening_socket()
        port = port_of(sock)
        servers.append(await start_listener(pipeline, sock=sock))
        return port

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def _send(port: int, message: EmailMessage | bytes, to: str = SUPPORT) -> Any:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        # On the wire every line ends in CRLF (smtplib leaves bytes as they are).
        raw = message if isinstance(message, bytes) else message.as_bytes(policy=SMTP)
        return client.sendmail("owner@acme.test", [to], raw)


async def test_the_smtp_listener_files_mail_it_was_handed(
    world: World, open_smtp_door: Callable[[], Awaitable[int]]
) -> None:
    smtp_door = await open_smtp_door()
    refused = await asyncio.to_thread(_send, smtp_door, mail(subject="By SMTP", body="Hi."))
    assert refused == {}
    found = await world.get("agent", "/api/v1/tickets", params={"q": "SMTP"})
    [ticket] = found.json()["items"]
    assert ticket["subject"] == "By SMTP"
    assert [c["body"] for c in await comments(world, ticket["number"])] == ["Hi."]


async def test_the_smtp_listener_keeps_big_mail_and_refuses_huge_mail(
    world: World, open_smtp_door: Callable[[], Awaitable[int]], pipeline: Pipeline
) -> None:
    pipeline.config = dataclasses.replace(pipeline.config, max_bytes=64 * 1024)
    smtp_door = await open_smtp_door()
    big = mail(subject="Big", body=("y" * 70 + "\n") * 1400)
    await asyncio.to_thread(_send, smtp_door, big)  # over the limit, under twice it
    listed = await world.get("admin", "/api/v1/mail/quarantine")
    [kept] = listed.json()["items"]
    assert "HELPWIRE_MAIL_MAX_BYTES" in kept["reason"]
    huge = mail(subject="Huge", body=("z" * 70 + "\n") * 3000)
    with pytest.raises(smtplib.SMTPException) as refused:
        await asyncio.to_thread(_send, smtp_door, huge)
    assert "552" in str(refused.value)


def _poller(pipeline: Pipeline, server: Dovecot, **options: Any) -> MailboxPoller:
    return MailboxPoller(
        pipeline,
        Mailbox.from_url(server.url("support")),
        processed_folder="Processed",
        poll_seconds=60,
        **options,
    )


async def test_the_mailbox_is_read_and_read_mail_moved(
    world: World,
    pipeline: Pipeline,
    dovecot: Dovecot,  # noqa: F811
) -> None:
    first = mail(subject="From the mailbox", body="One.")
    await asyncio.to_thread(dovecot.append, "support", first.as_bytes())
    broken = (
        b"From: owner@acme.test\r\nSubject: broken\r\nMessage-ID: <b-2@client.test>\r\n"
        b"Content-Type: multipart/mixed\r\n\r\nno boundary\r\n"
    )
    await asyncio.to_thread(dovecot.append, "support", broken)
    poller = _poller(pipeline, dovecot)
    client = await poller.connect()
    try:
        assert await poller.take_new(client) == 2
        assert await poller.take_new(client) == 0  # nothing left
    finally:
        await client.logout()
    assert await asyncio.to_thread(dovecot.messages, "support") == []
    assert len(await asyncio.to_thread(dovecot.messages, "support", "Processed")) == 2
    found = await world.get("agent", "/api/v1/tickets", params={"q": "mailbox"})
    assert [t["subject"] for t in found.json()["items"]] == ["From the mailbox"]
    log = await world.get("admin", "/api/v1/mail/messages", params={"direction": "in"})
    states = sorted(m["state"] for m in log.json()["items"])
    assert states == ["processed", "quarantined"]  # the broken one kept, not lost


async def test_idle_wakes_the_poller_when_mail_comes(
    world: World,
    pipeline: Pipeline,
    dovecot: Dovecot,  # noqa: F811
) -> None:
    rounds: asyncio.Queue[int] = asyncio.Queue()
    poller = _poller(pipeline, dovecot, on_round=rounds.put_nowait)
    stop = asyncio.Event()
    running = asyncio.create_task(poller.run_forever(stop))
    try:
        assert await asyncio.wait_for(rounds.get(), 30) == 0  # the first look: empty
        message = mail(subject="Pushed by IDLE", body="Ping.")
        await asyncio.to_thread(dovecot.append, "support", message.as_bytes())
        assert await asyncio.wait_for(rounds.get(), 30) == 1  # long before the 60 s poll
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    found = await world.get("agent", "/api/v1/tickets", params={"q": "IDLE"})
    assert len(found.json()["items"]) == 1


async def test_the_poller_says_what_is_wrong_and_outlives_it(
    pipeline: Pipeline,
    dovecot: Dovecot,  # noqa: F811
) -> None:
    wrong = Mailbox.from_url(dovecot.url("support").replace("secret-password", "nope"))
    poller = MailboxPoller(pipeline, wrong, processed_folder="Processed", poll_seconds=60)
    with pytest.raises(ConnectionError, match="sign in"):
        await poller.connect()
    # A server that is gone: refused at once, and again, and again; the poller waits
    # between tries (longer each time) and never ends by itself.
    closed = listening_socket()
    gone = dataclasses.replace(wrong, port=port_of(closed))
    closed.close()
    failures: asyncio.Queue[str] = asyncio.Queue()
    poller = MailboxPoller(
        pipeline,
        gone,
        processed_folder="Processed",
        poll_seconds=60,
        first_backoff_s=0.01,
        on_failure=failures.put_nowait,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(poller.run_forever(stop))
    try:
        for _ in range(3):
            await asyncio.wait_for(failures.get(), 30)
        assert not running.done()
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)


class TokenIntrospection:
    """An identity provider's token introspection endpoint (RFC 7662) on localhost: the
    one token it issued is active, for the user ``support``."""

    TOKEN = "ya29.a0-test-access-token"

    def __init__(self) -> None:
        self.asked: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.asked.append(body)
                active = outer.TOKEN.encode() in body
                answer = json.dumps(
                    {"active": active, "username": "support"} if active else {"active": False}
                )
                data = answer.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/introspect"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def oauth2_dovecot() -> Iterator[tuple[Dovecot, TokenIntrospection]]:
    provider = TokenIntrospection()
    try:
        for server in started(introspection_url=provider.url):
            yield server, provider
    finally:
        provider.close()


async def test_the_mailbox_is_read_with_an_oauth2_token(
    world: World,
    pipeline: Pipeline,
    oauth2_dovecot: tuple[Dovecot, TokenIntrospection],
    tmp_path: Path,
) -> None:
    server, provider = oauth2_dovecot
    message = mail(subject="Read with XOAUTH2", body="Signed in with a token.")
    await asyncio.to_thread(server.append, "support", message.as_bytes())
    # The URL carries no password: the token signs in (Microsoft 365, Google).
    mailbox = Mailbox.from_url(f"imap://support@{server.host}:{server.port}/INBOX")
    poller = MailboxPoller(
        pipeline,
        mailbox,
        processed_folder="Processed",
        poll_seconds=60,
        oauth2_token=TokenIntrospection.TOKEN,
    )
    client = await poller.connect()
    try:
        assert await poller.take_new(client) == 1
    finally:
        await client.logout()
    assert any(TokenIntrospection.TOKEN.encode() in body for body in provider.asked)
    found = await world.get("agent", "/api/v1/tickets", params={"q": "XOAUTH2"})
    assert len(found.json()["items"]) == 1
    # The token read from a file at every connection, as a refresher keeps it.
    token_file = tmp_path / "access-token"
    token_file.write_text(TokenIntrospection.TOKEN + "\n")
    from_file = MailboxPoller(
        pipeline,
        mailbox,
        processed_folder="Processed",
        poll_seconds=60,
        oauth2_token_file=token_file,
    )
    client = await from_file.connect()
    await client.logout()


def _reply_from_mailbox(raw: bytes, text: str) -> bytes:
    """What the customer's mail program sends when they answer ``raw``."""
    original = email.message_from_bytes(raw)
    reply = EmailMessage()
    reply["From"] = "Olga Owner <owner@acme.test>"
    reply["To"] = str(original["Reply-To"] or original["From"])
    reply["Subject"] = "Re: " + str(original["Subject"])
    reply["Message-ID"] = make_msgid(domain="acme.test")
    reply["In-Reply-To"] = str(original["Message-ID"])
    reply["References"] = f"{original['References'] or ''} {original['Message-ID']}".strip()
    quoted = "\n".join("> " + line for line in str(original.get_payload(0)).splitlines())
    reply.set_content(f"{text}\n\n-- \nOlga Owner, Acme\n\nOn Monday, Support wrote:\n{quoted}\n")
    return reply.as_bytes()


async def test_round_trip_from_a_face_through_dovecot_and_back(
    world: World,
    pipeline: Pipeline,
    outbox: Outbox,
    dovecot: Dovecot,  # noqa: F811
) -> None:
    filed = await file_ticket(world, "owner", "Quota exceeded", "My jobs fail.")
    assert filed.status_code == 200, filed.text
    number = (await newest_ticket(world, "owner"))["number"]
    answer = await world.post(
        "agent", f"/api/v1/tickets/{number}/comments", json={"body": "Raised to 2 TB."}
    )
    assert answer.status_code == 201
    [(recipients, _message)] = await outbox.expect(1)
    assert recipients == ["owner@acme.test"]
    # The MTA's local delivery: into the customer's mailbox on Dovecot.
    sent = outbox.server.mailbox.raw[0]
    await asyncio.to_thread(dovecot.append, "owner", sent)
    [delivered] = await asyncio.to_thread(dovecot.messages, "owner")
    # The customer answers from their mail program; it lands in support's mailbox.
    reply = _reply_from_mailbox(delivered, "Thanks, it works now.")
    await asyncio.to_thread(dovecot.append, "support", reply)
    poller = _poller(pipeline, dovecot)
    client = await poller.connect()
    try:
        assert await poller.take_new(client) == 1
    finally:
        await client.logout()
    bodies = [c["body"] for c in await comments(world, number)]
    assert bodies == ["My jobs fail.", "Raised to 2 TB.", "Thanks, it works now."]
