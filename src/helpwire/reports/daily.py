"""The reports read from the daily aggregates (reports.aggregates): a few rows a day,
whatever the number of tickets. Used for everything, for one agent, group or topic, and
for a row per agent, group or topic; the rest (accounts, several filters at once) is
read from the facts (reports.service)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.reports.aggregates import PLACES, upper_edge
from helpwire.reports.models import ReportDay, ReportDelta, ReportMonth

# Per place (0: everything, or the one filtered), or per breakdown value: measure -> bucket
# -> count.
Counts = dict[int, dict[str, Counter[int]]]


def served(filters: dict[str, int], by: str | None) -> bool:
    """Whether the aggregates answer this: at most one place, filtered or broken down."""
    if len(filters) + (by is not None) > 1:
        return False
    return all(place in PLACES for place in [*filters, *([by] if by else [])])


def periods(start: date, end: date) -> tuple[list[tuple[str, str]], tuple[str, str] | None]:
    """The range ``[start, end)`` as day ranges and whole months: the months fully inside
    it (``[first, last)`` as "YYYY-MM"), and the days before and after them."""
    first = start if start.day == 1 else _next_month(start)
    last = end.replace(day=1)
    if first >= last:
        return [(start.isoformat(), end.isoformat())], None
    days = [(a.isoformat(), b.isoformat()) for a, b in ((start, first), (last, end)) if a < b]
    return days, (first.isoformat()[:7], last.isoformat()[:7])


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


async def counts(
    session: AsyncSession,
    metrics: list[str],
    *,
    start: date,
    end: date,
    place: tuple[str, int] | None,
    by: str | None,
) -> Counts:
    """The summed counts of ``metrics`` over the days ``[start, end)``: for everything
    (key 0), for one place, or per value of ``by`` (with the tickets that have none under
    key -1: everything less the sum of the values). Whole months are read from the monthly
    counts, the days at the ends from the daily ones."""
    found: Counts = defaultdict(lambda: defaultdict(Counter))
    days, months = periods(start, end)
    parts: list[tuple[Any, Any, tuple[str, str]]] = [
        (ReportDay, ReportDay.day, span) for span in days
    ]
    if months is not None:
        parts.append((ReportMonth, ReportMonth.month, months))
    # And the changes not folded into the counts yet (a minute's worth at most).
    parts.append((ReportDelta, ReportDelta.day, (start.isoformat(), end.isoformat())))
    for table, period, (first, last) in parts:
        await _add(session, found, table, period, first, last, metrics, place=place, by=by)
    if by is not None and -1 in found:
        for key, measures in found.items():
            if key == -1:
                continue
            for metric, buckets in measures.items():
                found[-1][metric].subtract(buckets)
    return found


async def _add(
    session: AsyncSession,
    found: Counts,
    table: Any,
    period: Any,
    first: str,
    last: str,
    metrics: list[str],
    *,
    place: tuple[str, int] | None,
    by: str | None,
) -> None:
    dim, dim_id = place or ("all", 0)
    query = select(table.dim_id, table.metric, table.bucket, func.sum(table.count), table.dim)
    query = query.where(table.metric.in_(metrics), period >= first, period < last)
    if by is None:
        query = query.where(table.dim == dim, table.dim_id == dim_id)
    else:
        query = query.where(table.dim.in_([by, "all"]))
    query = query.group_by(table.dim, table.dim_id, table.metric, table.bucket)
    for row in (await session.execute(query)).tuples():
        key = (-1 if row[4] == "all" else int(row[0])) if by is not None else 0
        found[key][str(row[1])][int(row[2])] += int(row[3])


async def per_day(
    session: AsyncSession, *, start: str, end: str, place: tuple[str, int] | None
) -> dict[str, dict[str, int]]:
    """Created and solved per day (the counts, and the changes not folded into them yet)."""
    dim, dim_id = place or ("all", 0)
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for table in (ReportDay, ReportDelta):
        query = (
            select(table.day, table.metric, func.sum(table.count))
            .where(
                table.metric.in_(["created", "solved"]),
                table.dim == dim,
                table.dim_id == dim_id,
                table.day >= start,
                table.day < end,
            )
            .group_by(table.day, table.metric)
        )
        for day, metric, total in (await session.execute(query)).tuples():
            out[str(day)][str(metric)] += int(total)
    return out


def percentile(buckets: Counter[int], share: float) -> float | None:
    """The nearest-rank percentile of the times counted in ``buckets`` (its bucket's upper
    edge), or None for none."""
    total = sum(n for n in buckets.values() if n > 0)
    if not total:
        return None
    rank = max(1, math.ceil(share * total))
    seen = 0
    for bucket in sorted(buckets):
        seen += max(0, buckets[bucket])
        if seen >= rank:
            return upper_edge(bucket)
    return upper_edge(max(buckets))


def summary(buckets: Counter[int]) -> dict[str, Any]:
    return {
        "count": sum(n for n in buckets.values() if n > 0),
        "median_seconds": percentile(buckets, 0.5),
        "p90_seconds": percentile(buckets, 0.9),
    }
