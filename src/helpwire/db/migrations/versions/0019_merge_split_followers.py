"""tickets merged and split, and the staff who follow tickets

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 22:00:00

``ticket_followers`` holds the staff who follow a ticket (its console queue and the
channels whose ``followers`` filter names them). A comment that a merge or a split moved to
another ticket keeps the number of the ticket it came from and when
(``comments.moved_from_number``, ``moved_at``; a number, which never changes, so that
answers show it without a join). ``tickets.split_from_id`` and ``merged_into_id`` existed already;
their new indexes find a ticket's merged and split-off tickets.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)
TICKET_INDEXES = {
    "ix_tickets_split_from_id": ["split_from_id"],
    "ix_tickets_merged_into_id": ["merged_into_id"],
}


def upgrade() -> None:
    op.create_table(
        "ticket_followers",
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey(
                "tickets.id", ondelete="CASCADE", name="fk_ticket_followers_ticket_id_tickets"
            ),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_ticket_followers_user_id_users"),
            nullable=False,
        ),
        sa.Column(
            "added_by_id",
            sa.Integer(),
            sa.ForeignKey(
                "users.id", ondelete="SET NULL", name="fk_ticket_followers_added_by_id_users"
            ),
            nullable=True,
        ),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name="pk_ticket_followers"),
    )
    # A follower's queue: the tickets one user follows.
    op.create_index("ix_ticket_followers_user_ticket", "ticket_followers", ["user_id", "ticket_id"])
    op.add_column("comments", sa.Column("moved_from_number", sa.BigInteger(), nullable=True))
    op.add_column("comments", sa.Column("moved_at", _TIME, nullable=True))
    for name, columns in TICKET_INDEXES.items():
        op.create_index(name, "tickets", columns, unique=False)


def downgrade() -> None:
    for name in TICKET_INDEXES:
        op.drop_index(name, table_name="tickets")
    for column in ("moved_at", "moved_from_number"):
        op.drop_column("comments", column)
    op.drop_index("ix_ticket_followers_user_ticket", table_name="ticket_followers")
    op.drop_table("ticket_followers")
