"""A relay's LISTEN connection survives a PostgreSQL restart: the relay notices the loss,
connects again (with backoff), and a ticket that another process creates afterwards is
delivered at once, not at the next poll.

The relay runs in the test's process on a private PostgreSQL cluster, which the test stops as
a crash would and starts again; the tickets come from a `helpwire serve` process on the same
cluster (its own relay turned off), so only PostgreSQL's NOTIFY can wake the test's relay.
Its poll interval is far longer than any wait here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from helpwire.assembly import database_for
from helpwire.db.engine import create_engine
from helpwire.db.session import Database
from helpwire.notify import channels
from helpwire.notify.outbound import AddressPolicy
from helpwire.notify.relay import Relay
from helpwire.notify.schemas import ChannelCreate
from helpwire.settings import Settings
from tests.notify.conftest import Receiver
from tests.reliability.servers import (
    PrivateCluster,
    Served,
    _wait_until_ready,
    private_cluster,
    serve,
)

POLL_S = 300.0  # the relay's poll: only a LISTEN wake-up delivers sooner
DELIVERY_BOUND_S = 60.0  # well below POLL_S
LOOPBACK = AddressPolicy(["127.0.0.0/8"])


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    yield from private_cluster()


@pytest.fixture
def served(cluster: PrivateCluster, tmp_path: Path) -> Iterator[Served]:
    yield from serve(
        tmp_path / "serve",
        database_url=cluster.url,
        env={"HELPWIRE_RELAY_IN_PROCESS": "false"},
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
async def database(cluster: PrivateCluster, served: Served) -> AsyncIterator[Database]:
    """The test process's own engine on the cluster (migrated by ``served``)."""
    engine = create_engine(Settings(database_url=cluster.url))
    yield database_for(engine)
    await engine.dispose()


@pytest.fixture
async def relay(database: Database) -> AsyncIterator[Relay]:
    relay = Relay(database, base_url="http://helpwire.test", poll_interval=POLL_S, policy=LOOPBACK)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run_forever(stop))
    yield relay
    stop.set()
    await running
    await relay.aclose()


async def _file_ticket(served: Served, subject: str) -> None:
    async with httpx.AsyncClient(base_url=served.url, headers=served.auth, timeout=30) as c:
        answer = await c.post("/api/v1/tickets", json={"subject": subject, "body": "Help."})
    assert answer.status_code == 201, answer.text


async def test_the_relay_listens_again_after_a_database_restart(
    cluster: PrivateCluster,
    served: Served,
    database: Database,
    receiver: Receiver,
    relay: Relay,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="helpwire.relay")
    async with database.writing() as session:
        await channels.create_channel(
            session,
            spec=ChannelCreate.model_validate(
                {"name": "chat", "kind": "slack", "url": receiver.url, "events": ["ticket.created"]}
            ),
            policy=LOOPBACK,
        )
    # Before the restart: the wake-up works at all (and the relay is listening).
    await _file_ticket(served, "Before the restart")
    await receiver.wait_for(1, timeout=DELIVERY_BOUND_S)

    await asyncio.to_thread(cluster.stop)
    await asyncio.to_thread(cluster.start)
    await asyncio.to_thread(_wait_until_ready, served)

    await _file_ticket(served, "After the restart")
    requests = await receiver.wait_for(2, timeout=DELIVERY_BOUND_S)
    assert "After the restart" in requests[1].body.decode()
    # One warning for the outage, however many tries it took to connect again.
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert [m for m in warnings if "LISTEN" in m] == [
        "LISTEN connection lost; reconnecting, polling meanwhile"
    ], warnings
    assert any("LISTEN connection restored" in r.getMessage() for r in caplog.records)
