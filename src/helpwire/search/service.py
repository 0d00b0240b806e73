"""Keeping the search index current, and turning a query into matching ticket ids."""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Select, false, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.search.models import SearchDocument

MAX_QUERY_TERMS = 16
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalize(value: str) -> str:
    """Words only. Both engines then split text the same way: 'crash-report.log' is
    the three words crash, report, log on SQLite and PostgreSQL alike."""
    return _NON_WORD.sub(" ", value).strip().lower()


def query_terms(q: str) -> list[str]:
    return normalize(q).split()[:MAX_QUERY_TERMS]


async def index_text(
    session: AsyncSession, *, ticket_id: int, kind: str, source_id: str, text_value: str,
    internal: bool = False,
) -> None:
    session.add(
        SearchDocument(
            ticket_id=ticket_id, kind=kind, source_id=source_id, internal=internal,
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


def matching_ticket_ids(
    *, dialect: str, q: str, include_internal: bool
) -> Select[tuple[int]] | None:
    """Ids of tickets with a document holding every term of ``q``; None when ``q`` has no
    words at all. Every term must appear in one document (subject, comment or file name)."""
    terms = query_terms(q)
    if not terms:
        return None
    condition: ColumnElement[bool]
    if dialect == "postgresql":
        condition = func.to_tsvector(text("'simple'"), SearchDocument.body).op("@@")(
            func.plainto_tsquery(text("'simple'"), " ".join(terms))
        )
        query = select(SearchDocument.ticket_id).where(condition)
    else:
        match = " ".join('"' + term.replace('"', '""') + '"' for term in terms)
        query = select(SearchDocument.ticket_id).where(
            SearchDocument.id.in_(
                select(text("rowid")).select_from(text("search_fts")).where(
                    text("search_fts MATCH :match").bindparams(match=match)
                )
            )
        )
    if not include_internal:
        query = query.where(SearchDocument.internal == false())
    return query
