"""Alembic environment. helpwire always hands it an open connection (see db/migrate.py)."""

from __future__ import annotations

from typing import Any

from alembic import context

from helpwire.db.migrate import configure_context

connection: Any = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `helpwire db upgrade`, which passes a connection")
configure_context(context, connection)
with context.begin_transaction():
    context.run_migrations()
