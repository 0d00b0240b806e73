"""Relays as separate processes: killed mid-batch they lose nothing, and two of them share
one PostgreSQL database without sending anything twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpwire.db.base import utcnow
from helpwire.db.session import Database
from helpwire.notify.models import Channel, Delivery, DeliveryAttempt
from helpwire.notify.outbox import new_message_id
from tests.conftest import World
from tests.notify.conftest import Receiver


def relay_env(database_url: str, tmp_path: Path, *, lease_s: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPWIRE_")}
    env.update(
        HELPWIRE_DATABASE_URL=database_url,
        HELPWIRE_FILES_DIR=str(tmp_path / "files"),
        # The key the test's own app encrypted the channels with (tests/conftest.py).
        HELPWIRE_SECRET_KEY_FILE=str(tmp_path / "helpwire-secret.key"),
        HELPWIRE_BASE_URL="http://helpwire.test",
        HELPWIRE_RELAY_LEASE_SECONDS=str(lease_s),
        HELPWIRE_RELAY_POLL_SECONDS="0.2",
        HELPWIRE_LOG_LEVEL="WARNING",
        HELPWIRE_CHANNEL_ALLOWED_NETWORKS="127.0.0.0/8",  # where the test receiver listens
    )
    return env


@contextmanager
def relay_process(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "helpwire", "relay"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def queue_deliveries(database: Database, *, url: str, count: int, concurrency: int) -> None:
    """``count`` deliveries of ``count`` distinct events to one webhook channel."""
    now = utcnow()
    async with database.writing() as session:
        channel = Channel(
            name="hook",
            kind="webhook",
            url=url,
            secret="whsec_" + "A" * 43 + "=",
            events=["ticket.created"],
            filters={},
            max_concurrency=concurrency,
            rate_per_second=1000.0,
            consecutive_failures=0,
            created_at=now,
            updated_at=now,
        )
        session.add(channel)
        await session.flush()
        session.add_all(
            Delivery(
                message_id=new_message_id(),
                channel_id=channel.id,
                event_type="ticket.created",
                ticket_number=n,
                payload={"type": "ticket.created", "timestamp": now.isoformat(), "data": {"n": n}},
                state="pending",
                attempt_count=0,
                schedule_step=0,
                next_attempt_at=now,
                created_at=now,
            )
            for n in range(count)
        )


async def states(database: Database) -> dict[str, int]:
    async with database.reader() as session:
        rows = await session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
        return dict(rows.tuples().all())


async def until_all_delivered(database: Database, count: int, timeout: float = 60) -> None:
    # The relays' writes are observable only in the database, so it is polled here.
    deadline = time.monotonic() + timeout
    while (await states(database)).get("delivered", 0) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"not all delivered: {await states(database)}")
        await asyncio.sleep(0.1)


async def test_a_relay_killed_mid_batch_loses_nothing(
    world: World, receiver: Receiver, database_url: str, tmp_path: Path
) -> None:
    await queue_deliveries(world.database, url=receiver.url, count=20, concurrency=4)
    env = relay_env(database_url, tmp_path, lease_s=1.0)
    receiver.hold()  # the first requests hang: the relay is in the middle of its batch
    with relay_process(env) as first:
        await receiver.wait_for(1)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=20)
    receiver.release()
    with relay_process(env):
        await until_all_delivered(world.database, 20)
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    async with world.database.reader() as session:
        queued = set((await session.scalars(select(Delivery.message_id))).all())
    # Everything arrived; what arrived twice came with the same webhook-id.
    assert set(ids) == queued
    assert len(ids) >= 20
    assert await states(world.database) == {"delivered": 20}


@pytest.mark.parametrize("engine_name", ["postgres"], indirect=True)
async def test_two_relays_on_postgresql_deliver_1000_events_exactly_once(
    world: World, receiver: Receiver, database_url: str, tmp_path: Path
) -> None:
    await queue_deliveries(world.database, url=receiver.url, count=1000, concurrency=8)
    env = relay_env(database_url, tmp_path, lease_s=60.0)
    with relay_process(env) as one, relay_process(env) as two:
        await until_all_delivered(world.database, 1000, timeout=120)
        assert one.poll() is None and two.poll() is None
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == 1000
    assert len(set(ids)) == 1000
    async with world.database.reader() as session:
        relays = set((await session.scalars(select(Delivery.claimed_by))).all())
        by_relay = dict(
            (
                await session.execute(
                    select(DeliveryAttempt.relay, func.count()).group_by(DeliveryAttempt.relay)
                )
            )
            .tuples()
            .all()
        )
    assert relays == {None}
    assert len(by_relay) == 2, by_relay  # both relays did part of the work


def test_a_relay_refuses_to_start_on_a_broken_channel_declaration(
    database_url: str, tmp_path: Path
) -> None:
    env = relay_env(database_url, tmp_path, lease_s=60)
    env["HELPWIRE_CHANNELS"] = '[{"name": "support", "kind": "slack"}]'
    finished = subprocess.run(
        [sys.executable, "-m", "helpwire", "relay"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 1
    assert "url" in finished.stderr
