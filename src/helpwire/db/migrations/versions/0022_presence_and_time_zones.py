"""who is on a ticket's page, and each user's time zone

Revision ID: 0022
Revises: 0018
Create Date: 2026-12-05 22:00:00

``ticket_presence`` holds one row per person on a ticket's page (viewing or replying),
refreshed by their page's heartbeat and trusted only for a short while after ``seen_at``;
``users.time_zone`` the IANA zone pages show that person's times in (None: UTC).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("time_zone", sa.String(64), nullable=True))
    op.create_table(
        "ticket_presence",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_ticket_presence_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_ticket_presence_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name="pk_ticket_presence"),
    )
    op.create_index("ix_ticket_presence_seen_at", "ticket_presence", ["seen_at"])
    op.create_index("ix_ticket_presence_user_id", "ticket_presence", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_presence_user_id", table_name="ticket_presence")
    op.drop_index("ix_ticket_presence_seen_at", table_name="ticket_presence")
    op.drop_table("ticket_presence")
    op.drop_column("users", "time_zone")
