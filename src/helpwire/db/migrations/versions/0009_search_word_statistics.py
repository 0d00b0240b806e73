"""PostgreSQL keeps statistics on many more words of the search index

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 06:10:00

The planner judges how many tickets hold a word from the most common words ANALYZE kept
for a tsvector column; a word not among them is taken to be about as common as the least
common one kept. With the default statistics target (100: about a thousand words kept) a
word in 200 of a million tickets was taken for one in 2,400, and newest-first search then
walked the index backwards through 127,000 tickets to fill a page (172 ms) instead of
reading the 205 matches and sorting them (3 ms). A target of 2,000 keeps some twenty
thousand words, which brings the estimate for rare words close to their count. ANALYZE
of search_tickets takes longer in proportion (about 8 s at a million tickets here), and
runs once now so that the new statistics apply from this upgrade on. SQLite: nothing
(FTS5 has no planner estimate to correct).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORD_STATISTICS_TARGET = 2000
_COLUMNS = ("public_tsv", "all_tsv")


def _set_target(target: int) -> None:
    changes = ", ".join(f"ALTER COLUMN {name} SET STATISTICS {target}" for name in _COLUMNS)
    op.execute(f"ALTER TABLE search_tickets {changes}")
    op.execute("ANALYZE search_tickets")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _set_target(WORD_STATISTICS_TARGET)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _set_target(-1)  # the server's default_statistics_target again
