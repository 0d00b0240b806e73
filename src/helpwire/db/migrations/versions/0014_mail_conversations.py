"""conversations by e-mail: CC addresses, the messages of a ticket's thread, templates

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 17:30:00

``ticket_cc`` holds the addresses that hear of a ticket besides its requester;
``mail_messages`` every message sent (and later received) for a ticket, whose Message-IDs
thread the conversation in mail programs; ``mail_templates`` the admins' own versions of
the messages; ``users.language`` the language helpwire writes to a person in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("users", sa.Column("language", sa.String(16), nullable=True))
    op.create_table(
        "ticket_cc",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE", name="fk_ticket_cc_ticket_id_tickets"),
            nullable=False,
        ),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column(
            "added_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL", name="fk_ticket_cc_added_by_id_users"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_cc"),
        sa.UniqueConstraint("ticket_id", "address", name="uq_ticket_cc_ticket_id_address"),
    )
    op.create_table(
        "mail_messages",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("message_id", sa.String(512), nullable=False),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey(
                "tickets.id", ondelete="SET NULL", name="fk_mail_messages_ticket_id_tickets"
            ),
            nullable=True,
        ),
        sa.Column(
            "comment_id",
            sa.Integer(),
            sa.ForeignKey(
                "comments.id", ondelete="SET NULL", name="fk_mail_messages_comment_id_comments"
            ),
            nullable=True,
        ),
        sa.Column(
            "delivery_id",
            _BIG_ID,
            sa.ForeignKey(
                "deliveries.id", ondelete="SET NULL", name="fk_mail_messages_delivery_id_deliveries"
            ),
            nullable=True,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("sender", sa.String(254), nullable=False),
        sa.Column("recipients", _JSON, nullable=False),
        sa.Column("cc", _JSON, nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("details", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mail_messages"),
        sa.UniqueConstraint(
            "direction", "message_id", name="uq_mail_messages_direction_message_id"
        ),
    )
    op.create_index("ix_mail_messages_ticket", "mail_messages", ["ticket_id", "id"])
    op.create_table(
        "mail_templates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column(
            "updated_by_id",
            sa.Integer(),
            sa.ForeignKey(
                "users.id", ondelete="SET NULL", name="fk_mail_templates_updated_by_id_users"
            ),
            nullable=True,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mail_templates"),
        sa.UniqueConstraint("kind", "language", name="uq_mail_templates_kind_language"),
    )


def downgrade() -> None:
    op.drop_table("mail_templates")
    op.drop_index("ix_mail_messages_ticket", table_name="mail_messages")
    op.drop_table("mail_messages")
    op.drop_table("ticket_cc")
    # Not a batch (which copies the table on SQLite, and with foreign keys on, dropping the
    # old users table would take every row that refers to it along): SQLite has dropped
    # columns itself since 3.35.
    op.drop_column("users", "language")
