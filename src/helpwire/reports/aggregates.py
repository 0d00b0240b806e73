"""Daily aggregates of the ticket facts, kept in step with them.

A fact contributes to a few (measure, day, bucket) counts in each of its places:
everything, its assignee, its group and its topic. When a fact changes, the counts of what
it contributed before are taken back and those of what it contributes now are added, in
the same transaction. Reply and resolution times go into logarithmic buckets 5 % wide, so
a percentile read from them is right to within 5 % (the bucket's upper edge is reported).

Accounts are not a place here: there are thousands, each with few tickets a day, so their
counts would be as many rows as the facts themselves. A report for one account reads its
facts (few), and one with a row per account reads them all.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.reports.models import ReportDay, ReportDelta, ReportMonth, TicketFact

GROWTH = 1.05
_LOG = math.log(GROWTH)
PLACES = ("agent", "group", "topic")
_INSERT_BATCH = 10_000


def bucket_of(seconds: float) -> int:
    """0 for under a second; otherwise the bucket whose upper edge is the first at or
    above ``seconds``."""
    if seconds < 1:
        return 0
    return math.ceil(math.log(seconds) / _LOG - 1e-9)


def upper_edge(bucket: int) -> float:
    """The largest time a bucket holds (seconds)."""
    return 0.0 if bucket <= 0 else GROWTH**bucket


@dataclass(frozen=True)
class Key:
    metric: str
    dim: str
    dim_id: int
    day: str
    bucket: int


def _day(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date().isoformat()


def _measures(fact: TicketFact) -> list[tuple[str, str, int]]:
    """(measure, day, bucket) the fact counts for, wherever it is."""
    out: list[tuple[str, str, int]] = []
    created = _day(fact.created_at)
    solved = _day(fact.solved_at)
    if created is not None:
        out.append(("created", created, 0))
        if fact.first_reply_seconds is not None:
            out.append(("first_reply", created, bucket_of(fact.first_reply_seconds)))
        for target, met in (
            ("sla_first_reply", fact.sla_first_reply_met),
            ("sla_next_reply", fact.sla_next_reply_met),
            ("sla_resolution", fact.sla_resolution_met),
        ):
            if met is not None:
                out.append((target, created, 1 if met else 0))
    if solved is not None:
        out.append(("solved", solved, 0))
        if fact.resolution_seconds is not None:
            out.append(("resolution", solved, bucket_of(fact.resolution_seconds)))
    rated = _day(fact.rated_at)
    if rated is not None and fact.rating_score is not None:
        out.append(("rating", rated, int(fact.rating_score)))
    return out


def contributions(fact: TicketFact | None) -> Counter[Key]:
    if fact is None:
        return Counter()
    places = [("all", 0)] + [
        (place, int(value))
        for place, value in zip(
            PLACES, (fact.assignee_id, fact.group_id, fact.topic_id), strict=True
        )
        if value is not None
    ]
    return Counter(
        Key(metric, dim, dim_id, day, bucket)
        for metric, day, bucket in _measures(fact)
        for dim, dim_id in places
    )


async def apply_change(session: AsyncSession, before: Counter[Key], after: Counter[Key]) -> None:
    """Take back what is no longer counted and count what is new: appended as deltas
    (report_deltas), which :func:`fold` adds to the counts later. Inserting only, the
    change waits for no other change's counts (an upsert of the day's "created" row made
    every create wait for the one before it to commit)."""
    delta = Counter(after)
    delta.subtract(before)
    rows = [
        {
            "metric": k.metric,
            "dim": k.dim,
            "dim_id": k.dim_id,
            "day": k.day,
            "bucket": k.bucket,
            "count": n,
        }
        for k, n in delta.items()
        if n
    ]
    if rows:
        await session.execute(insert(ReportDelta), rows)


FOLD_BATCH = 50_000


async def fold(session: AsyncSession, *, batch: int = FOLD_BATCH) -> int:
    """Add the oldest deltas to the day and month counts and drop them (each taken by one
    folder only: locked, and skipped by another); how many were folded."""
    taken = select(ReportDelta.id).order_by(ReportDelta.id).limit(batch)
    if session.bind.dialect.name == "postgresql":
        taken = taken.with_for_update(skip_locked=True)
    deleted = await session.execute(
        delete(ReportDelta)
        .where(ReportDelta.id.in_(taken.scalar_subquery()))
        .returning(
            ReportDelta.metric,
            ReportDelta.dim,
            ReportDelta.dim_id,
            ReportDelta.day,
            ReportDelta.bucket,
            ReportDelta.count,
        )
    )
    totals: Counter[Key] = Counter()
    folded = 0
    for metric, dim, dim_id, day, bucket, count in deleted.tuples():
        totals[Key(metric, dim, dim_id, day, bucket)] += count
        folded += 1
    await add_counts(session, totals.items())
    return folded


def _rows(counts: Iterable[tuple[Key, int]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The day rows, and the month rows the same counts add up to."""
    days: list[dict[str, Any]] = []
    months: Counter[tuple[str, str, int, str, int]] = Counter()
    for k, n in counts:
        if not n:
            continue
        days.append(
            {
                "metric": k.metric,
                "dim": k.dim,
                "dim_id": k.dim_id,
                "day": k.day,
                "bucket": k.bucket,
                "count": n,
            }
        )
        months[(k.metric, k.dim, k.dim_id, k.day[:7], k.bucket)] += n
    month_rows = [
        {"metric": m, "dim": d, "dim_id": i, "month": month, "bucket": b, "count": n}
        for (m, d, i, month, b), n in months.items()
        if n
    ]
    return days, month_rows


async def add_counts(session: AsyncSession, counts: Iterable[tuple[Key, int]]) -> None:
    """Add to the day and month counts, one statement each (a row made where there was
    none)."""
    days, months = _rows(counts)
    dialect = session.bind.dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    tables: tuple[tuple[Any, list[dict[str, Any]], str], ...] = (
        (ReportDay, days, "day"),
        (ReportMonth, months, "month"),
    )
    for table, rows, period in tables:
        if not rows:
            continue
        statement = upsert(table).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=["metric", "dim", "dim_id", period, "bucket"],
            set_={"count": table.count + statement.excluded.count},
        )
        await session.execute(statement)


async def rebuild(session: AsyncSession, *, batch: int = 20_000) -> int:
    """Count every fact again from nothing (after a migration, or to repair); how many
    facts were counted."""
    await session.execute(delete(ReportDay))
    await session.execute(delete(ReportMonth))
    # What the facts say now includes every change the deltas hold.
    await session.execute(delete(ReportDelta))
    totals: Counter[Key] = Counter()
    after_id = 0
    counted = 0
    while True:
        facts = list(
            await session.scalars(
                select(TicketFact)
                .where(TicketFact.ticket_id > after_id)
                .order_by(TicketFact.ticket_id)
                .limit(batch)
            )
        )
        if not facts:
            break
        for fact in facts:
            totals.update(contributions(fact))
        after_id = facts[-1].ticket_id
        counted += len(facts)
        session.expunge_all()
    days, months = _rows(totals.items())
    for table, rows in ((ReportDay, days), (ReportMonth, months)):
        for start in range(0, len(rows), _INSERT_BATCH):
            await session.execute(insert(table), rows[start : start + _INSERT_BATCH])
    return counted
