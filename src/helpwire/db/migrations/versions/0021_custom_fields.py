"""custom fields: their definitions, the topics that require them, each ticket's values

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-05 22:00:00

``custom_fields`` holds what admins define, ``custom_field_topics`` the topics a field is
required for, and ``ticket_field_values`` one row per value (a multi-select: per option
chosen) in the column of its type. Its partial indexes lead by the field, then the value,
then the ticket: a filter by a field reads the matching range of one index, a sort by a
field walks one field's rows in order (docs/architecture.md, "Custom fields").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)
VALUE_COLUMNS = ("text_value", "number_value", "date_value")


def upgrade() -> None:
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("options", _JSON, nullable=False),
        sa.Column("visible_to_customers", sa.Boolean(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_custom_fields"),
        sa.UniqueConstraint("key", name="uq_custom_fields_key"),
    )
    op.create_table(
        "custom_field_topics",
        sa.Column(
            "field_id",
            sa.Integer(),
            sa.ForeignKey(
                "custom_fields.id",
                ondelete="CASCADE",
                name="fk_custom_field_topics_field_id_custom_fields",
            ),
            nullable=False,
        ),
        sa.Column(
            "topic_id",
            sa.Integer(),
            sa.ForeignKey(
                "topics.id", ondelete="CASCADE", name="fk_custom_field_topics_topic_id_topics"
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("field_id", "topic_id", name="pk_custom_field_topics"),
    )
    op.create_index(
        "ix_custom_field_topics_topic_id", "custom_field_topics", ["topic_id"], unique=False
    )
    op.create_table(
        "ticket_field_values",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey(
                "tickets.id", ondelete="CASCADE", name="fk_ticket_field_values_ticket_id_tickets"
            ),
            nullable=False,
        ),
        sa.Column(
            "field_id",
            sa.Integer(),
            sa.ForeignKey(
                "custom_fields.id",
                ondelete="CASCADE",
                name="fk_ticket_field_values_field_id_custom_fields",
            ),
            nullable=False,
        ),
        sa.Column("text_value", sa.String(255), nullable=True),
        sa.Column("number_value", sa.Float(), nullable=True),
        sa.Column("date_value", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_field_values"),
    )
    op.create_index(
        "ix_ticket_field_values_ticket_field",
        "ticket_field_values",
        ["ticket_id", "field_id"],
        unique=False,
    )
    for column in VALUE_COLUMNS:
        present = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_ticket_field_values_{column}",
            "ticket_field_values",
            ["field_id", column, "ticket_id"],
            unique=False,
            postgresql_where=present,
            sqlite_where=present,
        )


def downgrade() -> None:
    for column in VALUE_COLUMNS:
        op.drop_index(f"ix_ticket_field_values_{column}", table_name="ticket_field_values")
    op.drop_index("ix_ticket_field_values_ticket_field", table_name="ticket_field_values")
    op.drop_table("ticket_field_values")
    op.drop_index("ix_custom_field_topics_topic_id", table_name="custom_field_topics")
    op.drop_table("custom_field_topics")
    op.drop_table("custom_fields")
