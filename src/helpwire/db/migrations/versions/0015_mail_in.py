"""mail in: the state of each received message, and its bytes as they came

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 18:00:00

A received message is stored before it is processed (``mail_raw`` holds its bytes), so that
nothing a mail server handed over is lost; ``mail_messages`` says what became of it. The
index on (direction, state, id) lists the quarantine and finds messages left unprocessed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("mail_messages", sa.Column("state", sa.String(16), nullable=True))
    op.add_column("mail_messages", sa.Column("reason", sa.Text(), nullable=True))
    op.add_column("mail_messages", sa.Column("size", sa.BigInteger(), nullable=True))
    op.add_column(
        "mail_messages", sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_mail_messages_direction_state", "mail_messages", ["direction", "state", "id"]
    )
    op.create_table(
        "mail_raw",
        sa.Column(
            "message_id",
            _BIG_ID,
            sa.ForeignKey(
                "mail_messages.id", ondelete="CASCADE", name="fk_mail_raw_message_id_mail_messages"
            ),
            nullable=False,
        ),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name="pk_mail_raw"),
    )


def downgrade() -> None:
    op.drop_table("mail_raw")
    op.drop_index("ix_mail_messages_direction_state", table_name="mail_messages")
    for column in ("processed_at", "size", "reason", "state"):
        op.drop_column("mail_messages", column)
