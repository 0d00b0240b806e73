"""Keeping the search index current, and turning a query into matching ticket ids."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    FromClause,
    Integer,
    and_,
    bindparam,
    case,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.db.engine import RANDOM_PAGE_COST
from helpwire.problems import ValidationProblem
from helpwire.search.models import SearchDocument, SearchTicket

# Every word is a set of tickets to intersect, and a short prefix is a set as large as the
# table: sixteen one-letter prefixes kept PostgreSQL busy for seconds. Hence the limits,
# and a time limit for what still slips through.
MAX_QUERY_TERMS = 8
MIN_PREFIX_LENGTH = 3
SEARCH_TIMEOUT_MS = 3_000
_QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement_timeout
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_QUERY_TERM = re.compile(r"([^\W_]+)(\*?)", re.UNICODE)


def normalize(value: str) -> str:
    """Words only, lower-cased. Both engines then split text the same way:
    'crash-report.log' is the three words crash, report, log on SQLite and PostgreSQL."""
    return _NON_WORD.sub(" ", value).strip().lower()


@dataclass(frozen=True)
class Term:
    word: str
    prefix: bool  # the user wrote word*: match every word starting with it


def query_terms(q: str) -> list[Term]:
    """The words of a query; ``word*`` asks for a prefix match. A query of more than
    MAX_QUERY_TERMS different words, or with a prefix shorter than MIN_PREFIX_LENGTH, is
    a 422 naming ``q``."""
    terms = [Term(m.group(1).lower(), bool(m.group(2))) for m in _QUERY_TERM.finditer(q)]
    terms = list(dict.fromkeys(terms))
    if len(terms) > MAX_QUERY_TERMS:
        raise ValidationProblem.for_field(
            "q", f"may hold at most {MAX_QUERY_TERMS} different words", "too_many_words"
        )
    short = [t.word for t in terms if t.prefix and len(t.word) < MIN_PREFIX_LENGTH]
    if short:
        raise ValidationProblem.for_field(
            "q",
            f"a prefix search needs at least {MIN_PREFIX_LENGTH} characters before the *: "
            + ", ".join(f"{word}*" for word in short),
            "prefix_too_short",
        )
    return terms


def add_text(
    session: AsyncSession,
    *,
    ticket_id: int,
    kind: str,
    source_id: str,
    text_value: str,
    internal: bool = False,
) -> None:
    """Record one text of the ticket, without touching its row of search_tickets: the
    caller then calls append_to_ticket_document (or refresh_ticket_document) once it has
    added all the texts it writes (a comment and its file names)."""
    body = normalize(text_value)
    session.add(
        SearchDocument(
            ticket_id=ticket_id, kind=kind, source_id=source_id, internal=internal, body=body
        )
    )
    _pending_texts(session).setdefault(ticket_id, []).append((internal, body))


# Texts added since the ticket's row was last written, per ticket id, kept on the session
# (one transaction): appended to the row as they are, in the order they were added, which
# is the order of their documents' ids that a rebuild joins them in.
_PENDING_KEY = "helpwire.search.pending_texts"


def _pending_texts(session: AsyncSession) -> dict[int, list[tuple[bool, str]]]:
    pending: dict[int, list[tuple[bool, str]]] = session.info.setdefault(_PENDING_KEY, {})
    return pending


def _joined(texts: list[tuple[bool, str]], *, internal: bool) -> str:
    return " ".join(body for is_internal, body in texts if is_internal == internal)


async def append_to_ticket_document(
    session: AsyncSession, *, ticket_id: int, account_id: int | None, new_ticket: bool
) -> None:
    """Add the texts added since the last call to the ticket's row of search_tickets,
    without reading its other texts again: a new ticket's row is inserted with them, a
    later comment's words are appended (the row grows as the conversation does, and a
    rebuild would read the whole conversation for every comment)."""
    texts = _pending_texts(session).pop(ticket_id, [])
    public, internal_only = _joined(texts, internal=False), _joined(texts, internal=True)
    if new_ticket:
        _add_row(session, ticket_id, account_id, public, internal_only)
        return
    values = {
        name: _appended(getattr(SearchTicket, name), words)
        for name, words in (("public_text", public), ("internal_text", internal_only))
        if words
    }
    if not values:
        return
    result = await session.execute(
        update(SearchTicket)
        .where(SearchTicket.ticket_id == ticket_id)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) == 0:
        # No row yet (a ticket from before the index kept one per ticket): build it whole.
        await refresh_ticket_document(session, ticket_id)


def _add_row(
    session: AsyncSession, ticket_id: int, account_id: int | None, public: str, internal: str
) -> None:
    session.add(
        SearchTicket(
            ticket_id=ticket_id, account_id=account_id, public_text=public, internal_text=internal
        )
    )


def _appended(current: Any, words: str) -> ColumnElement[str]:
    """``current`` with ``words`` after it, separated by a space as a rebuild joins them."""
    return case((current == "", words), else_=current + " " + words)


async def index_text(
    session: AsyncSession,
    *,
    ticket_id: int,
    kind: str,
    source_id: str,
    text_value: str,
    internal: bool = False,
) -> None:
    """Record one text of the ticket and rebuild its row of search_tickets."""
    add_text(
        session,
        ticket_id=ticket_id,
        kind=kind,
        source_id=source_id,
        text_value=text_value,
        internal=internal,
    )
    await refresh_ticket_document(session, ticket_id)


async def reindex_text(
    session: AsyncSession, *, ticket_id: int, kind: str, source_id: str, text_value: str
) -> None:
    row = await session.scalar(
        select(SearchDocument).where(
            SearchDocument.kind == kind, SearchDocument.source_id == source_id
        )
    )
    if row is None:
        await index_text(
            session, ticket_id=ticket_id, kind=kind, source_id=source_id, text_value=text_value
        )
        return
    row.body = normalize(text_value)
    await refresh_ticket_document(session, ticket_id)


async def move_texts(
    session: AsyncSession,
    *,
    from_ticket_id: int,
    to_ticket_id: int,
    comment_ids: Sequence[int] | None,
    file_ids: Sequence[str] = (),
) -> None:
    """The texts of comments that moved to another ticket (a merge, a split), and of their
    files, go with them: ``comment_ids`` and ``file_ids``, or with None every comment and
    file text of the ticket. Both tickets' rows are rebuilt, in the caller's transaction."""
    moved: ColumnElement[bool] = SearchDocument.kind.in_(("comment", "file"))
    if comment_ids is not None:
        moved = or_(
            and_(
                SearchDocument.kind == "comment",
                SearchDocument.source_id.in_([str(i) for i in comment_ids]),
            ),
            and_(SearchDocument.kind == "file", SearchDocument.source_id.in_(list(file_ids))),
        )
    await session.execute(
        update(SearchDocument)
        .where(SearchDocument.ticket_id == from_ticket_id, moved)
        .values(ticket_id=to_ticket_id)
        .execution_options(synchronize_session=False)
    )
    await refresh_ticket_document(session, from_ticket_id)
    await refresh_ticket_document(session, to_ticket_id)


async def refresh_ticket_document(session: AsyncSession, ticket_id: int) -> None:
    """Rebuild the ticket's row of search_tickets from its texts, in the caller's
    transaction: searchable the moment the text is. Reads all of its texts; where the
    caller only added texts, append_to_ticket_document does without that read."""
    _pending_texts(session).pop(ticket_id, None)  # the rebuild includes them
    await session.flush()
    texts = (
        await session.execute(
            select(SearchDocument.internal, SearchDocument.body)
            .where(SearchDocument.ticket_id == ticket_id)
            .order_by(SearchDocument.id)
        )
    ).all()
    pairs = [(internal, body) for internal, body in texts]
    public, internal_only = _joined(pairs, internal=False), _joined(pairs, internal=True)
    row = await session.get(SearchTicket, ticket_id)
    if row is None:
        account_id = await session.scalar(
            select(_TICKETS.c.account_id).where(_TICKETS.c.id == ticket_id)
        )
        _add_row(session, ticket_id, account_id, public, internal_only)
    else:
        row.public_text, row.internal_text = public, internal_only
    await session.flush()


@dataclass(frozen=True)
class TicketSearch:
    """How a ticket list searches: join ``table`` where ``key`` is the ticket id, and keep
    the rows ``where`` holds. Newest first is ``key`` descending, the index's own order;
    ``score`` is the relevance, larger is better.

    Where ``rank`` is given, the score may also be computed outside the query that finds
    the matches, from ``vector`` (a column of ``table``) carried out of it: ``rank(v)`` is
    the score of a carried ``v``. PostgreSQL computed a score for every match before
    keeping the newest candidates (ts_rank of 10,069 matches to keep 1,000: 130 of 170 ms).
    SQLite's score (bm25) exists only inside the MATCH query, so ``rank`` is None there."""

    table: FromClause
    where: ColumnElement[bool]
    key: ColumnElement[int]
    score: ColumnElement[float]
    # What to join the tickets' id to: ``key``, or on PostgreSQL ``key + 0``, which keeps
    # the planner from a merge join with the tickets' primary key. That join walked every
    # ticket backwards for a rare word with fewer matches than a page (55 ms against 6 ms at
    # 100,000 tickets); now it reads the matches and looks up their tickets.
    join_key: ColumnElement[int]
    vector: ColumnElement[Any] | None = None
    rank: Callable[[ColumnElement[Any]], ColumnElement[float]] | None = None


# Named, not imported: the tickets package imports this one.
_TICKETS = table("tickets", column("id", Integer), column("account_id", Integer))
# The dialect-specific halves (see search/models.py), as the queries name them.
_FTS = table("search_fts_tickets", column("rowid", Integer))
_PG = table(
    "search_tickets",
    column("ticket_id", Integer),
    column("account_id", Integer),
    column("public_tsv"),
    column("all_tsv"),
)


def ticket_search(
    *, dialect: str, q: str, include_internal: bool, account_id: int | None
) -> TicketSearch | None:
    """The search for ``q``: tickets holding every word of it somewhere in their text
    (subject, comments, file names; internal notes too with ``include_internal``), the
    words possibly in different parts. ``account_id`` narrows to one account's tickets
    inside the index (a customer's search). None when ``q`` has no words."""
    terms = query_terms(q)
    if not terms:
        return None
    if dialect == "postgresql":
        return _postgresql_search(terms, include_internal, account_id)
    return _sqlite_search(terms, include_internal, account_id)


def _postgresql_search(
    terms: list[Term], include_internal: bool, account_id: int | None
) -> TicketSearch:
    # The words hold letters and digits only, so they are safe inside a tsquery.
    tsquery = " & ".join(t.word + (":*" if t.prefix else "") for t in terms)
    query = func.to_tsquery(text("'simple'"), bindparam("tsquery", tsquery, unique=True))
    vector = _PG.c.all_tsv if include_internal else _PG.c.public_tsv

    def rank(words: ColumnElement[Any]) -> ColumnElement[float]:
        return func.ts_rank(words, query, type_=Float)

    where: ColumnElement[bool] = vector.op("@@")(query)
    if account_id is not None:
        where = and_(where, _PG.c.account_id == account_id)
    return TicketSearch(
        table=_PG,
        where=where,
        key=_PG.c.ticket_id,
        join_key=_PG.c.ticket_id + 0,
        score=rank(vector),
        vector=vector,
        rank=rank,
    )


def _sqlite_search(
    terms: list[Term], include_internal: bool, account_id: int | None
) -> TicketSearch:
    words = " AND ".join('"' + t.word + '"' + ("*" if t.prefix else "") for t in terms)
    columns = "{public_text internal_text}" if include_internal else "public_text"
    match = f"{columns} : ({words})"
    if account_id is not None:
        match += f' AND account_id : "{account_id}"'
    return TicketSearch(
        table=_FTS,
        where=literal_column("search_fts_tickets").op("MATCH", is_comparison=True)(
            bindparam("match", match, unique=True)
        ),
        key=_FTS.c.rowid,
        join_key=_FTS.c.rowid,
        # bm25() is smaller for better matches; the account column does not count.
        score=-func.bm25(literal_column("search_fts_tickets"), 1.0, 1.0, 0.0),
    )


@asynccontextmanager
async def search_time_limit(
    session: AsyncSession, *, active: bool, timeout_ms: int = SEARCH_TIMEOUT_MS
) -> AsyncIterator[None]:
    """Bound the database time of the statements inside to ``timeout_ms``, and turn running
    out of it into a 422 on ``q``: a statement_timeout local to the transaction on
    PostgreSQL (put back afterwards, so that nothing else in a longer transaction inherits
    it), an interrupt of the connection's running statement on SQLite. On PostgreSQL the
    same round trip plans the statements inside with SEARCH_RANDOM_PAGE_COST, put back
    with the timeout."""
    dialect = session.bind.dialect.name
    if not active or dialect not in ("postgresql", "sqlite"):
        yield
        return
    limit = _search_settings if dialect == "postgresql" else _interrupt_after
    try:
        async with limit(session, timeout_ms):
            yield
    except DBAPIError as exc:
        if not _ran_out_of_time(exc):
            raise
        # The statement is gone (on PostgreSQL the whole transaction is): the caller's
        # rollback ends it.
        raise ValidationProblem.for_field(
            "q",
            f"took longer than {timeout_ms / 1000:g} s to search; "
            "use rarer words or longer prefixes, or add filters",
            "search_timeout",
        ) from None


def _ran_out_of_time(exc: DBAPIError) -> bool:
    return (
        getattr(exc.orig, "sqlstate", None) == _QUERY_CANCELED
        or getattr(exc.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_INTERRUPT
    )


# The connection asks for this cost already (db/engine.py); set again for the search in
# case a pooler between helpwire and PostgreSQL dropped the connection's startup settings:
# with the default (4, a spinning disk), a customer's search joined the whole account's
# tickets by hash (25 ms at 100,000 tickets) rather than look up its 900 matches (6 ms).
SEARCH_RANDOM_PAGE_COST = RANDOM_PAGE_COST
_SET_SEARCH_SETTINGS = text(
    # One round trip reads the settings and sets the search's own, local to the
    # transaction (the CTE's row, read first, holds the values from before).
    "WITH previous AS MATERIALIZED (SELECT current_setting('statement_timeout') AS timeout,"
    " current_setting('random_page_cost') AS page_cost)"
    " SELECT timeout, page_cost FROM previous"
    " WHERE set_config('statement_timeout', :timeout, true) IS NOT NULL"
    " AND set_config('random_page_cost', :page_cost, true) IS NOT NULL"
)
_RESTORE_SETTINGS = text(
    "SELECT set_config('statement_timeout', :timeout, true),"
    " set_config('random_page_cost', :page_cost, true)"
)


@asynccontextmanager
async def _search_settings(session: AsyncSession, timeout_ms: int) -> AsyncIterator[None]:
    """The search's statement_timeout and random_page_cost, put back afterwards."""
    previous = (
        await session.execute(
            _SET_SEARCH_SETTINGS,
            {"timeout": f"{timeout_ms}ms", "page_cost": SEARCH_RANDOM_PAGE_COST},
        )
    ).one()
    yield
    # Not reached when the block failed: the transaction is aborted and takes it along.
    await session.execute(
        _RESTORE_SETTINGS, {"timeout": previous.timeout, "page_cost": previous.page_cost}
    )


@asynccontextmanager
async def _interrupt_after(session: AsyncSession, timeout_ms: int) -> AsyncIterator[None]:
    # SQLite has no statement timeout, but sqlite3_interrupt() may be called from any
    # thread and stops the connection's running statement ("interrupted").
    connection = await session.connection()
    driver: Any = (await connection.get_raw_connection()).driver_connection  # aiosqlite
    interrupts: list[asyncio.Task[None]] = []

    def interrupt() -> None:
        interrupts.append(asyncio.ensure_future(driver.interrupt()))

    timer = asyncio.get_running_loop().call_later(timeout_ms / 1000, interrupt)
    try:
        yield
    finally:
        # Nothing may outlive the block: a late interrupt would hit whoever uses the
        # pooled connection next. (Once it has started, an interrupt is already done.)
        timer.cancel()
        for task in interrupts:
            task.cancel()
