"""groups of staff and service levels: calendars, policies, each ticket's clocks

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 19:50:00

``groups`` and ``group_members`` are teams of staff; ``tickets.group_id`` the team working a
ticket (no foreign key: SQLite cannot add one to an existing table without rebuilding it,
and rebuilding ``tickets`` with foreign keys on would cascade into its comments);
``users.available`` whether a person takes new work. ``calendars`` (with the built-in 24/7
one), ``sla_policies`` and ``ticket_slas`` hold the service levels; ``tickets.sla``,
``sla_due_at`` and ``sla_breached`` what a ticket's answer and the queues show of them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)
TICKET_INDEXES = {
    "ix_tickets_group_created": ["group_id", "created_at", "id"],
    "ix_tickets_group_status": ["group_id", "status"],
    "ix_tickets_sla_due_at_id": ["sla_due_at", "id"],
    "ix_tickets_sla_breached_created": ["sla_breached", "created_at", "id"],
    "ix_tickets_sla_breached_status": ["sla_breached", "status"],
}


def upgrade() -> None:
    _groups()
    _sla_tables()
    op.add_column(
        "users", sa.Column("available", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    op.add_column("tickets", sa.Column("group_id", sa.Integer(), nullable=True))
    op.add_column("tickets", sa.Column("sla", _JSON, nullable=True))
    op.add_column("tickets", sa.Column("sla_due_at", _TIME, nullable=True))
    op.add_column(
        "tickets",
        sa.Column("sla_breached", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    for name, columns in TICKET_INDEXES.items():
        op.create_index(name, "tickets", columns, unique=False)
    now = sa.func.current_timestamp()
    calendars = sa.table(
        "calendars",
        sa.column("key", sa.String),
        sa.column("name", sa.String),
        sa.column("time_zone", sa.String),
        sa.column("custom_holidays", _JSON),
        sa.column("created_at", _TIME),
        sa.column("updated_at", _TIME),
    )
    op.execute(
        calendars.insert().values(
            key="24-7",
            name="24/7",
            time_zone="UTC",
            custom_holidays=sa.literal([], _JSON),
            created_at=now,
            updated_at=now,
        )
    )


def _groups() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "last_assigned_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL", name="fk_groups_last_assigned_id_users"),
            nullable=True,
        ),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_groups"),
        sa.UniqueConstraint("key", name="uq_groups_key"),
    )
    op.create_table(
        "group_members",
        sa.Column(
            "group_id",
            sa.Integer(),
            sa.ForeignKey("groups.id", ondelete="CASCADE", name="fk_group_members_group_id_groups"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_group_members_user_id_users"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_group_members"),
    )
    op.create_index("ix_group_members_user_id", "group_members", ["user_id"], unique=False)


def _sla_tables() -> None:
    op.create_table(
        "calendars",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("windows", _JSON, nullable=True),
        sa.Column("holiday_country", sa.String(8), nullable=True),
        sa.Column("holiday_subdivision", sa.String(16), nullable=True),
        sa.Column("custom_holidays", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_calendars"),
        sa.UniqueConstraint("key", name="uq_calendars_key"),
    )
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("conditions", _JSON, nullable=False),
        sa.Column("targets", _JSON, nullable=False),
        sa.Column("pause_statuses", _JSON, nullable=False),
        sa.Column("warning_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sla_policies"),
        sa.UniqueConstraint("name", name="uq_sla_policies_name"),
    )
    op.create_table(
        "ticket_slas",
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey(
                "tickets.id", ondelete="CASCADE", name="fk_ticket_slas_ticket_id_tickets"
            ),
            nullable=False,
        ),
        sa.Column(
            "policy_id",
            sa.Integer(),
            sa.ForeignKey(
                "sla_policies.id", ondelete="SET NULL", name="fk_ticket_slas_policy_id_sla_policies"
            ),
            nullable=True,
        ),
        sa.Column("clocks", _JSON, nullable=False),
        sa.Column("breaches", _JSON, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_ticket_slas"),
    )
    op.create_index("ix_ticket_slas_policy_id", "ticket_slas", ["policy_id"], unique=False)


def downgrade() -> None:
    for name in TICKET_INDEXES:
        op.drop_index(name, table_name="tickets")
    for column in ("sla_breached", "sla_due_at", "sla", "group_id"):
        op.drop_column("tickets", column)
    op.drop_column("users", "available")
    op.drop_index("ix_ticket_slas_policy_id", table_name="ticket_slas")
    op.drop_table("ticket_slas")
    op.drop_table("sla_policies")
    op.drop_table("calendars")
    op.drop_index("ix_group_members_user_id", table_name="group_members")
    op.drop_table("group_members")
    op.drop_table("groups")
