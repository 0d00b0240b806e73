"""Mail in: messages a second through the pipeline (the goal: at least 50 on SQLite).

Each message is stored, deduplicated, parsed, matched and filed exactly as a door hands it
over (``Pipeline.accept``, the call behind the SMTP listener, the IMAP poller and the HTTP
endpoint). The mix is what a support mailbox sees: half new requests, half replies to
earlier ones (threaded by In-Reply-To, with quoted history to cut), one in five with a
small attachment, in plain text and HTML. ``--concurrency`` messages are in flight at once,
as an MTA with several connections hands them over. Printed and written to ``--out``:
messages a second and the time per message (p50, p95, max), per engine.

Run ``.venv/bin/python bench/mail_inbound.py --help``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from asgi_lifespan import LifespanManager
from jobs_drain import scratch_postgres

from helpwire.accounts import service as accounts
from helpwire.accounts.models import Role
from helpwire.app import create_app
from helpwire.db.engine import create_engine
from helpwire.db.migrate import upgrade
from helpwire.mail.inbound import Pipeline
from helpwire.settings import Settings

GOAL_SQLITE_PER_S = 50.0
CUSTOMERS = 50
SUPPORT = "support@helpwire.test"


@dataclass
class Cell:
    engine: str
    messages: int
    concurrency: int
    seconds: float
    rate: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    processed: int


class Mailroom:
    """The messages customers send: new requests, and replies to what they sent before."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
        self.sent: list[tuple[str, str, str]] = []  # (customer, message id, subject)
        self.count = 0

    def next(self) -> bytes:
        self.count += 1
        reply = self.sent and self.rng.random() < 0.5
        if reply:
            customer, earlier, subject = self.rng.choice(self.sent)
        else:
            customer = f"customer{self.rng.randrange(CUSTOMERS)}@acme.test"
            earlier, subject = "", f"Request {self.count}: the export fails"
        message = EmailMessage()
        message["From"] = customer
        message["To"] = SUPPORT
        message["Subject"] = ("Re: " if reply else "") + subject
        message_id = make_msgid(domain="client.test")
        message["Message-ID"] = message_id
        if reply:
            message["In-Reply-To"] = earlier
            message["References"] = earlier
        text = f"Message {self.count}: the export of report {self.rng.randrange(1000)} fails."
        if reply:
            text += "\n\nOn Monday, Support wrote:\n> Which report is it?\n> --\n> Support\n"
        message.set_content(text)
        message.add_alternative(f"<p>{text.splitlines()[0]}</p>", subtype="html")
        if self.rng.random() < 0.2:
            message.add_attachment(
                self.rng.randbytes(20_000),
                maintype="application",
                subtype="octet-stream",
                filename="export.log",
            )
        if not reply:
            self.sent.append((customer, message_id, subject))
        return message.as_bytes()


async def _prepared(settings: Settings) -> None:
    engine = create_engine(settings)
    await upgrade(engine)
    await engine.dispose()


@contextlib.asynccontextmanager
async def pipeline_on(url: str, root: Path) -> AsyncIterator[Pipeline]:
    settings = Settings(
        database_url=url,
        files_dir=root / "files",
        secret_key_file=root / "helpwire-secret.key",
        relay_in_process=False,
        worker_in_process=False,
        log_json=False,
        log_level="WARNING",
        mail_from=f"Support <{SUPPORT}>",
        mail_sender_limit="100000/hour",
    )
    await _prepared(settings)
    app = create_app(settings)
    async with LifespanManager(app):
        pipeline: Pipeline = app.state.mail_pipeline
        async with pipeline.database.writing() as session:
            await accounts.create_account(session, key="acme", name="Acme", projects=[])
            for number in range(CUSTOMERS):
                await accounts.create_user(
                    session,
                    new=accounts.NewUser(
                        username=f"customer{number}",
                        role=Role.CUSTOMER,
                        email=f"customer{number}@acme.test",
                        account_key="acme",
                    ),
                )
        yield pipeline


async def measure(pipeline: Pipeline, engine: str, args: argparse.Namespace) -> Cell:
    room = Mailroom(args.seed)
    messages = [room.next() for _ in range(args.messages)]
    times: list[float] = []
    states: list[str] = []
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for raw in messages:
        queue.put_nowait(raw)

    async def door() -> None:
        while not queue.empty():
            raw = queue.get_nowait()
            started = time.perf_counter()
            outcome = await pipeline.accept(raw, source="bench")
            times.append((time.perf_counter() - started) * 1000)
            states.append(outcome.state)

    started = time.perf_counter()
    await asyncio.gather(*(door() for _ in range(args.concurrency)))
    seconds = time.perf_counter() - started
    ordered = sorted(times)
    return Cell(
        engine=engine,
        messages=len(messages),
        concurrency=args.concurrency,
        seconds=round(seconds, 3),
        rate=round(len(messages) / seconds, 1),
        p50_ms=round(statistics.median(ordered), 2),
        p95_ms=round(ordered[int(len(ordered) * 0.95) - 1 if len(ordered) > 1 else 0], 2),
        max_ms=round(ordered[-1], 2),
        processed=states.count("processed"),
    )


def table(cells: list[Cell]) -> str:
    lines = [
        "| engine | messages | in flight | messages/s | p50 ms | p95 ms | max ms | processed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in cells:
        lines.append(
            f"| {c.engine} | {c.messages} | {c.concurrency} | {c.rate} | {c.p50_ms} | "
            f"{c.p95_ms} | {c.max_ms} | {c.processed} |"
        )
    return "\n".join(lines) + "\n"


async def main(args: argparse.Namespace) -> int:
    cells: list[Cell] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if "sqlite" in args.engines:
            async with pipeline_on(f"sqlite:///{root / 'mail.db'}", root) as pipeline:
                cells.append(await measure(pipeline, "sqlite", args))
        if "postgres" in args.engines:
            async with scratch_postgres() as url:
                if url is not None:
                    async with pipeline_on(url, root) as pipeline:
                        cells.append(await measure(pipeline, "postgres", args))
    print(table(cells), end="")
    short = [c for c in cells if c.engine == "sqlite" and c.rate < GOAL_SQLITE_PER_S]
    for cell in short:
        print(f"sqlite: {cell.rate}/s is under the goal of {GOAL_SQLITE_PER_S:g}/s")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        data = {"goal_sqlite_per_s": GOAL_SQLITE_PER_S, "cells": [asdict(c) for c in cells]}
        (args.out / "mail-inbound.json").write_text(json.dumps(data, indent=2) + "\n")
        (args.out / "mail-inbound.md").write_text(table(cells))
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4, help="messages in flight")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--out", type=Path, default=None, help="write JSON and Markdown here")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
