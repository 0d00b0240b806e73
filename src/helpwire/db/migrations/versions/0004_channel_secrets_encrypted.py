"""channel secrets, webhook URLs and SMTP passwords encrypted at rest

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 23:10:00

The columns become TEXT (an encrypted value is longer than the plain one) and every
existing value is encrypted with the keys of the engine running the migration
(HELPWIRE_SECRET_KEY or the key file; see db/secrets.py). SQLite does not enforce
VARCHAR lengths, so only PostgreSQL's columns are altered: rebuilding the channels table
on SQLite would cascade-delete its deliveries.
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from helpwire.db.secrets import PREFIX, box_for

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {"url": 2048, "secret": 255, "previous_secret": 255}


CHANNELS = sa.table("channels", sa.column("id"), *(sa.column(name) for name in COLUMNS))
# The SMTP password inside a channel's e-mail settings is encrypted too.
EMAILS = sa.table(
    "channels", sa.column("id"), sa.column("email", sa.JSON().with_variant(JSONB(), "postgresql"))
)


def _rewrite(change: Callable[[str], str | None]) -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(CHANNELS)).mappings().all():
        values = {}
        for column in COLUMNS:
            value = row[column]
            new_value = None if value is None else change(value)
            if new_value is not None:
                values[column] = new_value
        if values:
            bind.execute(CHANNELS.update().where(CHANNELS.c.id == row["id"]).values(**values))


def _rewrite_passwords(change: Callable[[str], str | None]) -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(EMAILS)).all():
        # Channels of other kinds hold a JSON null here.
        password = row.email.get("password") if isinstance(row.email, dict) else None
        new_password = change(password) if isinstance(password, str) else None
        if new_password is not None:
            email = {**row.email, "password": new_password}
            bind.execute(EMAILS.update().where(EMAILS.c.id == row.id).values(email=email))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in COLUMNS:
            op.alter_column("channels", column, type_=sa.Text())
    box = box_for(op.get_bind().dialect)
    _rewrite(lambda value: None if value.startswith(PREFIX) else box.encrypt(value))
    _rewrite_passwords(lambda value: None if value.startswith(PREFIX) else box.encrypt(value))


def downgrade() -> None:
    box = box_for(op.get_bind().dialect)
    _rewrite(lambda value: box.decrypt(value) if value.startswith(PREFIX) else None)
    _rewrite_passwords(lambda value: box.decrypt(value) if value.startswith(PREFIX) else None)
    if op.get_bind().dialect.name == "postgresql":
        for column, length in COLUMNS.items():
            op.alter_column("channels", column, type_=sa.String(length=length))
