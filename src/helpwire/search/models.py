"""The portable half of the search index.

Every searchable text (a subject, a comment body, a file name) is one row here, written in
the same transaction as the text itself. The dialect-specific half lives in the migration:
an FTS5 table kept in step by triggers on SQLite, a GIN expression index on PostgreSQL.
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
