"""the channel a ticket was filed through is a column: tickets.via

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:00:00

`via` ("api", "web" or a face's name) was a key of the JSON column `context`, yet the ticket
list filters by it and the faces' rate limits count by it: as a column, each has an index.
Existing tickets take their context's value in lower case (what the filter and the faces
compare with); a missing or empty one is "api", as the answers always showed it. The key
leaves `context`, so that the value is kept in one place; the downgrade puts it back.

The tickets table is altered in place on SQLite as well (ADD and DROP COLUMN, no batch
rebuild): dropping the old table of a rebuild would cascade-delete the tickets' comments,
events, tags and search documents. Dropping the column again needs SQLite 3.35 or newer.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    # The list's `via` filter in the default order (newest first), like the other filters.
    "ix_tickets_via_created": ["via", "created_at", "id"],
    # A face's rate limit: one requester's tickets through one channel since a moment.
    "ix_tickets_requester_via_created": ["requester_id", "via", "created_at"],
}

# Each engine's JSON functions; `context` is JSONB on PostgreSQL, JSON text on SQLite.
BACKFILL = {
    "postgresql": """
        UPDATE tickets
        SET via = COALESCE(NULLIF(lower(context ->> 'via'), ''), 'api'),
            context = context - 'via'
        WHERE jsonb_typeof(context) = 'object' AND context -> 'via' IS NOT NULL
    """,
    "sqlite": """
        UPDATE tickets
        SET via = COALESCE(NULLIF(lower(json_extract(context, '$.via')), ''), 'api'),
            context = json_remove(context, '$.via')
        WHERE json_type(context, '$.via') IS NOT NULL
    """,
}
PUT_BACK = {
    "postgresql": """
        UPDATE tickets
        SET context = CASE WHEN jsonb_typeof(context) = 'object' THEN context
                           ELSE '{}'::jsonb END || jsonb_build_object('via', via)
    """,
    "sqlite": """
        UPDATE tickets
        SET context = json_set(CASE WHEN json_type(context) = 'object' THEN context
                                    ELSE '{}' END, '$.via', via)
    """,
}


def upgrade() -> None:
    op.add_column(
        "tickets",
        sa.Column("via", sa.String(length=32), server_default="api", nullable=False),
    )
    op.execute(BACKFILL[op.get_bind().dialect.name])
    for name, columns in INDEXES.items():
        op.create_index(name, "tickets", columns, unique=False)


def downgrade() -> None:
    op.execute(PUT_BACK[op.get_bind().dialect.name])
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
    op.drop_column("tickets", "via")
