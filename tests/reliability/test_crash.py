"""Crash test: `helpwire serve` (and a `helpwire relay` of its own) killed with SIGKILL at
random moments under a steady load of new tickets and comments, on SQLite and PostgreSQL.

Clients retry what got no answer with the same Idempotency-Key until it is answered. After
the run every acknowledged ticket and comment must be stored whole and exactly once, ticket
numbers must run 1..N without a gap on SQLite (on PostgreSQL, whose sequence does not give
back the number of a killed create, stay within what it handed out), and every event must
have reached the webhook receiver at least once.

HELPWIRE_SOAK_KILLS sets the number of kills per run (5 by default; `make soak` runs 20),
HELPWIRE_SOAK_SEED replays a run, HELPWIRE_SOAK_REPORT names the JSON summary's file.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from helpwire.db.engine import create_engine
from helpwire.settings import Settings
from tests.conftest import POSTGRES_URL, REQUIRE_POSTGRES, _postgres_reachable
from tests.notify.conftest import Receiver
from tests.ports import listening_socket, port_of
from tests.reliability.crash_harness import (
    KILLS,
    Client,
    Fleet,
    Ledger,
    agent_loop,
    check_deliveries,
    check_replays,
    check_requests,
    customer_loop,
    figures,
    fresh_postgres_database,
    process_env,
    read_stored,
    report,
    seed,
    wait_for_drain,
)

RUNS = [
    pytest.param("sqlite", False, id="sqlite"),
    pytest.param("postgres", False, id="postgres"),
    pytest.param("sqlite", True, id="sqlite-separate-relay"),
    pytest.param("postgres", True, id="postgres-separate-relay"),
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
async def crash_database(
    engine_name: str, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[str]:
    """A database of this test's own: a copy of the migrated SQLite template, or a new
    PostgreSQL database (skipped when PostgreSQL is unreachable, unless it is required)."""
    if engine_name == "sqlite":
        path = tmp_path / "helpwire.db"
        await asyncio.to_thread(shutil.copy, sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    reason = await _postgres_reachable()
    if reason is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (HELPWIRE_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    async with fresh_postgres_database(POSTGRES_URL) as url:
        yield url


async def _run_load(fleet: Fleet, ledger: Ledger, clients: list[Client], rng: random.Random) -> int:
    """Kills the fleet KILLS times at random moments while the clients work; the kills."""
    stop = asyncio.Event()
    loops = [customer_loop(c, rng=random.Random(rng.random()), stop=stop) for c in clients[:-1]]
    loops.append(agent_loop(clients[-1], rng=random.Random(rng.random()), stop=stop))
    tasks = [asyncio.create_task(loop) for loop in loops]
    kills = 0
    try:
        for _ in range(KILLS):
            # Some work gets done after each start, then the kill comes at a random moment.
            await ledger.wait_for_acks(len(ledger.acks) + rng.randint(3, 20))
            await asyncio.sleep(rng.uniform(0.0, 0.25))
            await fleet.kill()
            kills += 1
            await fleet.start()
        await ledger.wait_for_acks(len(ledger.acks) + 5)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    finally:
        for task in tasks:
            task.cancel()
    return kills


@pytest.mark.parametrize(("engine_name", "separate_relay"), RUNS, indirect=["engine_name"])
async def test_killed_processes_lose_no_request_and_no_event(
    engine_name: str,
    separate_relay: bool,
    crash_database: str,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    run_seed = int(os.environ.get("HELPWIRE_SOAK_SEED") or random.randrange(2**32))
    run = engine_name + ("-separate-relay" if separate_relay else "")
    print(f"\ncrash run {run}: seed {run_seed} (HELPWIRE_SOAK_SEED={run_seed} replays it)")
    rng = random.Random(run_seed)
    started = time.monotonic()
    tokens = await seed(crash_database)
    sock = listening_socket()  # the server's, across its restarts (see Fleet)
    env = process_env(
        database_url=crash_database,
        workdir=tmp_path,
        port=port_of(sock),
        receiver_url=receiver.url,
        separate_relay=separate_relay,
    )
    fleet = Fleet(env=env, sock=sock, workdir=tmp_path, separate_relay=separate_relay)
    ledger = Ledger()
    engine = create_engine(Settings(database_url=crash_database))
    try:
        await fleet.start()
        async with httpx.AsyncClient(base_url=fleet.url, timeout=30.0) as http:
            clients = [Client(http, ledger, t, n) for n, t in enumerate(tokens.customers)]
            clients.append(Client(http, ledger, tokens.agent, -1))
            kills = await _run_load(fleet, ledger, clients, rng)
            replay_problems = await check_replays({c.user: c for c in clients}, ledger)

        def arrived() -> Counter[str]:
            return Counter(r.headers["webhook-id"] for r in list(receiver.requests))

        await wait_for_drain(engine, arrived)
        received = arrived()
        stored = await read_stored(engine)
    except BaseException:
        print(fleet.logs())
        raise
    finally:
        await fleet.stop()
        sock.close()
        await engine.dispose()
    request_problems, found = check_requests(ledger, stored)
    problems = request_problems + replay_problems + check_deliveries(stored, received)
    print(f"crash run {run}: {fleet.starts} starts took {fleet.starting_seconds:.1f} s")
    report(
        figures(
            run=run,
            seed=run_seed,
            kills=kills,
            ledger=ledger,
            stored=stored,
            received=received,
            found=found,
            seconds=time.monotonic() - started,
        )
    )
    assert not ledger.unexpected, f"seed {run_seed}: answers other than 2xx: {ledger.unexpected}"
    assert not problems, f"seed {run_seed}: " + "\n".join(problems[:50])
    assert kills >= KILLS
