"""Keeping the search index current, and turning a query into matching ticket ids."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, bindparam, false, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.search.models import SearchDocument

MAX_QUERY_TERMS = 16
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
    """The words of a query; ``word*`` asks for a prefix match."""
    terms = [Term(m.group(1).lower(), bool(m.group(2))) for m in _QUERY_TERM.finditer(q)]
    return list(dict.fromkeys(terms))[:MAX_QUERY_TERMS]


async def index_text(
    session: AsyncSession,
    *,
    ticket_id: int,
    kind: str,
    source_id: str,
    text_value: str,
    internal: bool = False,
) -> None:
    session.add(
        SearchDocument(
            ticket_id=ticket_id,
            kind=kind,
            source_id=source_id,
            internal=internal,
            body=normalize(text_value),
        )
    )


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
    else:
        row.body = normalize(text_value)


def ticket_ids_per_term(
    *, dialect: str, q: str, include_internal: bool
) -> list[Select[tuple[int]]]:
    """For each word of ``q``, the ids of tickets where it appears: in the subject, a
    comment or a file name. A ticket matches the query when it is in every set, so the
    words may be spread over its parts. Empty when ``q`` has no words."""
    return [_tickets_with(dialect, term, include_internal) for term in query_terms(q)]


def _tickets_with(dialect: str, term: Term, include_internal: bool) -> Select[tuple[int]]:
    condition: ColumnElement[bool]
    if dialect == "postgresql":
        # The word holds letters and digits only, so it is safe inside a tsquery.
        tsquery = term.word + (":*" if term.prefix else "")
        condition = func.to_tsvector(text("'simple'"), SearchDocument.body).op("@@")(
            func.to_tsquery(text("'simple'"), tsquery)
        )
    else:
        match = '"' + term.word + '"' + ("*" if term.prefix else "")
        condition = SearchDocument.id.in_(
            select(text("rowid"))
            .select_from(text("search_fts"))
            .where(
                # unique: a query of several words holds several of these parameters
                text("search_fts MATCH :match").bindparams(bindparam("match", match, unique=True))
            )
        )
    query = select(SearchDocument.ticket_id).where(condition)
    if not include_internal:
        query = query.where(SearchDocument.internal == false())
    return query
