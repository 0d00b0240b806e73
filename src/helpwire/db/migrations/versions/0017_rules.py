"""rules: triggers, automations, macros, what automations did; when a status last changed

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 20:00:00

``triggers`` run on events, ``automations`` on time (``rule_runs`` records that one acted on
a ticket for one occurrence of its condition, so it acts once), ``macros`` are canned
replies with field changes. ``tickets.status_changed_at`` is when the status last changed,
which automations wait on; existing tickets take their last update, the closest known.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)


def _rule_table(name: str, *extra: sa.Column[Any]) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        *extra,
        sa.Column("conditions", _JSON, nullable=False),
        sa.Column("actions", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        sa.UniqueConstraint("name", name=f"uq_{name}_name"),
    )


def upgrade() -> None:
    _rule_table("triggers", sa.Column("events", _JSON, nullable=False))
    _rule_table("automations")
    op.create_table(
        "macros",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column(
            "owner_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_macros_owner_id_users"),
            nullable=True,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_format", sa.String(16), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("actions", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_macros"),
    )
    op.create_index("ix_macros_owner_id_name", "macros", ["owner_id", "name"], unique=False)
    op.create_table(
        "rule_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "automation_id",
            sa.Integer(),
            sa.ForeignKey(
                "automations.id", ondelete="CASCADE", name="fk_rule_runs_automation_id_automations"
            ),
            nullable=False,
        ),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE", name="fk_rule_runs_ticket_id_tickets"),
            nullable=False,
        ),
        sa.Column("occurrence", sa.String(64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rule_runs"),
        sa.UniqueConstraint(
            "automation_id",
            "ticket_id",
            "occurrence",
            name="uq_rule_runs_automation_id_ticket_id_occurrence",
        ),
    )
    op.create_index("ix_rule_runs_ticket_id", "rule_runs", ["ticket_id"], unique=False)
    op.add_column("tickets", sa.Column("status_changed_at", _TIME, nullable=True))
    op.execute("UPDATE tickets SET status_changed_at = updated_at")
    op.create_index(
        "ix_tickets_status_changed",
        "tickets",
        ["status", "status_changed_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_status_changed", table_name="tickets")
    op.drop_column("tickets", "status_changed_at")
    op.drop_index("ix_rule_runs_ticket_id", table_name="rule_runs")
    op.drop_table("rule_runs")
    op.drop_index("ix_macros_owner_id_name", table_name="macros")
    op.drop_table("macros")
    op.drop_table("automations")
    op.drop_table("triggers")
