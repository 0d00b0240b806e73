"""a customer's lists have indexes of their own: the account with each sort and the status

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 06:15:00

A customer with account-wide access sees one account's tickets. Newest first had an index
(account, created_at); sorted by priority, status or last update, or filtered by status,
the database read every ticket of the account and sorted them for a page: 100 ms for a
customer of a 100,000-ticket account on SQLite, where the index answers in 0.2 ms. Four
indexes, built in one pass each, and on SQLite the tickets' statistics gathered again
(some seconds each at a million tickets).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_tickets_account_status_created": ["account_id", "status", "created_at", "id"],
    "ix_tickets_account_priority_rank_id": ["account_id", "priority_rank", "id"],
    "ix_tickets_account_status_rank_id": ["account_id", "status_rank", "id"],
    "ix_tickets_account_updated_at_id": ["account_id", "updated_at", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "tickets", columns)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite plans by per-index statistics, and a new index has none until the next
        # ANALYZE: meanwhile it guessed, and chose the new indexes where they are slower
        # (a plain newest-first list 14 ms -> 54 ms). PostgreSQL keeps statistics per
        # column, which the new indexes do not change.
        op.execute("ANALYZE tickets")


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
