"""Mail to customers against a real SMTP server (aiosmtpd on localhost), sent by relays the
tests drive with a clock of their own."""

from __future__ import annotations

from collections.abc import Callable
from email.message import Message

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from helpwire.notify.relay import Relay
from helpwire.settings import Settings
from tests.mailservers import SmtpServer, smtp_server  # noqa: F401
from tests.relays import FakeClock, clock, make_relay  # noqa: F401

SUPPORT = "support@helpwire.test"


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:  # noqa: F811
    return settings.model_copy(
        update={
            "mail_from": f"Helpwire Support <{SUPPORT}>",
            "mail_smtp_url": SecretStr(f"smtp://{smtp_server.host}:{smtp_server.port}"),
            # Besides solved (the default): closing, to show which changes are not mailed.
            "mail_notify_statuses": "solved,closed",
            # Small, so that a test's files are attached up to it and linked past it.
            "mail_attachments_max_bytes": 4096,
            # The service that hands over mail in the tests (tests/conftest.py's world).
            "mail_inbound_services": "acme-portal",
        }
    )


class Outbox:
    """Sends what is queued (a relay pass) and reads what the SMTP server was given."""

    def __init__(self, relay: Relay, server: SmtpServer) -> None:
        self.relay = relay
        self.server = server

    async def send(self) -> int:
        return await self.relay.run_once()

    @property
    def messages(self) -> list[tuple[list[str], Message]]:
        return list(self.server.mailbox.messages)

    async def expect(self, count: int) -> list[tuple[list[str], Message]]:
        """Send, then the first ``count`` messages the server received."""
        await self.send()
        return await self.server.mailbox.wait_for(count)


@pytest.fixture
def outbox(
    app: FastAPI,
    make_relay: Callable[..., Relay],  # noqa: F811
    clock: FakeClock,  # noqa: F811
    smtp_server: SmtpServer,  # noqa: F811
) -> Outbox:
    # The relay reads the files it attaches from the app's storage.
    return Outbox(make_relay(clock=clock, files=app.state.storage), smtp_server)
