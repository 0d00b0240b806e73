"""Reports at scale: how long each report takes on a filled database (the goal: under one
second at a million tickets, on this machine).

    .venv/bin/python bench/reports.py --database-url URL [--database-url URL2] [--runs 3]
        [--out bench/results/reports]

The database is one bench/fill.py filled (its tickets span three years up to
2026-11-21). Each report runs through the same service call the API makes
(``reports.service.run_report``), over the last 30 days, the last year and the whole
three years, alone, narrowed to one agent, and broken down per agent; the median of
``--runs`` runs is kept. Written to ``--out``: ``reports.json`` and ``reports.md``.

See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from helpwire.accounts.models import User
from helpwire.assembly import database_for
from helpwire.db.engine import create_engine
from helpwire.reports.models import TicketFact
from helpwire.reports.service import Dimension, ReportName, report_query, run_report
from helpwire.settings import Settings

GOAL_S = 1.0
LAST_DAY = date(2026, 11, 22)  # the day after the filled history ends
RANGES = {"30 days": 30, "1 year": 365, "3 years": 1095}


@dataclass
class Cell:
    engine: str
    report: str
    range: str
    shape: str  # "all", "one agent", "per agent"
    seconds: float
    tickets: int


async def _busiest_agent(database: object) -> str:
    async with database.reader() as session:  # type: ignore[attr-defined]
        assignee = await session.scalar(
            select(TicketFact.assignee_id)
            .where(TicketFact.assignee_id.is_not(None))
            .group_by(TicketFact.assignee_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        return str(await session.scalar(select(User.username).where(User.id == assignee)))


async def measure(url: str, runs: int) -> list[Cell]:
    settings = Settings(database_url=url)
    engine = create_engine(settings)
    database = database_for(engine)
    engine_name = "postgresql" if url.startswith("postgresql") else "sqlite"
    try:
        agent = await _busiest_agent(database)
        async with database.reader() as session:
            tickets = int(await session.scalar(select(func.count()).select_from(TicketFact)) or 0)
        cells = []
        for name in ReportName:
            for label, days in RANGES.items():
                for shape in ("all", "one agent", "per agent"):
                    if name == ReportName.TICKETS and shape == "per agent":
                        continue
                    filters = {Dimension.AGENT: agent} if shape == "one agent" else {}
                    by = Dimension.AGENT if shape == "per agent" else None
                    q = report_query(
                        start=LAST_DAY - timedelta(days=days),
                        end=LAST_DAY,
                        filters=filters,
                        by=by,
                        today=LAST_DAY,
                    )
                    timings = []
                    for _ in range(runs):
                        async with database.reader() as session:
                            started = time.perf_counter()
                            await run_report(session, name, q)
                            timings.append(time.perf_counter() - started)
                    seconds = statistics.median(timings)
                    cells.append(Cell(engine_name, name.value, label, shape, seconds, tickets))
                    ms = seconds * 1000
                    print(f"{engine_name:10} {name.value:8} {label:8} {shape:10} {ms:8.1f} ms")
        return cells
    finally:
        await engine.dispose()


def markdown(cells: list[Cell]) -> str:
    lines = [
        "| engine | report | range | shape | ms | under 1 s |",
        "|---|---|---|---|---:|---|",
    ]
    for c in cells:
        ok = "yes" if c.seconds < GOAL_S else "**no**"
        lines.append(
            f"| {c.engine} | {c.report} | {c.range} | {c.shape} | {c.seconds * 1000:.1f} | {ok} |"
        )
    tickets = {c.engine: c.tickets for c in cells}
    header = ", ".join(f"{e}: {n:,} tickets" for e, n in tickets.items())
    return (
        f"Reports on filled databases ({header}); median of the runs.\n\n" + "\n".join(lines) + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", action="append", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    cells: list[Cell] = []
    for url in args.database_url:
        cells += asyncio.run(measure(url, args.runs))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "reports.json").write_text(json.dumps([asdict(c) for c in cells], indent=1))
        (args.out / "reports.md").write_text(markdown(cells))
    slow = [c for c in cells if c.seconds >= GOAL_S]
    print(f"{len(cells) - len(slow)} of {len(cells)} under {GOAL_S:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
