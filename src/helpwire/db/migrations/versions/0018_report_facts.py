"""reports: one row of facts per ticket, and their daily aggregates

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 20:30:00

``ticket_facts`` holds what reports need of each ticket in indexed columns. Existing tickets
get theirs here: their times, people and places, rating, and the first public reply by
staff read from the comments; their reply and resolution times are wall-clock seconds
(they were filed before SLA calendars existed). At a million tickets this takes about a
minute. ``report_days`` and ``report_months`` count the facts by day (month), measure and
place; changes append to ``report_deltas``, which a job folds into them every minute; a job
(``reports.rebuild``) counts the existing facts into it once the worker runs, since the
buckets are computed by helpwire's code, not by SQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)
INDEXES = {
    "ix_ticket_facts_created": ["created_at"],
    "ix_ticket_facts_solved": ["solved_at"],
    "ix_ticket_facts_rated": ["rated_at"],
    "ix_ticket_facts_assignee_created": ["assignee_id", "created_at"],
    "ix_ticket_facts_group_created": ["group_id", "created_at"],
    "ix_ticket_facts_topic_created": ["topic_id", "created_at"],
    "ix_ticket_facts_account_created": ["account_id", "created_at"],
}
_FIRST_REPLY = (
    "(SELECT min(c.created_at) FROM comments c JOIN users u ON u.id = c.author_id "
    "WHERE c.ticket_id = t.id AND c.internal = {false} AND u.role IN ('agent', 'admin') "
    "AND c.created_at > t.created_at)"
)


def _seconds(dialect: str, later: str, earlier: str) -> str:
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"(julianday({later}) - julianday({earlier})) * 86400.0"


def upgrade() -> None:
    op.create_table(
        "ticket_facts",
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey(
                "tickets.id", ondelete="CASCADE", name="fk_ticket_facts_ticket_id_tickets"
            ),
            nullable=False,
        ),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("solved_at", _TIME, nullable=True),
        sa.Column("first_reply_at", _TIME, nullable=True),
        sa.Column("first_reply_seconds", sa.Float(), nullable=True),
        sa.Column("resolution_seconds", sa.Float(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("rating_score", sa.SmallInteger(), nullable=True),
        sa.Column("rated_at", _TIME, nullable=True),
        sa.Column("sla_first_reply_met", sa.Boolean(), nullable=True),
        sa.Column("sla_next_reply_met", sa.Boolean(), nullable=True),
        sa.Column("sla_resolution_met", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_ticket_facts"),
    )
    dialect = op.get_bind().dialect.name
    false = "false" if dialect == "postgresql" else "0"
    first_reply = _FIRST_REPLY.format(false=false)
    op.execute(
        "INSERT INTO ticket_facts (ticket_id, created_at, solved_at, first_reply_at, "  # noqa: S608 (fixed text)
        "assignee_id, group_id, topic_id, account_id, rating_score, rated_at) "
        "SELECT t.id, t.created_at, "
        "CASE WHEN t.status IN ('solved', 'closed') THEN t.solved_at END, "
        f"{first_reply}, t.assignee_id, t.group_id, t.topic_id, t.account_id, "
        "t.rating_score, t.rated_at FROM tickets t"
    )
    op.execute(
        "UPDATE ticket_facts SET "  # noqa: S608 (fixed text per engine)
        f"first_reply_seconds = {_seconds(dialect, 'first_reply_at', 'created_at')}, "
        f"resolution_seconds = {_seconds(dialect, 'solved_at', 'created_at')}"
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "ticket_facts", columns, unique=False)
    _report_days()
    _report_deltas()
    jobs = sa.table(
        "jobs",
        sa.column("kind", sa.String),
        sa.column("key", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("state", sa.String),
        sa.column("run_at", _TIME),
        sa.column("attempts", sa.Integer),
        sa.column("max_attempts", sa.Integer),
        sa.column("created_at", _TIME),
        sa.column("updated_at", _TIME),
    )
    now = sa.func.current_timestamp()
    op.execute(
        jobs.insert().from_select(
            [c.name for c in jobs.columns],
            sa.select(
                sa.literal("reports.rebuild"),
                sa.literal("reports.rebuild"),
                sa.literal({}, sa.JSON),
                sa.literal("pending"),
                now,
                sa.literal(0),
                sa.literal(10),
                now,
                now,
            ).where(sa.exists(sa.select(sa.literal(1)).select_from(sa.table("ticket_facts")))),
        )
    )


def _report_days() -> None:
    for table, period, width in (("report_days", "day", 10), ("report_months", "month", 7)):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("metric", sa.String(24), nullable=False),
            sa.Column("dim", sa.String(8), nullable=False),
            sa.Column("dim_id", sa.Integer(), nullable=False),
            sa.Column(period, sa.String(width), nullable=False),
            sa.Column("bucket", sa.Integer(), nullable=False),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        )
        op.create_index(
            f"ix_{table}_place", table, ["metric", "dim", "dim_id", period, "bucket"], unique=True
        )
        op.create_index(
            f"ix_{table}_breakdown",
            table,
            ["metric", "dim", period, "dim_id", "bucket"],
            unique=False,
        )


def _report_deltas() -> None:
    op.create_table(
        "report_deltas",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("metric", sa.String(24), nullable=False),
        sa.Column("dim", sa.String(8), nullable=False),
        sa.Column("dim_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_deltas"),
    )


def downgrade() -> None:
    op.drop_table("report_deltas")
    for table in ("report_months", "report_days"):
        op.drop_index(f"ix_{table}_breakdown", table_name=table)
        op.drop_index(f"ix_{table}_place", table_name=table)
        op.drop_table(table)
    for name in INDEXES:
        op.drop_index(name, table_name="ticket_facts")
    op.drop_table("ticket_facts")
