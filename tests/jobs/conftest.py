"""Workers on the test's database with a clock the test moves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from helpwire.db.session import Database
from helpwire.jobs.registry import JobRegistry
from helpwire.jobs.worker import Worker
from tests.relays import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_worker(database: Database, clock: FakeClock) -> Callable[..., Worker]:
    """Workers on the test's database and clock; pass registry=, lease=, name=..."""

    def make(registry: JobRegistry, **options: Any) -> Worker:
        options.setdefault("clock", clock)
        options.setdefault("lease", timedelta(minutes=5))
        return Worker(options.pop("database", database), registry, **options)

    return make
