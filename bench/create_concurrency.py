"""Concurrent creates in one process: do they queue on the ticket number?

    .venv/bin/python bench/create_concurrency.py --filled /tmp/hw-20k-pg.json \
        [--clients 1,16] [--tickets 1000] [--out bench/results/create-concurrency]

helpwire's app runs in this process on the database of ``--filled`` (a credentials file
written by bench/fill.py), and ``--clients`` customers file ``--tickets`` tickets in all,
as fast as they can, through the app's ASGI interface (no HTTP: the server's own cost is
left out, so what queues inside the app shows). For each number of clients it prints the
creates a second, the CPU per create, and how long the statement that numbers the ticket
took: the counter's UPDATE on SQLite, the ticket's INSERT on PostgreSQL (whose number
comes from the sequence, the column's default). A statement that queues on another
create's uncommitted number takes as long as that create has left to run. Writes
``create-concurrency.json`` and ``.md`` into ``--out``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event

BENCH = Path(__file__).resolve().parent
NUMBERING = ("UPDATE counters", "INSERT INTO tickets")


@dataclass
class Cell:
    clients: int
    creates: int
    seconds: float
    cpu_ms_per_create: float
    numbering_p50_ms: float
    numbering_p95_ms: float

    @property
    def rate(self) -> float:
        return self.creates / self.seconds


class Asgi:
    """Requests straight to the app's ASGI callable."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def post(self, path: str, token: str, body: dict[str, Any]) -> tuple[int, bytes]:
        data = json.dumps(body).encode()
        headers = [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-length", str(len(data)).encode()),
        ]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        }  # fmt: skip
        sent = False
        status, out = 0, []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": data, "more_body": False}
            await asyncio.Event().wait()  # the app does not read past the body
            return {}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                out.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(out)


def _watch_numbering(engine: Any, took: list[float]) -> None:
    """Times each statement that numbers a ticket, on every connection of ``engine``."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith(NUMBERING):
            conn.info["bench_numbering"] = time.perf_counter()

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _after(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        started = conn.info.pop("bench_numbering", None)
        if started is not None and statement.startswith(NUMBERING):
            took.append(time.perf_counter() - started)


async def _cell(asgi: Asgi, token: str, clients: int, tickets: int, took: list[float]) -> Cell:
    took.clear()
    numbers = iter(range(tickets))

    async def client() -> None:
        for i in numbers:
            body = {"subject": f"Concurrent create {i}", "body": "Filed by the benchmark."}
            status, answer = await asgi.post("/api/v1/tickets", token, body)
            if status != 201:
                raise RuntimeError(f"create answered {status}: {answer[:300]!r}")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ordered = sorted(took)
    return Cell(
        clients=clients,
        creates=tickets,
        seconds=round(wall, 3),
        cpu_ms_per_create=round(cpu * 1000 / tickets, 2),
        numbering_p50_ms=round(statistics.median(ordered) * 1000, 2),
        numbering_p95_ms=round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    )


async def run(credentials: dict[str, Any], clients: list[int], tickets: int) -> list[Cell]:
    from asgi_lifespan import LifespanManager

    from helpwire.app import create_app
    from helpwire.settings import Settings

    settings = Settings(
        database_url=credentials["database_url"],
        rate_limit_enabled=False,
        log_level="WARNING",
        relay_in_process=False,
        worker_in_process=False,
    )
    app = create_app(settings)
    token = credentials["tokens"]["customer"]["token"]
    took: list[float] = []
    async with LifespanManager(app):
        _watch_numbering(app.state.database.engine, took)
        asgi = Asgi(app)
        await _cell(asgi, token, 1, min(20, tickets), took)  # warm-up: statements, pool
        return [await _cell(asgi, token, n, tickets, took) for n in clients]


def markdown(engine: str, cells: Sequence[Cell]) -> str:
    lines = [
        f"Concurrent creates in one process, {engine}, no HTTP (bench/create_concurrency.py).",
        "",
        "| clients | creates | creates/s | CPU ms/create | numbering p50 ms | numbering p95 ms |",
        "|---|---|---|---|---|---|",
    ]
    for c in cells:
        lines.append(
            f"| {c.clients} | {c.creates} | {c.rate:.0f} | {c.cpu_ms_per_create:.2f} | "
            f"{c.numbering_p50_ms:.2f} | {c.numbering_p95_ms:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--filled", required=True, help="credentials JSON written by fill.py")
    parser.add_argument("--clients", default="1,16", help="comma-separated client counts")
    parser.add_argument("--tickets", type=int, default=1000, help="tickets filed per count")
    parser.add_argument("--out", default=str(BENCH / "results" / "create-concurrency"))
    args = parser.parse_args(argv)
    credentials = json.loads(Path(args.filled).read_text())
    clients = [int(n) for n in args.clients.split(",") if n.strip()]
    os.environ.setdefault("HELPWIRE_LOG_LEVEL", "WARNING")
    cells = asyncio.run(run(credentials, clients, args.tickets))
    engine = "sqlite" if credentials["database_url"].startswith("sqlite") else "postgresql"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {"engine": engine, "cells": [asdict(c) | {"rate": c.rate} for c in cells]}
    (out / "create-concurrency.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(engine, cells)
    (out / "create-concurrency.md").write_text(table)
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
