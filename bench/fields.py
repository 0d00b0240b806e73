"""Custom fields at scale, through the real service layer.

    .venv/bin/python bench/fields.py --filled /tmp/hw-1m.json [--repeat 15] [--out DIR]

On a database filled by bench/fill.py (its credentials file), defines three fields through
helpwire's own service (a select of five options, a number, a date) and gives every ticket
a value of each, written in bulk by SQL (three rows per ticket: the value table's shape at
its worst, every ticket carrying every field), then times the ticket list
(``tickets.listing.list_and_count_tickets``: a page of 25 and its count, as the API asks
for it) filtered and sorted by those fields, against the list's own baselines measured in
the same run on the same database: newest first, by status, by priority. A second run on
the same database finds the values there and times again.

Output: a Markdown table on standard output, and ``fields.json`` / ``fields.md`` in --out.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from helpwire.accounts.actor import Actor, load_actor
from helpwire.accounts.models import User
from helpwire.assembly import database_for
from helpwire.db.engine import create_engine
from helpwire.db.session import Database
from helpwire.fields.models import CustomField, FieldKind, TicketFieldValue
from helpwire.fields.schemas import FieldCreate
from helpwire.fields.service import create_field
from helpwire.settings import Settings
from helpwire.tickets.listing import SortField, SortOrder, TicketFilters, list_and_count_tickets
from helpwire.tickets.models import Priority, Status

PLANS = ["bronze", "silver", "gold", "platinum", "enterprise"]
SEATS_MODULUS = 10_000  # seats 0..9,999: one exact value is 1 ticket in 10,000
DAYS = 730  # renewals over two years: one week is 1 % of the tickets
PAGE = 25


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    filters: TicketFilters
    sort: SortField = SortField.CREATED_AT
    order: SortOrder = SortOrder.DESC
    customer: bool = False
    second_page: bool = False


def _f(*pairs: tuple[str, str], **more: Any) -> TicketFilters:
    return TicketFilters(fields=tuple(pairs), **more)


CASES = [
    Case("baseline_newest", "newest first, no filter (the list's own baseline)", TicketFilters()),
    Case("baseline_status", "status open", TicketFilters(statuses=(Status.OPEN,))),
    Case("baseline_priority", "sort=priority", TicketFilters(), sort=SortField.PRIORITY),
    Case("baseline_customer", "a customer's newest", TicketFilters(), customer=True),
    Case("select_20pct", "field.plan=gold (20 %)", _f(("bench.plan", "gold"))),
    Case(
        "select_two",
        "field.plan=gold or silver (40 %)",
        _f(("bench.plan", "gold"), ("bench.plan", "silver")),
    ),
    Case("number_exact", "field.seats=1234 (0.01 %)", _f(("bench.seats", "1234"))),
    Case("number_range_1pct", "field.seats=1000..1099 (1 %)", _f(("bench.seats", "1000..1099"))),
    Case(
        "date_week", "field.renewal one week (1 %)", _f(("bench.renewal", "2025-03-01..2025-03-07"))
    ),
    Case(
        "select_and_status",
        "field.plan=gold, status open",
        _f(("bench.plan", "gold"), statuses=(Status.OPEN,)),
    ),
    Case(
        "rare_and_priority",
        "field.seats=1234, priority urgent",
        _f(("bench.seats", "1234"), priorities=(Priority.URGENT,)),
    ),
    Case(
        "customer_select", "a customer, field.plan=gold", _f(("bench.plan", "gold")), customer=True
    ),
    Case(
        "sort_number",
        "sort=field.seats asc",
        TicketFilters(sort_field="bench.seats"),
        sort=SortField.FIELD,
        order=SortOrder.ASC,
    ),
    Case(
        "sort_number_page2",
        "sort=field.seats asc, the next page by cursor",
        TicketFilters(sort_field="bench.seats"),
        sort=SortField.FIELD,
        order=SortOrder.ASC,
        second_page=True,
    ),
    Case(
        "sort_date_desc",
        "sort=field.renewal desc",
        TicketFilters(sort_field="bench.renewal"),
        sort=SortField.FIELD,
    ),
    Case(
        "sort_and_filter",
        "sort=field.seats, status open",
        TicketFilters(sort_field="bench.seats", statuses=(Status.OPEN,)),
        sort=SortField.FIELD,
    ),
    Case(
        "customer_sort",
        "a customer, sort=field.seats",
        TicketFilters(sort_field="bench.seats"),
        sort=SortField.FIELD,
        customer=True,
    ),
]


async def _define_and_fill(database: Database) -> float | None:
    """The fields and a value of each for every ticket; None when an earlier run did."""
    async with database.writing() as session:
        found = await session.scalar(select(CustomField.id).where(CustomField.key == "bench.plan"))
        if found is not None:
            return None
        started = time.perf_counter()
        made = {}
        for key, kind, options in (
            ("bench.plan", FieldKind.SELECT, PLANS),
            ("bench.seats", FieldKind.NUMBER, []),
            ("bench.renewal", FieldKind.DATE, []),
        ):
            field = await create_field(
                session, new=FieldCreate(key=key, name=key, kind=kind, options=options)
            )
            made[key] = field.id
        postgres = session.bind.dialect.name == "postgresql"
        plan = (
            "CASE tickets.id % 5 "
            + " ".join(f"WHEN {i} THEN '{name}'" for i, name in enumerate(PLANS))
            + " END"
        )
        renewal = (
            f"DATE '2025-01-01' + (tickets.id % {DAYS})::int"
            if postgres
            else f"date('2025-01-01', '+' || (tickets.id % {DAYS}) || ' days')"
        )
        for key, column, value in (
            ("bench.plan", "text_value", plan),
            (
                "bench.seats",
                "number_value",
                f"(CAST(tickets.id AS BIGINT) * 7919) % {SEATS_MODULUS}",
            ),
            ("bench.renewal", "date_value", renewal),
        ):
            # The statement is made of this file's own constants and ids, no input.
            insert = (
                f"INSERT INTO ticket_field_values (ticket_id, field_id, {column}) "  # noqa: S608
                f"SELECT tickets.id, {made[key]}, {value} FROM tickets"
            )
            await session.execute(text(insert))
    async with database.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("ANALYZE"))
    return time.perf_counter() - started


async def _actor(database: Database, username: str) -> Actor:
    async with database.reader() as session:
        user = (await session.scalars(select(User).where(User.username == username))).one()
        return await load_actor(session, user=user)


async def _time(database: Database, actor: Actor, case: Case, repeat: int) -> dict[str, Any]:
    cursor = None
    if case.second_page:
        async with database.reader() as session:
            first = await list_and_count_tickets(
                session,
                actor=actor,
                filters=case.filters,
                sort=case.sort,
                order=case.order,
                limit=PAGE,
            )
            cursor = first.next_cursor
    times: list[float] = []
    found = None
    for _ in range(repeat + 1):  # the first run warms the caches and is not counted
        async with database.reader() as session:
            started = time.perf_counter()
            found = await list_and_count_tickets(
                session,
                actor=actor,
                filters=case.filters,
                sort=case.sort,
                order=case.order,
                limit=PAGE,
                cursor=cursor,
            )
            times.append((time.perf_counter() - started) * 1000)
    assert found is not None
    kept = sorted(times[1:])
    return {
        "case": case.name,
        "what": case.what,
        "p50_ms": round(statistics.median(kept), 2),
        "p95_ms": round(kept[min(len(kept) - 1, int(len(kept) * 0.95))], 2),
        "items": len(found.items),
        "count": f"{found.count.value}{'' if found.count.exact else '+'}",
    }


async def run(credentials: dict[str, Any], repeat: int) -> dict[str, Any]:
    # Writing three million values is one long statement per field: more than a request's
    # 30 s on PostgreSQL.
    settings = Settings(
        database_url=credentials["database_url"], database_command_timeout_seconds=1800
    )
    engine = create_engine(settings)
    database = database_for(engine)
    try:
        fill_seconds = await _define_and_fill(database)
        async with database.reader() as session:
            values = await session.scalar(select(func.count()).select_from(TicketFieldValue))
        agent = await _actor(database, credentials["tokens"]["agent"]["username"])
        customer = await _actor(database, credentials["tokens"]["customer"]["username"])
        rows = []
        for case in CASES:
            rows.append(await _time(database, customer if case.customer else agent, case, repeat))
        baseline = next(r for r in rows if r["case"] == "baseline_newest")["p50_ms"]
        for row in rows:
            row["vs_newest"] = round(row["p50_ms"] / baseline, 2)
        report = {
            "engine": engine.dialect.name,
            "tickets": credentials["tickets"],
            "values": values,
            "fill_values_seconds": None if fill_seconds is None else round(fill_seconds, 1),
            "repeat": repeat,
            "rows": rows,
        }
        return report
    finally:
        await engine.dispose()


def _markdown(report: dict[str, Any]) -> str:
    filled = report["fill_values_seconds"]
    lines = [
        f"{report['tickets']:,} tickets on {report['engine']}, {report['values']:,} field values"
        + (f" (written in {filled} s)" if filled is not None else "")
        + f"; a page of {PAGE} and its count, median of {report['repeat']} runs in process.",
        "",
        "| case | list | p50 ms | p95 ms | x newest | count |",
        "|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        cells = (r["case"], r["what"], r["p50_ms"], r["p95_ms"], r["vs_newest"], r["count"])
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--filled", type=Path, required=True, help="fill.py's credentials file")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    report = asyncio.run(run(json.loads(args.filled.read_text()), args.repeat))
    table = _markdown(report)
    print(table)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "fields.json").write_text(json.dumps(report, indent=2) + "\n")
        (args.out / "fields.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
