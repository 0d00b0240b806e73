"""search reads one document per ticket: search_tickets

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 14:00:00

A search used to match single texts (search_documents: a row per subject, comment and file
name) and join them to their tickets. At a million tickets that was seconds: PostgreSQL
walked the tickets newest first and recomputed every comment's tsvector, SQLite built the
whole list of matches before sorting it. `search_tickets` has one row per ticket, keyed by
the ticket id (which grows with the creation time), with the text customers may search
apart from the internal notes: newest-first search reads the index in its own order and
stops after a page. search_documents stays the record of each text; the application
rebuilds a ticket's row from it in the same transaction as every text it writes.

PostgreSQL: stored tsvector columns (the public text; all of it for staff) with GIN indexes,
whose statistics tell the planner how common a word is. The expression index on
search_documents goes. SQLite: an external-content FTS5 table over search_tickets, with the
account as a third column so that a customer's search narrows inside FTS5; the FTS5 table
over search_documents goes. Both are filled from the existing texts on upgrade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FTS_TRIGGERS = (
    "search_fts_tickets_insert",
    "search_fts_tickets_delete",
    "search_fts_tickets_update",
)
_COLUMNS = "public_text, internal_text, account_id"
_NEW = "new.public_text, new.internal_text, new.account_id"
_OLD = "old.public_text, old.internal_text, old.account_id"


def upgrade() -> None:
    op.create_table(
        "search_tickets",
        sa.Column("ticket_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("public_text", sa.Text(), nullable=False),
        sa.Column("internal_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_search_tickets_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_search_tickets")),
    )
    with op.batch_alter_table("search_tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_tickets_account_ticket", ["account_id", "ticket_id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def _postgresql_upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_search_documents_fts")
    op.execute(
        "ALTER TABLE search_tickets "
        "ADD COLUMN public_tsv tsvector GENERATED ALWAYS AS "
        "(to_tsvector('simple', public_text)) STORED, "
        "ADD COLUMN all_tsv tsvector GENERATED ALWAYS AS "
        "(to_tsvector('simple', public_text || ' ' || internal_text)) STORED"
    )
    op.execute(_FILL.format(agg="string_agg", internal="internal", public="NOT internal"))
    op.execute("CREATE INDEX ix_search_tickets_public_tsv ON search_tickets USING gin (public_tsv)")
    op.execute("CREATE INDEX ix_search_tickets_all_tsv ON search_tickets USING gin (all_tsv)")
    op.execute("ANALYZE search_tickets")


def _sqlite_upgrade() -> None:
    for trigger in ("search_fts_insert", "search_fts_delete", "search_fts_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS search_fts")
    op.execute(_FILL.format(agg="group_concat", internal="internal", public="NOT internal"))
    _create_sqlite_fts()
    op.execute("INSERT INTO search_fts_tickets(search_fts_tickets) VALUES ('rebuild')")


# A ticket's texts in the order they were written, as the application joins them.
_FILL = (
    "INSERT INTO search_tickets (ticket_id, account_id, public_text, internal_text) "
    "SELECT t.id, t.account_id, "
    "coalesce({agg}(CASE WHEN {public} THEN d.body END, ' '), ''), "
    "coalesce({agg}(CASE WHEN {internal} THEN d.body END, ' '), '') "
    "FROM tickets t JOIN (SELECT * FROM search_documents ORDER BY id) d ON d.ticket_id = t.id "
    "GROUP BY t.id, t.account_id"
)


def _create_sqlite_fts() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE search_fts_tickets USING fts5("
        f"{_COLUMNS}, content='search_tickets', content_rowid='ticket_id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    insert, delete, update = _FTS_TRIGGERS
    # Built from the constants above only.
    op.execute(
        f"CREATE TRIGGER {insert} AFTER INSERT ON search_tickets BEGIN "  # noqa: S608
        f"INSERT INTO search_fts_tickets(rowid, {_COLUMNS}) VALUES (new.ticket_id, {_NEW}); END"
    )
    op.execute(
        f"CREATE TRIGGER {delete} AFTER DELETE ON search_tickets BEGIN "  # noqa: S608
        f"INSERT INTO search_fts_tickets(search_fts_tickets, rowid, {_COLUMNS}) "
        f"VALUES ('delete', old.ticket_id, {_OLD}); END"
    )
    op.execute(
        f"CREATE TRIGGER {update} AFTER UPDATE ON search_tickets BEGIN "  # noqa: S608
        f"INSERT INTO search_fts_tickets(search_fts_tickets, rowid, {_COLUMNS}) "
        f"VALUES ('delete', old.ticket_id, {_OLD}); "
        f"INSERT INTO search_fts_tickets(rowid, {_COLUMNS}) VALUES (new.ticket_id, {_NEW}); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_search_documents_fts ON search_documents "
            "USING gin (to_tsvector('simple', body))"
        )
    else:
        for trigger in _FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts_tickets")
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5("
            "body, content='search_documents', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER search_fts_insert AFTER INSERT ON search_documents BEGIN "
            "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER search_fts_delete AFTER DELETE ON search_documents BEGIN "
            "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
            "END"
        )
        op.execute(
            "CREATE TRIGGER search_fts_update AFTER UPDATE ON search_documents BEGIN "
            "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
            "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END"
        )
        op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    with op.batch_alter_table("search_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_search_tickets_account_ticket")
    op.drop_table("search_tickets")
