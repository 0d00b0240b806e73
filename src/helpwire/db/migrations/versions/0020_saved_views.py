"""saved ticket views: filters and a sort, an agent's own or shared

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-05 22:00:00

``ticket_views`` keeps a ticket list by the list's own parameters (a JSON object, as the
API's ``filter``), its sort and order, and its place in the console's sidebar. A view
without an owner is shared (admins make those); one with an owner is that person's, and
goes with them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ticket_views",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column(
            "owner_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_ticket_views_owner_id_users"),
            nullable=True,
        ),
        sa.Column("filters", _JSON, nullable=False),
        sa.Column("sort", sa.String(32), nullable=False),
        sa.Column("order", sa.String(4), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_views"),
    )
    op.create_index(
        "ix_ticket_views_owner_id_position", "ticket_views", ["owner_id", "position"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_views_owner_id_position", table_name="ticket_views")
    op.drop_table("ticket_views")
