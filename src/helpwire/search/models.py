"""The portable half of the search index.

Every searchable text (a subject, a comment body, a file name) is one row of
``search_documents``, written in the same transaction as the text itself. Searches read
``search_tickets``: one row per ticket, rebuilt from that ticket's documents whenever one of
them is written, holding what customers may search (``public_text``) apart from what only
staff may (``internal_text``: internal notes and their files). Keyed by the ticket id, which
grows with the creation time, so newest-first search walks the index in its own order and
stops after one page.

The dialect-specific half lives in the migrations: an external-content FTS5 table over
``search_tickets`` kept in step by triggers on SQLite (with the account as a third column,
so that a customer's search intersects inside FTS5), stored tsvector columns with GIN
indexes on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpwire.db.base import Base


class SearchDocument(Base):
    __tablename__ = "search_documents"
    __table_args__ = (Index("ix_search_documents_source", "kind", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # subject | comment | file
    source_id: Mapped[str] = mapped_column(String(36))
    # Internal notes are searchable by staff only.
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)


class SearchTicket(Base):
    """A ticket's searchable text, in two parts by audience."""

    __tablename__ = "search_tickets"
    __table_args__ = (Index("ix_search_tickets_account_ticket", "account_id", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # A copy of the ticket's account (which never changes), so that a customer's search
    # narrows to their account inside the index.
    account_id: Mapped[int | None] = mapped_column()
    public_text: Mapped[str] = mapped_column(Text, default="")
    internal_text: Mapped[str] = mapped_column(Text, default="")
