"""a tag's rows carry their ticket's creation time: a tag's list newest first reads them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 15:00:00

A list by tag, newest first, walked the tickets from the newest and looked each one up in
the tag's rows until a page was full: for a tag on 0.36 % of a million tickets, some 7,000
look-ups (4 to 6 ms). With the ticket's creation time in the tag's rows, indexed as
(tag, ticket_created_at, ticket_id), the page is the index's first rows. A ticket's
creation time never changes, so the copy never goes stale. The index replaces the one on
the tag alone (its first column).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_ticket_tags_tag_created"


def upgrade() -> None:
    op.add_column(
        "ticket_tags", sa.Column("ticket_created_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(
        "UPDATE ticket_tags SET ticket_created_at ="
        " (SELECT created_at FROM tickets WHERE tickets.id = ticket_tags.ticket_id)"
    )
    with op.batch_alter_table("ticket_tags") as batch_op:
        batch_op.alter_column(
            "ticket_created_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.drop_index("ix_ticket_tags_tag")
        batch_op.create_index(INDEX, ["tag", "ticket_created_at", "ticket_id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE ticket_tags")  # a new index has no statistics (see 0010)


def downgrade() -> None:
    with op.batch_alter_table("ticket_tags") as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.create_index("ix_ticket_tags_tag", ["tag"])
        batch_op.drop_column("ticket_created_at")
