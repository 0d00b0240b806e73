"""The reports: what the API answers and the admin pages draw.

Every report reads ``ticket_facts`` over a date range through an index on the range's
time (created, solved or rated), narrowed by an agent, group, topic or account, and can be
broken down by one of them. Days are UTC days.
"""

from __future__ import annotations

import enum
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import Account, User
from helpwire.groups.models import Group
from helpwire.problems import ValidationProblem
from helpwire.reports import daily
from helpwire.reports.models import TicketFact
from helpwire.tickets.models import Ticket
from helpwire.topics.models import Topic

MAX_DAYS = 1096  # three years
DEFAULT_DAYS = 30
MAX_COMMENTS = 50


class ReportName(enum.StrEnum):
    TICKETS = "tickets"  # created and solved per day
    TIMES = "times"  # first reply and resolution, median and p90
    SLA = "sla"  # achievement per target
    CSAT = "csat"  # satisfaction: average, distribution, comments


class Dimension(enum.StrEnum):
    AGENT = "agent"
    GROUP = "group"
    TOPIC = "topic"
    ACCOUNT = "account"


# dimension -> (the fact's column, the named table, its name column)
_DIMENSIONS: dict[Dimension, tuple[Any, Any, Any]] = {
    Dimension.AGENT: (TicketFact.assignee_id, User, User.username),
    Dimension.GROUP: (TicketFact.group_id, Group, Group.key),
    Dimension.TOPIC: (TicketFact.topic_id, Topic, Topic.key),
    Dimension.ACCOUNT: (TicketFact.account_id, Account, Account.key),
}


@dataclass(frozen=True)
class ReportQuery:
    start: date
    end: date  # exclusive
    filters: dict[Dimension, str]  # dimension -> username or key
    by: Dimension | None = None

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end, time(), tzinfo=UTC)


def report_query(
    *,
    start: date | None,
    end: date | None,
    filters: dict[Dimension, str],
    by: Dimension | None,
    today: date,
) -> ReportQuery:
    """The range (by default the last 30 days up to today, inclusive), checked."""
    end = end or today + timedelta(days=1)
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if end <= start:
        raise ValidationProblem.for_field("end", "must be after start")
    if (end - start).days > MAX_DAYS:
        raise ValidationProblem.for_field("start", f"a report covers at most {MAX_DAYS} days")
    return ReportQuery(start=start, end=end, filters=filters, by=by)


def _narrowed(query: Select[Any], ids: dict[Dimension, int]) -> Select[Any]:
    """``query`` narrowed by the filters' ids (resolved once per report, :func:`place_ids`)."""
    for dimension, found in ids.items():
        query = query.where(_DIMENSIONS[dimension][0] == found)
    return query


async def _names(session: AsyncSession, dimension: Dimension, ids: set[int]) -> dict[int, str]:
    _column, table, name_column = _DIMENSIONS[dimension]
    if not ids:
        return {}
    rows = await session.execute(select(table.id, name_column).where(table.id.in_(ids)))
    return {int(i): str(n) for i, n in rows.tuples()}


def _day(session: AsyncSession, column: Any) -> Any:
    if session.bind.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)  # stored as "YYYY-MM-DD HH:MM:SS" in UTC


async def tickets_per_day(
    session: AsyncSession, q: ReportQuery, ids: dict[Dimension, int]
) -> dict[str, Any]:
    """Tickets created and solved on each day of the range (days without any included)."""
    counts: dict[str, dict[str, int]] = {
        (q.start + timedelta(days=i)).isoformat(): {"created": 0, "solved": 0}
        for i in range((q.end - q.start).days)
    }
    for label, column in (("created", TicketFact.created_at), ("solved", TicketFact.solved_at)):
        day = _day(session, column)
        query = _narrowed(
            select(day, func.count()).where(column >= q.since, column < q.until).group_by(day),
            ids,
        )
        for value, count in (await session.execute(query)).tuples():
            if value in counts:
                counts[value][label] = int(count)
    days = [{"day": day, **values} for day, values in counts.items()]
    return {
        "days": days,
        "created": sum(d["created"] for d in days),
        "solved": sum(d["solved"] for d in days),
    }


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted ``values`` (None for none)."""
    if not values:
        return None
    rank = max(1, math.ceil(share * len(values)))
    return float(values[rank - 1])


def _summary(values: Sequence[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "median_seconds": percentile(values, 0.5),
        "p90_seconds": percentile(values, 0.9),
    }


async def _sorted_values(
    session: AsyncSession, q: ReportQuery, ids: dict[Dimension, int], value: Any, moment: Any
) -> dict[int | None, list[float]]:
    """The values of tickets whose ``moment`` falls in the range, sorted, per breakdown
    (one group, None, without ``by``)."""
    key = _DIMENSIONS[q.by][0] if q.by is not None else None
    columns = [value] if key is None else [value, key]
    query = _narrowed(
        select(*columns)
        .where(moment >= q.since, moment < q.until, value.is_not(None))
        .order_by(value),
        ids,
    )
    grouped: dict[int | None, list[float]] = defaultdict(list)
    for row in (await session.execute(query)).tuples():
        grouped[row[1] if key is not None else None].append(float(row[0]))
    return grouped


async def reply_times(
    session: AsyncSession, q: ReportQuery, ids: dict[Dimension, int]
) -> dict[str, Any]:
    """First reply (tickets created in the range) and resolution (tickets solved in it):
    count, median and 90th percentile, in working seconds (see TicketFact)."""
    first = await _sorted_values(
        session, q, ids, TicketFact.first_reply_seconds, TicketFact.created_at
    )
    resolved = await _sorted_values(
        session, q, ids, TicketFact.resolution_seconds, TicketFact.solved_at
    )
    return await _broken_down(
        session,
        q,
        {"first_reply": first, "resolution": resolved},
        lambda parts: {name: _summary(values) for name, values in parts.items()},
        list,
    )


Part = TypeVar("Part", list[float], Counter[bool])


async def _broken_down(
    session: AsyncSession,
    q: ReportQuery,
    parts: dict[str, dict[int | None, Part]],
    summarise: Callable[[dict[str, Part]], dict[str, Any]],
    empty: Callable[[], Part],
) -> dict[str, Any]:
    """One summary, or one per value of ``q.by`` (grouped by the facts' id, None for the
    tickets with none), of what each part holds for it."""
    if q.by is None:
        return summarise({name: grouped.get(None, empty()) for name, grouped in parts.items()})
    keys = {k for grouped in parts.values() for k in grouped}
    names = await _names(session, q.by, {k for k in keys if k is not None})
    rows = [
        {
            q.by.value: names.get(k) if k is not None else None,
            **summarise({n: g.get(k, empty()) for n, g in parts.items()}),
        }
        for k in sorted(keys, key=lambda k: (k is None, names.get(k or 0, "")))
    ]
    return {"by": q.by.value, "rows": rows}


_SLA_TARGETS = {
    "first_reply": TicketFact.sla_first_reply_met,
    "next_reply": TicketFact.sla_next_reply_met,
    "resolution": TicketFact.sla_resolution_met,
}


async def sla_achievement(
    session: AsyncSession, q: ReportQuery, ids: dict[Dimension, int]
) -> dict[str, Any]:
    """Per target, of tickets created in the range: met, breached, and the share met of
    those decided."""
    parts: dict[str, dict[int | None, Counter[bool]]] = {}
    for target, column in _SLA_TARGETS.items():
        parts[target] = await _counted_flags(session, q, ids, column)
    return await _broken_down(session, q, parts, _achievement, Counter)


async def _counted_flags(
    session: AsyncSession, q: ReportQuery, ids: dict[Dimension, int], column: Any
) -> dict[int | None, Counter[bool]]:
    key = _DIMENSIONS[q.by][0] if q.by is not None else None
    columns = [column, func.count()] if key is None else [column, key, func.count()]
    query = _narrowed(
        select(*columns)
        .where(
            TicketFact.created_at >= q.since, TicketFact.created_at < q.until, column.is_not(None)
        )
        .group_by(*columns[:-1]),
        ids,
    )
    grouped: dict[int | None, Counter[bool]] = defaultdict(Counter)
    for row in (await session.execute(query)).tuples():
        met, group_key, count = (
            (row[0], row[1], row[2]) if key is not None else (row[0], None, row[1])
        )
        grouped[group_key][bool(met)] += int(count)
    return grouped


def _achievement(parts: dict[str, Counter[bool]]) -> dict[str, Any]:
    """Per target, from how many were met (True) and breached (False)."""
    out: dict[str, Any] = {}
    for target, flags in parts.items():
        met, breached = max(0, flags[True]), max(0, flags[False])
        decided = met + breached
        out[target] = {
            "met": met,
            "breached": breached,
            "achieved_percent": round(100 * met / decided, 1) if decided else None,
        }
    return out


async def satisfaction(
    session: AsyncSession, q: ReportQuery, ids: dict[Dimension, int]
) -> dict[str, Any]:
    """Ratings given in the range: count, average, how many of each score, and the latest
    comments."""
    scores = await _sorted_values(session, q, ids, TicketFact.rating_score, TicketFact.rated_at)
    result = await _broken_down(
        session,
        q,
        {"scores": scores},
        lambda parts: _csat(Counter(map(int, parts["scores"]))),
        list,
    )
    result["comments"] = await _comments(session, q, ids)
    return result


def _csat(scores: Counter[int]) -> dict[str, Any]:
    """From how many ratings gave each score."""
    given = {score: n for score, n in scores.items() if n > 0}
    count = sum(given.values())
    return {
        "count": count,
        "average": round(sum(s * n for s, n in given.items()) / count, 2) if count else None,
        "distribution": {str(s): given.get(s, 0) for s in range(1, 6)},
    }


async def _comments(
    session: AsyncSession, q: ReportQuery, ids: dict[Dimension, int]
) -> list[dict[str, Any]]:
    query = _narrowed(
        select(Ticket.number, Ticket.rating_score, Ticket.rating_comment, TicketFact.rated_at)
        .join(Ticket, Ticket.id == TicketFact.ticket_id)
        .where(
            TicketFact.rated_at >= q.since,
            TicketFact.rated_at < q.until,
            Ticket.rating_comment.is_not(None),
            Ticket.rating_comment != "",
        )
        .order_by(TicketFact.rated_at.desc())
        .limit(MAX_COMMENTS),
        ids,
    )
    return [
        {"ticket": number, "score": score, "comment": comment, "rated_at": rated_at}
        for number, score, comment, rated_at in (await session.execute(query)).tuples()
    ]


REPORTS = {
    ReportName.TICKETS: tickets_per_day,
    ReportName.TIMES: reply_times,
    ReportName.SLA: sla_achievement,
    ReportName.CSAT: satisfaction,
}


# No row has this id: a filter by a name that matches nothing gives empty numbers.
NOTHING = -1


async def place_ids(session: AsyncSession, q: ReportQuery) -> dict[Dimension, int]:
    """The filters' ids, each looked up once per report (NOTHING for an unknown name)."""
    ids: dict[Dimension, int] = {}
    for dimension, name in q.filters.items():
        _column, table, name_column = _DIMENSIONS[dimension]
        found = await session.scalar(select(table.id).where(name_column == name))
        ids[dimension] = NOTHING if found is None else int(found)
    return ids


async def _from_aggregates(
    session: AsyncSession, name: ReportName, q: ReportQuery, ids: dict[Dimension, int]
) -> dict[str, Any] | None:
    """The report from the daily aggregates, when they answer it (None otherwise)."""
    places = {dimension.value: found for dimension, found in ids.items()}
    by = q.by.value if q.by is not None else None
    if not daily.served(places, by):
        return None
    place = next(iter(places.items()), None)
    start, end = q.start.isoformat(), q.end.isoformat()
    if name == ReportName.TICKETS:
        days = await daily.per_day(session, start=start, end=end, place=place)
        return _days_body(q, days)
    metrics, summarise = _AGGREGATED[name]
    found = await daily.counts(session, metrics, start=q.start, end=q.end, place=place, by=by)
    if q.by is None:
        return summarise(found.get(0, {}))
    column = q.by.value
    names = await _names(session, q.by, {k for k in found if k >= 0})
    rows = [
        {column: names.get(key) if key >= 0 else None, **summarise(measures)}
        for key, measures in found.items()
        if any(n > 0 for buckets in measures.values() for n in buckets.values())
    ]
    rows.sort(key=lambda row: (row[column] is None, str(row[column] or "")))
    return {"by": column, "rows": rows}


def _days_body(q: ReportQuery, days: dict[str, dict[str, int]]) -> dict[str, Any]:
    listed = [
        {
            "day": day,
            "created": days.get(day, {}).get("created", 0),
            "solved": days.get(day, {}).get("solved", 0),
        }
        for day in (
            (q.start + timedelta(days=i)).isoformat() for i in range((q.end - q.start).days)
        )
    ]
    return {
        "days": listed,
        "created": sum(d["created"] for d in listed),
        "solved": sum(d["solved"] for d in listed),
    }


def _times_from(measures: dict[str, Counter[int]]) -> dict[str, Any]:
    return {m: daily.summary(measures.get(m, Counter())) for m in ("first_reply", "resolution")}


def _sla_from(measures: dict[str, Counter[int]]) -> dict[str, Any]:
    """Bucket 1 counts the targets met, bucket 0 those breached."""
    outcomes = {t: measures.get(f"sla_{t}", Counter()) for t in _SLA_TARGETS}
    return _achievement({t: Counter({True: c[1], False: c[0]}) for t, c in outcomes.items()})


def _csat_from(measures: dict[str, Counter[int]]) -> dict[str, Any]:
    return _csat(measures.get("rating", Counter()))


_AGGREGATED: dict[
    ReportName, tuple[list[str], Callable[[dict[str, Counter[int]]], dict[str, Any]]]
] = {
    ReportName.TIMES: (["first_reply", "resolution"], _times_from),
    ReportName.SLA: ([f"sla_{t}" for t in ("first_reply", "next_reply", "resolution")], _sla_from),
    ReportName.CSAT: (["rating"], _csat_from),
}


async def run_report(session: AsyncSession, name: ReportName, q: ReportQuery) -> dict[str, Any]:
    """The report: from the daily aggregates where they answer it (everything, one agent,
    group or topic, or a row per one of them), otherwise from the facts."""
    if name == ReportName.TICKETS and q.by is not None:
        raise ValidationProblem.for_field("by", "the tickets report is per day; filter instead")
    ids = await place_ids(session, q)
    body = await _from_aggregates(session, name, q, ids)
    if body is None:
        body = await REPORTS[name](session, q, ids)
    elif name == ReportName.CSAT:
        body["comments"] = await _comments(session, q, ids)
    return {
        "report": name.value,
        "start": q.start.isoformat(),
        "end": q.end.isoformat(),
        "filters": {d.value: v for d, v in q.filters.items()},
        **body,
    }
