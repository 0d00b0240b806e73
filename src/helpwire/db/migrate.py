"""Running Alembic migrations from code, on an async engine, for both dialects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, String
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from helpwire.db.base import UTCDateTime
from helpwire.db.models import Base
from helpwire.db.secrets import EncryptedText

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Tables that only exist on one dialect (the SQLite FTS5 index and its shadow tables);
# they are created by hand in the migrations and are not part of the metadata.
DIALECT_ONLY_TABLE_PREFIX = "search_fts"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _include_name(name: str | None, type_: str, _parents: dict[str, str | None]) -> bool:
    return not (
        type_ == "table" and name is not None and name.startswith(DIALECT_ONLY_TABLE_PREFIX)
    )


# PostgreSQL's half of the search index, created by hand in the migrations: stored tsvector
# columns of search_tickets, their GIN indexes, and the old expression index.
_DIALECT_ONLY_COLUMNS = frozenset({"public_tsv", "all_tsv"})
_DIALECT_ONLY_INDEXES = frozenset(
    {
        "ix_search_documents_fts",
        "ix_search_tickets_public_tsv",
        "ix_search_tickets_all_tsv",
        "ix_search_tickets_account_public_tsv",
    }
)


def _include_object(obj: Any, name: str | None, type_: str, reflected: bool, _compare: Any) -> bool:
    if not reflected:
        return True
    if type_ == "index":
        return name not in _DIALECT_ONLY_INDEXES
    return not (type_ == "column" and name in _DIALECT_ONLY_COLUMNS)


def _render_item(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    # Migrations must not import application code: UTCDateTime is a DateTime(timezone=True).
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, EncryptedText):
        return "sa.Text()"
    return False


def _compare_type(
    _context: Any, _inspected: Any, metadata_column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    if isinstance(metadata_type, UTCDateTime):
        return not isinstance(inspected_type, DateTime)
    if isinstance(metadata_type, EncryptedText):
        # TEXT on PostgreSQL; SQLite keeps the VARCHAR it had (it enforces no length).
        return not isinstance(inspected_type, String)
    return None


def configure_context(context: Any, connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_name=_include_name,
        include_object=_include_object,
        render_item=_render_item,
        compare_type=_compare_type,
        render_as_batch=connection.dialect.name == "sqlite",
    )


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def _current(connection: Connection) -> tuple[str | None, str | None]:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    current = MigrationContext.configure(connection).get_current_revision()
    return current, head


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


async def revision_status(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """(revision the database is at, newest revision this code knows)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def _diff(connection: Connection) -> list[Any]:
    mc = MigrationContext.configure(
        connection,
        opts={
            "include_name": _include_name,
            "include_object": _include_object,
            "compare_type": _compare_type,
        },
    )
    return list(compare_metadata(mc, Base.metadata))


async def schema_differences(engine: AsyncEngine) -> list[Any]:
    """What autogenerate would change: empty when the models and migrations agree."""
    async with engine.connect() as conn:
        return await conn.run_sync(_diff)


__all__ = ["alembic_config", "downgrade", "revision_status", "schema_differences", "upgrade"]


def _downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade, revision)
