"""Notification latency under load: from a ticket's commit to the receiver's 2xx.

One `helpwire serve` (its workers as given, each with its in-process relay) on a database
filled by bench/fill.py, one webhook channel to a receiver in this process, and an open-loop
load of customers filing tickets at fixed rates. For every `ticket.created` delivered, the
latency is the receiver's clock at arrival minus the event's timestamp (taken in the
filing transaction, just before its commit, on the same machine's clock): a little more
than commit to 2xx, never less. The backlog (tickets filed and not yet delivered) is
sampled twice a second; a rate is kept up when the backlog of the last quarter of the
cell is no larger than that of the first quarter plus a second of filing.

    .venv/bin/python bench/notify_latency.py --filled /tmp/hw-20k-pg.json --rates 20,40,80
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from http_load import (
    BENCH,
    Filled,
    Server,
    listening_socket,
    machine,
    server_env,
    start_server,
)

SAMPLE_EVERY_S = 0.5
DRAIN_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 10.0


@dataclass
class Arrivals:
    """What the receiver got: per ticket number, the latency of its ticket.created."""

    latencies_ms: dict[int, float] = field(default_factory=dict)
    duplicates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, body: bytes) -> None:
        arrived = time.time()
        document = json.loads(body)
        if document.get("type") != "ticket.created":
            return
        number = int(document["data"]["ticket"]["number"])
        sent = datetime.fromisoformat(document["timestamp"]).timestamp()
        with self.lock:
            if number in self.latencies_ms:
                self.duplicates += 1
            self.latencies_ms[number] = (arrived - sent) * 1000

    def count(self, numbers: set[int]) -> int:
        with self.lock:
            return len(numbers & self.latencies_ms.keys())


def start_receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    """A webhook receiver on a port the system picks, answering 204 at once."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.end_headers()
            arrivals.record(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_helpwire_with_relay(database_url: str, workers: int, log_dir: Path) -> Server:
    sock = listening_socket()
    command = [sys.executable, "-m", "helpwire", "serve", "--fd", str(sock.fileno())]
    command += ["--workers", str(workers), "--no-migrate"]
    env = {
        **server_env(database_url),
        "HELPWIRE_RELAY_IN_PROCESS": "true",
        # The receiver listens on 127.0.0.1, which channels may not reach by default.
        "HELPWIRE_CHANNEL_ALLOWED_NETWORKS": "127.0.0.0/8",
    }
    return start_server("helpwire", command, env, sock, log_dir, frozenset({"create"}))


async def add_channel(client: httpx.AsyncClient, admin_token: str, url: str) -> int:
    """A webhook channel for ticket.created to ``url``, with room for the load: the
    receiver is ours, so the channel's own rate limit must not be what is measured."""
    response = await client.post(
        "/api/v1/channels",
        headers={"Authorization": f"Bearer {admin_token}"},
        json={
            "name": f"bench-{time.time_ns()}",
            "kind": "webhook",
            "url": url,
            "events": ["ticket.created"],
            "max_concurrency": 16,
            "rate_per_second": 1000,
        },
    )
    response.raise_for_status()
    return int(response.json()["id"])


async def remove_channel(client: httpx.AsyncClient, admin_token: str, channel_id: int) -> None:
    headers = {"Authorization": f"Bearer {admin_token}"}
    await client.delete(f"/api/v1/channels/{channel_id}", headers=headers)


@dataclass
class Cell:
    rate: float
    filed: set[int] = field(default_factory=set)
    errors: int = 0
    backlog: list[tuple[float, int]] = field(default_factory=list)  # (seconds in, backlog)
    drain_s: float | None = None

    def bounded(self) -> bool:
        """The backlog of the last quarter no larger than the first's plus a second's
        filing: what is filed is delivered as fast as it comes."""
        if len(self.backlog) < 4:
            return True
        quarter = max(1, len(self.backlog) // 4)
        first = max(b for _, b in self.backlog[:quarter])
        last = max(b for _, b in self.backlog[-quarter:])
        return last <= first + self.rate


async def file_tickets(
    client: httpx.AsyncClient, token: str, cell: Cell, duration: float, arrivals: Arrivals
) -> None:
    """Open loop: ticket i is filed at start + i / rate whatever the earlier ones do."""
    start = time.monotonic()
    total = int(cell.rate * duration)
    tasks = []

    async def one(i: int) -> None:
        await asyncio.sleep(max(0.0, start + i / cell.rate - time.monotonic()))
        try:
            response = await client.post(
                "/api/v1/tickets",
                headers={"Authorization": f"Bearer {token}"},
                json={"subject": f"notify bench {i}", "body": "a ticket to be notified of"},
            )
        except httpx.HTTPError:
            cell.errors += 1
            return
        if response.status_code == 201:
            cell.filed.add(int(response.json()["number"]))
        else:
            cell.errors += 1

    async def sample() -> None:
        while True:
            await asyncio.sleep(SAMPLE_EVERY_S)
            waiting = len(cell.filed) - arrivals.count(cell.filed)
            cell.backlog.append((round(time.monotonic() - start, 2), waiting))

    sampler = asyncio.create_task(sample())
    tasks = [asyncio.create_task(one(i)) for i in range(total)]
    await asyncio.gather(*tasks)
    sampler.cancel()
    drained = time.monotonic()
    while arrivals.count(cell.filed) < len(cell.filed):
        if time.monotonic() - drained > DRAIN_TIMEOUT_S:
            return
        await asyncio.sleep(0.05)
    cell.drain_s = round(time.monotonic() - drained, 2)


def summary(cell: Cell, arrivals: Arrivals) -> dict[str, Any]:
    with arrivals.lock:
        latencies = sorted(
            arrivals.latencies_ms[n] for n in cell.filed if n in arrivals.latencies_ms
        )

    def at(share: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(share * len(latencies)))], 1)

    return {
        "rate": cell.rate,
        "filed": len(cell.filed),
        "errors": cell.errors,
        "delivered": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "backlog_max": max((b for _, b in cell.backlog), default=0),
        "bounded": cell.bounded(),
        "drain_s": cell.drain_s,
        "backlog": cell.backlog,
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Notification latency, {result['machine']['summary']}; {result['engine']}, "
        f"{result['workers']} `helpwire serve` worker(s) with the relay in process, one "
        f"webhook channel, {result['duration_s']:g} s per rate. Latency from the event's "
        "timestamp (in the filing transaction) to the receiver's arrival, ms.",
        "",
        "| creates/s | filed | delivered | p50 | p95 | p99 | max | backlog max | kept up "
        "| drained after load (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cell in result["cells"]:
        lines.append(
            f"| {cell['rate']:g} | {cell['filed']} | {cell['delivered']} | {cell['p50_ms']} | "
            f"{cell['p95_ms']} | {cell['p99_ms']} | {cell['max_ms']} | {cell['backlog_max']} | "
            f"{'yes' if cell['bounded'] else 'no'} | {cell['drain_s']} |"
        )
    if result["duplicates"]:
        lines += ["", f"Delivered more than once: {result['duplicates']}."]
    return "\n".join(lines) + "\n"


async def run(args: argparse.Namespace) -> dict[str, Any]:
    filled = Filled.read(args.filled)
    arrivals = Arrivals()
    receiver = start_receiver(arrivals)
    receiver_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    log_dir = Path(tempfile.mkdtemp(prefix="helpwire-notify-bench-"))
    server = start_helpwire_with_relay(filled.database_url, args.workers, log_dir)
    cells = []
    try:
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
        async with httpx.AsyncClient(
            base_url=server.base_url, limits=limits, timeout=REQUEST_TIMEOUT_S
        ) as client:
            channel = await add_channel(client, filled.tokens["admin"], receiver_url)
            try:
                for rate in args.rates:
                    cell = Cell(rate)
                    await file_tickets(
                        client, filled.tokens["customer"], cell, args.duration, arrivals
                    )
                    cells.append(summary(cell, arrivals))
                    print(
                        json.dumps({k: v for k, v in cells[-1].items() if k != "backlog"}),
                        file=sys.stderr,
                    )
            finally:
                await remove_channel(client, filled.tokens["admin"], channel)
    finally:
        server.stop()
        receiver.shutdown()
    return {
        "machine": machine(),
        "engine": filled.database_url.split(":", 1)[0].split("+", 1)[0],
        "workers": args.workers,
        "duration_s": args.duration,
        "cells": cells,
        "duplicates": arrivals.duplicates,
        "server_log": str(server.log),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--filled", type=Path, required=True, help="credentials JSON of fill.py")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--rates", type=lambda raw: [float(r) for r in raw.split(",")], default=[20.0, 40.0]
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per rate")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "notify")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "notify.json").write_text(json.dumps(result, indent=1))
    table = markdown(result)
    (args.out / "notify.md").write_text(table)
    print(table)
    return 0 if all(c["delivered"] == c["filed"] for c in result["cells"]) else 1


if __name__ == "__main__":
    sys.exit(main())
