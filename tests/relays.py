"""Relays in tests: a clock moved by hand, and relays on the test's database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpwire.db.session import Database
from helpwire.notify.outbound import AddressPolicy
from helpwire.notify.relay import Relay


class FakeClock:
    """The relay's clock, moved by hand so that retry schedules need no waiting."""

    def __init__(self) -> None:
        # A minute ahead of the real clock: events the test makes now are due at once.
        self.now = datetime.now(UTC) + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def make_relay(database: Database) -> AsyncIterator[Callable[..., Relay]]:
    """Relays on the test's database, closed at the end; pass clock=, rng=, lease=..."""
    relays: list[Relay] = []

    def make(**options: Any) -> Relay:
        # The receivers listen on loopback, which only an allow-list opens.
        options.setdefault("policy", AddressPolicy(["127.0.0.0/8", "::1", "localhost"]))
        relay = Relay(database, base_url="http://helpwire.test", **options)
        relays.append(relay)
        return relay

    yield make
    for relay in relays:
        await relay.aclose()
