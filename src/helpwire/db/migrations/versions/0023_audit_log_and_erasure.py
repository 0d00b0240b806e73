"""the audit log, and when a user was erased

Revision ID: 0023
Revises: 0018
Create Date: 2026-12-05 22:10:00

``audit_log`` holds who changed users, tokens, channels, mail settings, groups, calendars,
SLA policies and rules, with before and after (secrets redacted). ``users.erased_at`` marks
a person whose personal data was erased: the row stays, anonymised, so that the tickets and
comments that name it stay whole.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)
AUDIT_INDEXES = {
    "ix_audit_log_actor_id_id": ["actor_id", "id"],
    "ix_audit_log_target_type_id": ["target_type", "id"],
    "ix_audit_log_at": ["at"],
    "ix_audit_log_subject_user_id": ["subject_user_id"],
}


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("at", _TIME, nullable=False),
        sa.Column(
            "actor_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL", name="fk_audit_log_actor_id_users"),
            nullable=True,
        ),
        sa.Column("actor_name", sa.String(150), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_key", sa.String(255), nullable=False),
        sa.Column(
            "subject_user_id",
            sa.Integer(),
            sa.ForeignKey(
                "users.id", ondelete="SET NULL", name="fk_audit_log_subject_user_id_users"
            ),
            nullable=True,
        ),
        sa.Column("before", _JSON, nullable=True),
        sa.Column("after", _JSON, nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    for name, columns in AUDIT_INDEXES.items():
        op.create_index(name, "audit_log", columns, unique=False)
    op.add_column("users", sa.Column("erased_at", _TIME, nullable=True))


def downgrade() -> None:
    op.drop_column("users", "erased_at")
    for name in AUDIT_INDEXES:
        op.drop_index(name, table_name="audit_log")
    op.drop_table("audit_log")
